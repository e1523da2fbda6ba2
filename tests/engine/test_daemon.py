"""``docker-daemon:`` against a real engine (podman's Docker-compatible API service).

Ground truth: the same image read from its OCI layout. Images reach the engine two ways:
``skopeo copy oci:… docker-archive:…`` + ``podman load`` and a docker-save tarball written
by ``tests.builders`` + ``podman load``."""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path

import docker
import pytest

from inspector.analysis import analyze, open_image
from inspector.errors import EngineError, ImageNotFound
from inspector.options import Options
from inspector.report.export import write_export
from inspector.sources.base import validate_image
from tests.builders import Entry, ImageSpec, make_layer, write_docker_archive, write_oci_layout
from tests.tools import require_tool

APP = b"\x7fELF" + bytes(range(256)) * 8

CASES = [
    ("one-layer", [make_layer({"etc": Entry("dir"), "etc/passwd": b"root:x:0:0::/root:/sbin/nologin\n",
                               "app": Entry("file", APP, mode=0o755)})], {}),
    ("whiteouts", [
        make_layer({"usr/share/doc/a/README": b"a" * 3000, "var/cache/x": b"x" * 100, "bin/sh": b"#!"}),
        make_layer({"var/cache/y": b"y"}, whiteouts=["usr/share/doc/a"], opaque=["var/cache"]),
        make_layer({"bin/busybox": Entry("file", b"bb", mode=0o4755), "bin/ls": Entry("hardlink", target="bin/busybox"),
                    "bin/cat": Entry("symlink", target="busybox")}, compression=None),
    ], {"Env": ["PATH=/bin"]}),
    ("history-zstd-free", [make_layer({"a": b"1"}), make_layer({"b": b"2"}, compression=None)],
     {"history": [{"created_by": "ADD a /"}, {"created_by": "ENV X=1", "empty_layer": True},
                  {"created_by": "ADD b /"}]}),
]


def export(reference: str, options: Options) -> dict:
    with open_image(reference, options) as image:
        assert image.source == ("docker-daemon" if reference.startswith("docker-daemon:") else image.source)
        buf = io.StringIO()
        write_export(analyze(image, options), buf)
    return json.loads(buf.getvalue())


def assert_same_image(got: dict, want: dict) -> None:
    assert got["files"] == want["files"]
    assert [la["diff_id"] for la in got["layers"]] == [la["diff_id"] for la in want["layers"]]
    assert [la["created_by"] for la in got["layers"]] == [la["created_by"] for la in want["layers"]]
    assert got["config"] == want["config"]
    assert got["packages"] == want["packages"]


def spec_for(case: str, layers: list[bytes], extra: dict) -> ImageSpec:
    return ImageSpec(layers, ref_name=f"localhost/inspector-test/{case}:v1", config_extra=dict(extra))


@pytest.fixture(scope="session")
def loaded(podman, tmp_path_factory) -> dict[str, Path]:
    """Every case loaded into the engine twice (skopeo and a builders docker-archive) under
    two names; returns case → its OCI layout directory."""
    require_tool("skopeo")
    root = tmp_path_factory.mktemp("images")
    layouts = {}
    for case, layers, extra in CASES:
        spec = spec_for(case, layers, extra)
        layouts[case] = root / case
        write_oci_layout(layouts[case], [spec])
        podman.skopeo_to_archive(f"oci:{layouts[case]}:{spec.ref_name}", root / f"{case}.tar", spec.ref_name)
        podman.load(root / f"{case}.tar")
        legacy = ImageSpec(layers, ref_name=f"localhost/inspector-legacy/{case}:v1", config_extra=dict(extra))
        write_docker_archive(root / f"{case}-legacy.tar", [legacy], flavour="legacy")
        podman.load(root / f"{case}-legacy.tar")
    return layouts


