"""The compare model's security facts (who an image runs as, its executables and
interpreters) on images built here, and in every report format."""

from __future__ import annotations

import json

import pytest

from inspector.analysis import Analysis, analyze
from inspector.compare import compare_analyses
from inspector.compare.security import executables, runs_as, security_sets
from inspector.options import Options
from inspector.report.compare import render
from inspector.sources.resolve import open_image
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout

PASSWD = b"root:x:0:0:root:/root:/bin/sh\ntoor:x:0:0::/:/bin/sh\napp:x:1000:1000::/:/sbin/nologin\n"
FILES = {
    "etc/passwd": PASSWD,
    "usr/bin/python3": Entry("file", b"\x7fELF" + b"p" * 60, mode=0o755),
    "usr/bin/python3.11": Entry("hardlink", target="usr/bin/python3"),
    "usr/bin/su": Entry("file", b"\x7fELF" + b"s" * 60, mode=0o4755),
    "usr/lib/python3/os.py": b"import sys\n",  # the interpreter's module: not a program
    "app/run": Entry("file", b"#!/bin/sh\n", mode=0o700),  # owner-only x is still executable
    "app/data": Entry("file", b"d", mode=0o644),
}

# (name, config User, root?): unset, by name, by uid, a name /etc/passwd maps to uid 0,
# a name it maps elsewhere, a name it lacks, a uid:gid pair
USERS = [
    ("unset", None, True), ("root", "root", True), ("uid 0", "0", True),
    ("alias of uid 0", "toor", True), ("app", "app", False), ("unknown name", "nobody", False),
    ("uid:gid", "65532:65532", False), ("root:group", "root:app", True),
]


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict[str, Analysis]:
    root = tmp_path_factory.mktemp("security")
    specs = [ImageSpec([make_layer(FILES)], ref_name=f"u{n}",
                       config_extra={} if user is None else {"config": {"User": user}})
             for n, (_, user, _) in enumerate(USERS)]
    specs.append(ImageSpec([make_layer({"etc/os-release": b"x\n"})], ref_name="bare"))
    write_oci_layout(root / "oci", specs)
    options = Options(cache_dir=root / "cache", quiet=True)
    names = [name for name, _, _ in USERS] + ["bare"]
    out = {name: analyze(open_image(f"oci:{root / 'oci'}:{s.ref_name}", options), options)
           for name, s in zip(names, specs, strict=True)}
    yield out
    for a in out.values():
        a.image.close()


@pytest.mark.parametrize(("name", "user", "root"), USERS, ids=[u[0] for u in USERS])
def test_runs_as(images, name, user, root):
    who = runs_as(images[name])
    assert (who.user, who.root) == (user or "", root)


def test_executables_and_interpreters(images):
    a = images["unset"]
    assert executables(a.fs) == ["/app/run", "/usr/bin/python3", "/usr/bin/python3.11",
                                 "/usr/bin/su"]
    sets = security_sets(a)
    assert sets["interpreters"] == ["/usr/bin/python3", "/usr/bin/python3.11"]
    assert sets["setuid"] == ["/usr/bin/su"]
    assert executables(images["bare"].fs) == []


def test_compare_carries_them_in_every_format(images):
    result = compare_analyses([images["unset"], images["app"], images["bare"]],
                              labels=["unset", "app", "bare"])
    sec = result.security
    assert [r.root for r in sec.runs_as] == [True, False, True]
    # the model's executables (from the file diff's tables) are compare.security's
    assert sec.executables == [executables(images[n].fs) for n in ("unset", "app", "bare")]
    assert sec.interpreters[2] == []
    doc = json.loads(render(result, "json"))
    assert doc["security"]["executables"] == [4, 4, 0]
    assert doc["security"]["runs_as"][1] == {"user": "app", "root": False}
    text = render(result, "text")
    assert "SECURITY" in text and "root (User unset)" in text
    markdown = render(result, "markdown")
    assert "## Security" in markdown and "`/usr/bin/python3`" in markdown
