"""Reference spellings (issue 12 "Outside the TUI"): syft's ``oci-dir:``, ``registry:``
and ``docker:`` schemes as aliases without stealing Docker Hub's ``registry:2`` or
``docker:dind``; ``-`` for an archive on stdin; ``--platform`` as a requirement on a
single-platform image (skopeo); the CLI's last-resort boundary for bugs."""

from __future__ import annotations

import pytest

from inspector import cli
from inspector.commands import COMMANDS
from inspector.commands.context import apply_source
from inspector.errors import InvalidReference, PlatformNotFound
from inspector.oci.platform import Platform
from inspector.options import Options
from inspector.reference import split_transport
from inspector.sources.resolve import open_image
from tests.builders import ImageSpec, make_layer, write_oci_layout

SPELLINGS = [  # (name, reference, transport, rest)
    ("syft oci-dir", "oci-dir:/x/layout", "oci", "/x/layout"),
    ("syft oci-dir with a tag", "oci-dir:/x/layout:v1", "oci", "/x/layout:v1"),
    ("syft registry with a host", "registry:ghcr.io/org/app:1", "registry", "ghcr.io/org/app:1"),
    ("syft registry with a tag", "registry:alpine:3.19", "registry", "alpine:3.19"),
    ("syft docker with a tag", "docker:alpine:3.19", "docker-daemon", "alpine:3.19"),
    ("syft docker with a repository", "docker:me/app", "docker-daemon", "me/app"),
    ("Docker Hub image registry", "registry:2", "registry", "registry:2"),
    ("Docker Hub image docker", "docker:dind", "registry", "docker:dind"),
    ("host named registry with a port", "registry:5000/app", "registry", "registry:5000/app"),
    ("docker:// stays the registry", "docker://alpine", "registry", "alpine"),
    ("docker-daemon is not an alias", "docker-daemon:app", "docker-daemon", "app"),
    ("stdin", "-", "path", "/dev/stdin"),
]


@pytest.mark.parametrize("name,reference,transport,rest", SPELLINGS, ids=[s[0] for s in SPELLINGS])
def test_reference_spellings(name, reference, transport, rest):
    t = split_transport(reference)
    assert (t.transport, t.rest) == (transport, rest)


SOURCE = [  # (name, reference, --source, what it becomes)
    ("bare name to the engine", "app:1", "docker", "docker-daemon:app:1"),
    ("bare name to podman", "app:1", "podman", "docker-daemon:app:1"),
    ("bare path to an archive", "save.tar", "docker-archive", "docker-archive:save.tar"),
    ("docker:// stays the registry", "docker://app:1", "docker", "docker://app:1"),
    ("registry: stays the registry", "registry:me/app:1", "docker", "registry:me/app:1"),
    ("oci: stays a layout", "oci:/x", "docker", "oci:/x"),
    ("stdin stays stdin", "-", "docker-archive", "-"),
]


@pytest.mark.parametrize("name,reference,engine,result", SOURCE, ids=[s[0] for s in SOURCE])
def test_dive_source_reroutes_only_bare_names(name, reference, engine, result):
    assert apply_source(reference, engine) == result


@pytest.mark.parametrize("reference", ["oci-dir:", ""])
def test_empty_reference_is_invalid(reference):
    with pytest.raises(InvalidReference):
        split_transport(reference)


@pytest.fixture
def arm64_layout(tmp_path):
    root = tmp_path / "oci"
    write_oci_layout(root, [ImageSpec([make_layer({"arch": b"arm64\n"})], platform="linux/arm64")])
    return root


PLATFORMS = [  # (name, Options fields, opens?)
    ("no --platform: the only image is taken", {}, True),
    ("--platform matching", {"platform": Platform.parse("linux/arm64"), "platform_required": True}, True),
    ("--platform aarch64 (an alias)", {"platform": Platform.parse("linux/aarch64"), "platform_required": True},
     True),
    ("--platform another arch", {"platform": Platform.parse("linux/amd64"), "platform_required": True}, False),
    ("--platform another os", {"platform": Platform.parse("windows/arm64"), "platform_required": True}, False),
]


@pytest.mark.parametrize("name,fields,opens", PLATFORMS, ids=[p[0] for p in PLATFORMS])
def test_platform_is_a_requirement_when_given(tmp_path, arm64_layout, name, fields, opens):
    options = Options(cache_dir=tmp_path / "cache", **fields)
    if opens:
        with open_image(f"oci:{arm64_layout}", options) as image:
            assert image.platform == "linux/arm64"
    else:
        with pytest.raises(PlatformNotFound) as info:
            open_image(f"oci:{arm64_layout}", options)
        assert info.value.where == f"oci:{arm64_layout}"


def test_platform_mismatch_from_the_cli_is_one_line(tmp_path, capsys, arm64_layout):
    code = cli.main(["export", f"oci:{arm64_layout}", "-q", "--cache-dir", str(tmp_path / "c"),
                     "--platform", "linux/amd64"])
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1 and "linux/arm64" in err, err


def test_a_bug_is_one_line_asking_for_a_report(tmp_path, capsys, monkeypatch):
    """The last-resort boundary: exit 2, one line, no traceback (no hostile input reaches
    it: tests/hostile asserts that)."""
    def broken(args, ctx):
        raise KeyError("a bug")

    monkeypatch.setattr(COMMANDS["export"], "run", broken)
    code = cli.main(["export", "sample:debian-12-slim", "-q", "--cache-dir", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "KeyError" in err and "please report this" in err


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_timeout_must_be_positive(capsys, value):
    with pytest.raises(SystemExit) as info:
        cli.main(["export", "x", "--timeout", value])
    assert info.value.code == 2
    assert "--timeout" in capsys.readouterr().err