@pytest.fixture
def save_calls(monkeypatch) -> list[str]:
    """Names passed to ``docker save`` (``APIClient.get_image``) during the test."""
    calls: list[str] = []
    real = docker.api.client.APIClient.get_image

    def counting(self, image, *args, **kwargs):
        calls.append(image)
        return real(self, image, *args, **kwargs)

    monkeypatch.setattr(docker.api.client.APIClient, "get_image", counting)
    return calls


@pytest.mark.parametrize("loader", ["inspector-test", "inspector-legacy"])
@pytest.mark.parametrize("case", [c[0] for c in CASES])
def test_engine_export_equals_oci_layout(case, loader, loaded, engine_env, tmp_path, save_calls):
    want = export(f"oci:{loaded[case]}", Options(cache_dir=tmp_path / "oci-cache", quiet=True))
    options = Options(cache_dir=tmp_path / "engine-cache", quiet=True)
    got = export(f"docker-daemon:localhost/{loader}/{case}:v1", options)
    assert got["source"] == "docker-daemon"
    assert_same_image(got, want)
    assert len(save_calls) == 1
    assert list((tmp_path / "engine-cache" / "tmp").iterdir()) == []  # the spool is gone


def test_conformance_and_by_id(loaded, engine_env, options, podman):
    image_id = podman.run("image", "inspect", "--format", "{{.Id}}", "localhost/inspector-test/whiteouts:v1").strip()
    for name in (f"sha256:{image_id}", image_id[:12], "localhost/inspector-test/whiteouts:v1"):
        with open_image(f"docker-daemon:{name}", options) as image:
            validate_image(image)
            assert image.source == "docker-daemon"
            assert image.config_digest == f"sha256:{image_id}"


def test_warm_cache_does_not_call_docker_save(loaded, engine_env, options, save_calls):
    ref = "docker-daemon:localhost/inspector-test/whiteouts:v1"
    cold = export(ref, options)
    assert save_calls == ["localhost/inspector-test/whiteouts:v1"]
    warm = export(ref, options)
    assert save_calls == ["localhost/inspector-test/whiteouts:v1"]  # no second save
    assert warm == cold  # byte-exact config and manifest: same digests, same everything


def test_the_warm_path_is_the_callers_predicate(loaded, engine_env, options, save_calls):
    """Sources do not import the index: without the ``indexed`` predicate that
    ``analysis.open_image`` passes, a warm record is not trusted and the image is saved."""
    from inspector.sources import resolve

    ref = "docker-daemon:localhost/inspector-test/whiteouts:v1"
    export(ref, options)
    with resolve.open_image(ref, options) as image:
        assert len(save_calls) == 2 and image.layers
    with resolve.open_image(ref, options, indexed=lambda diff_id: True) as image:
        assert len(save_calls) == 2  # the predicate says every layer is cached


def test_warm_open_with_a_lost_index_entry_saves_after_all(loaded, engine_env, options, save_calls):
    ref = "docker-daemon:localhost/inspector-test/whiteouts:v1"
    cold = export(ref, options)
    with open_image(ref, options) as image:
        assert len(save_calls) == 1  # warm: nothing saved yet
        for f in (options.resolved_cache_dir() / "index").rglob("*.idx"):
            f.unlink()  # the entries vanish between the check and the indexing
        buf = io.StringIO()
        write_export(analyze(image, options), buf)
    assert len(save_calls) == 2
    assert json.loads(buf.getvalue()) == cold
    assert list((options.resolved_cache_dir() / "tmp").iterdir()) == []


def test_retagged_name_is_read_again(loaded, engine_env, options, podman, save_calls):
    """The skeleton is keyed by the engine's image Id: the same name on another image is
    never answered from the cache."""
    name = "localhost/inspector-test/moving:v1"
    podman.run("tag", "localhost/inspector-test/one-layer:v1", name)
    first = export(f"docker-daemon:{name}", options)
    podman.run("tag", "localhost/inspector-test/whiteouts:v1", name)
    second = export(f"docker-daemon:{name}", options)
    assert len(save_calls) == 2
    assert first["files"] != second["files"]
    assert [la["diff_id"] for la in second["layers"]] == \
        [la["diff_id"] for la in export(f"oci:{loaded['whiteouts']}", Options(cache_dir=options.cache_dir / "o"))["layers"]]


