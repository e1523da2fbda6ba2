"""apk, python, npm and Go catalogers on fixtures built from the documented formats."""

from __future__ import annotations

import os
import struct
import subprocess
from pathlib import Path

import pytest

from inspector.catalog.builder import catalog_image
from inspector.catalog.golang import parse_buildinfo
from inspector.index import capture
from tests.builders import Entry
from tests.catalog.fsbuild import build_fs, buildinfo_blob, index_tar, require_tool

APK_DB = b"""C:Q1abc=
P:musl
V:1.2.4-r2
A:x86_64
S:383152
I:622592
T:the musl c library
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1xyz=
R:libc.musl-x86_64.so.1

P:busybox
V:1.36.1-r5
A:x86_64
F:bin
R:busybox
F:etc
R:securetty
"""


def test_apk_installed_db():
    fs = build_fs({"lib/apk/db/installed": APK_DB, "lib/ld-musl-x86_64.so.1": b"x" * 100,
                   "lib/libc.musl-x86_64.so.1": Entry("symlink", target="ld-musl-x86_64.so.1"),
                   "bin/busybox": Entry("file", b"\x7fELF" + b"\0" * 60, mode=0o755)})
    catalog = catalog_image(fs)
    assert catalog.warnings == []
    got = [(p.type, p.name, p.version, p.arch, p.files, p.size) for p in catalog.packages]
    assert got == [("apk", "musl", "1.2.4-r2", "x86_64", 2, 100),
                   ("apk", "busybox", "1.36.1-r5", "x86_64", 1, 64)]
    assert catalog.owner_name("/lib/libc.musl-x86_64.so.1") == "musl"
    assert catalog.owner_name("/bin/busybox") == "busybox"


def test_apk_malformed_block_is_reported():
    fs = build_fs({"lib/apk/db/installed": APK_DB + b"\nV:1.0\nnonsense\n"})
    catalog = catalog_image(fs)
    assert [p.name for p in catalog.packages] == ["musl", "busybox"]
    assert len(catalog.warnings) == 1 and "2 package(s) still read: musl, busybox" in catalog.warnings[0]


SITE = "usr/local/lib/python3.11/site-packages"


def test_python_dist_info_and_egg_info():
    record = (b"requests/__init__.py,sha256=abc,10\nrequests/api.py,,\n"
              b"../../../bin/req,,\nrequests-2.31.0.dist-info/METADATA,,\n")
    fs = build_fs({
        f"{SITE}/requests-2.31.0.dist-info/METADATA":
            b"Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n\nBody: not a field\n",
        f"{SITE}/requests-2.31.0.dist-info/RECORD": record,
        f"{SITE}/requests/__init__.py": b"0123456789", f"{SITE}/requests/api.py": b"abc",
        "usr/local/bin/req": Entry("file", b"#!/usr/bin/python3\n", mode=0o755),
        f"{SITE}/six-1.16.0.egg-info": b"Metadata-Version: 1.1\nName: six\nVersion: 1.16.0\n",
        f"{SITE}/old.egg-info/PKG-INFO": b"Name: old\nVersion: 0.1\n",
        f"{SITE}/old.egg-info/installed-files.txt": b"../old.py\n",
        f"{SITE}/old.py": b"print()\n",
    })
    catalog = catalog_image(fs)
    assert catalog.warnings == []
    got = {p.name: (p.version, p.files, p.type) for p in catalog.packages}
    assert got == {"requests": ("2.31.0", 4, "python"), "six": ("1.16.0", None, "python"),
                   "old": ("0.1", 1, "python")}
    assert catalog.owner_name("/usr/local/bin/req") == "requests"
    assert catalog.owner_name(f"/{SITE}/old.py") == "old"