def test_podman_engine_selected_by_container_host(loaded, podman, monkeypatch, options):
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setenv("CONTAINER_HOST", podman.host)
    options.engine = "podman"
    with open_image("docker-daemon:localhost/inspector-test/one-layer:v1", options) as image:
        validate_image(image)
    with pytest.raises(ImageNotFound) as err:
        open_image("docker-daemon:localhost/inspector-test/absent:v1", options)
    assert "podman engine" in str(err.value) and "`podman images`" in str(err.value)


def _stale_socket(path: Path) -> str:
    """A socket file nobody listens on (an engine that died): connection refused."""
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()
    return f"unix://{path}"


ERRORS = [
    # (name, DOCKER_HOST (None: the test engine), reference, error, words in the message)
    ("no-socket", lambda tmp: f"unix://{tmp}/nothing.sock", "docker-daemon:x:v1", EngineError,
     ["not running", "nothing.sock", "DOCKER_HOST"]),
    ("stale-socket", lambda tmp: _stale_socket(tmp / "dead.sock"), "docker-daemon:x:v1", EngineError,
     ["not running", "dead.sock"]),
    ("tcp-refused", lambda tmp: "tcp://127.0.0.1:1", "docker-daemon:x:v1", EngineError, ["127.0.0.1:1"]),
    ("image-not-found", None, "docker-daemon:localhost/inspector-test/absent:v1", ImageNotFound,
     ["no image", "absent", "docker images"]),
]


@pytest.mark.parametrize("name,host,reference,error,words", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_are_one_line(name, host, reference, error, words, engine_env, options, tmp_path, monkeypatch):
    if host is not None:
        monkeypatch.setenv("DOCKER_HOST", host(tmp_path))
    with pytest.raises(error) as err:
        open_image(reference, options)
    message = str(err.value)
    assert "\n" not in message
    for word in words:
        assert word in message


CLI = [
    # (name, argv after `inspector export`, environment changes, exit code, stderr words)
    ("source-podman", ["--source", "podman", "localhost/inspector-test/one-layer:v1"],
     lambda pm, tmp: {"CONTAINER_HOST": pm.host, "DOCKER_HOST": None}, 0, []),
    ("docker-daemon", ["docker-daemon:localhost/inspector-test/one-layer:v1"],
     lambda pm, tmp: {"DOCKER_HOST": pm.host}, 0, []),
    ("engine-down", ["docker-daemon:localhost/inspector-test/one-layer:v1"],
     lambda pm, tmp: {"DOCKER_HOST": f"unix://{tmp}/gone.sock"}, 1, ["inspector: the Docker engine is not running"]),
]


@pytest.mark.parametrize("name,argv,env,code,words", CLI, ids=[c[0] for c in CLI])
def test_cli(name, argv, env, code, words, loaded, podman, tmp_path):
    import os
    import subprocess
    import sys

    environ = dict(os.environ)
    for key in ("DOCKER_CONTEXT", "CONTAINER_HOST", "DOCKER_HOST"):
        environ.pop(key, None)
    for key, value in env(podman, tmp_path).items():
        if value is not None:
            environ[key] = value
    out = tmp_path / "out.json"
    done = subprocess.run([sys.executable, "-c", "import sys; from inspector.cli import main; sys.exit(main())", "export", *argv, "-q", "--cache-dir",
                           str(tmp_path / "cache"), "-o", str(out)],
                          env=environ, capture_output=True, text=True, timeout=300)
    assert done.returncode == code, done.stderr
    for word in words:
        assert word in done.stderr
    if code == 0:
        got = json.loads(out.read_text())
        assert got["source"] == "docker-daemon"
        want = export(f"oci:{loaded['one-layer']}", Options(cache_dir=tmp_path / "oci-cache", quiet=True))
        assert_same_image(got, want)
    else:
        assert len(done.stderr.strip().splitlines()) == 1