def test_npm_packages_scoped_and_nested():
    nm = "app/node_modules"
    fs = build_fs({
        f"{nm}/left-pad/package.json": b'{"name": "left-pad", "version": "1.3.0"}',
        f"{nm}/left-pad/index.js": b"x" * 7,
        f"{nm}/left-pad/node_modules/dep/package.json": b'{"name": "dep", "version": "2.0.0"}',
        f"{nm}/left-pad/node_modules/dep/i.js": b"y",
        f"{nm}/@scope/pkg/package.json": b'{"name": "@scope/pkg", "version": "0.0.1"}',
        f"{nm}/left-pad/lib/package.json": b'{"name": "not-a-package"}',
        f"{nm}/broken/package.json": b"{not json",
        "app/package.json": b'{"name": "the-app", "version": "1.0.0"}',
    })
    catalog = catalog_image(fs)
    got = {p.name: (p.version, p.files) for p in catalog.packages}
    assert got == {"left-pad": ("1.3.0", 3), "dep": ("2.0.0", 2), "@scope/pkg": ("0.0.1", 1)}
    assert catalog.owner_name(f"/{nm}/left-pad/node_modules/dep/i.js") == "dep"
    assert catalog.owner_name(f"/{nm}/left-pad/index.js") == "left-pad"
    assert len(catalog.warnings) == 1 and "broken/package.json" in catalog.warnings[0]


MODINFO = ("path\texample.com/cmd/tool\nmod\texample.com\tv1.4.0\th1:abc=\n"
           "dep\tgolang.org/x/sys\tv0.1.0\th1:def=\n"
           "dep\tgithub.com/a/b\tv1.0.0\th1:ghi=\n=>\tgithub.com/fork/b\tv1.0.1\th1:jkl=\n"
           "build\t-compiler=gc\n")


def test_go_buildinfo_table():
    info = parse_buildinfo(buildinfo_blob("go1.21.5", MODINFO))
    assert info.go_version == "go1.21.5" and info.path == "example.com/cmd/tool"
    assert info.main == ("example.com", "v1.4.0")
    assert info.deps == [("golang.org/x/sys", "v0.1.0"), ("github.com/fork/b", "v1.0.1")]


def test_go_binary_in_image_and_old_format_warns():
    elf = b"\x7fELF" + b"\0" * capture.GO_FLOOR  # a Go binary's size: the walker scans it
    fs = build_fs({"app/tool": Entry("file", elf + buildinfo_blob("go1.21.5", MODINFO) + b"\0" * 100,
                                     mode=0o755),
                   "app/old": Entry("file", elf + b"\xff Go buildinf:\x08\x00" + b"\0" * 200,
                                    mode=0o755)})
    catalog = catalog_image(fs)
    got = [(p.name, p.version, p.files) for p in catalog.packages]
    assert got == [("example.com", "v1.4.0", 1), ("golang.org/x/sys", "v0.1.0", None),
                   ("github.com/fork/b", "v1.0.1", None), ("stdlib", "go1.21.5", None)]
    assert catalog.owner_name("/app/tool") == "example.com"
    assert catalog.warnings == ["/app/old: Go build info not read: pre-Go 1.18 pointer format (not read)"]


def test_real_go_build(tmp_path: Path):
    go = require_tool("go")
    src = tmp_path / "src"
    src.mkdir()
    (src / "go.mod").write_text("module example.org/hello\n\ngo 1.18\n")
    (src / "main.go").write_text('package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hi") }\n')
    env = dict(os.environ, GOPROXY="off", GOFLAGS="-mod=mod", GOCACHE=str(tmp_path / "cache"),
               GOPATH=str(tmp_path / "gopath"), CGO_ENABLED="0")
    subprocess.run([go, "build", "-o", str(tmp_path / "hello"), "."], cwd=src, env=env, check=True)
    version = subprocess.run([go, "env", "GOVERSION"], env=env, capture_output=True, text=True,
                             check=True).stdout.strip()
    import io
    import tarfile
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(tmp_path / "hello", arcname="usr/local/bin/hello")
    buf.seek(0)
    from inspector.index.merge import merge
    catalog = catalog_image(merge([index_tar(buf)]))
    got = [(p.name, p.version) for p in catalog.packages]
    assert got == [("example.org/hello", "(devel)"), ("stdlib", version)]
    assert catalog.packages[0].size == (tmp_path / "hello").stat().st_size
    assert catalog.warnings == []


def test_struct_is_big_endian_in_rpm_header():  # guard for the header reader's assumption
    from inspector.catalog.rpm import HeaderError, parse_header
    with pytest.raises(HeaderError):
        parse_header(struct.pack(">ii", 5, 0))
