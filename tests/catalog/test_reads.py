"""The capture table comes from the catalogers (issue 15 item 1): every path a cataloger
reads is captured by the real walker; apk 3's database; busybox found from its bytes; Go
``(devel)`` versions from ``-ldflags -X``."""

from __future__ import annotations

import os
import subprocess
from importlib import import_module
from pathlib import Path

import pytest

from inspector.catalog.builder import Builder, catalog_image
from inspector.catalog.golang import ldflags_version
from inspector.catalog.registry import CATALOGERS
from inspector.index import capture
from tests.builders import Entry
from tests.catalog.fsbuild import build_fs, layer_index
from tests.catalog.samples import analysis
from tests.tools import require_tool

RULES = [(c.module, rule) for c in CATALOGERS for rule in c.reads]
RULES += [("other", rule) for rule in capture.OTHER_READS]


@pytest.mark.parametrize(("name", "rule"), RULES, ids=[f"{n}:{r.kind}:{r.pattern}" for n, r in RULES])
def test_every_path_a_cataloger_reads_is_captured_by_the_walker(name, rule):
    for path in rule.examples():
        assert capture.capture_limit(path) == rule.cap
        index = layer_index({path.lstrip("/"): b"content of " + path.encode()})
        assert index.captured == {path: b"content of " + path.encode()}, name


def test_registry_lists_every_cataloger_module():
    here = Path(import_module("inspector.catalog").__file__).parent
    helpers = {"__init__", "builder", "cpe", "cpe_rules", "fspath", "reads", "registry"}
    modules = {p.stem for p in here.glob("*.py")} - helpers
    assert modules == {c.module for c in CATALOGERS}


#: one filesystem with something for most catalogers (rpm needs a real rpmdb, go a real
#: binary: ``test_rpm.py``, ``test_real_go_build_devel_version_from_ldflags``)
EVERY_KIND = {
    "var/lib/dpkg/status": b"Package: base-files\nStatus: install ok installed\nVersion: 12.4\n"
                           b"Architecture: amd64\n",
    "lib/apk/db/installed": b"P:musl\nV:1.2.5-r0\nA:x86_64\n\n",
    "usr/lib/python3/dist-packages/demo-1.0.dist-info/METADATA": b"Name: demo\nVersion: 1.0\n",
    "app/node_modules/left-pad/package.json": b'{"name": "left-pad", "version": "1.3.0"}',
    "busybox/busybox": Entry("file", data=b"\x7fELF" + b"\0" * 100 + b"BusyBox v1.36.1 (x)", mode=0o755),
}


def test_each_cataloger_lists_the_type_its_registry_row_names():
    fs = build_fs(EVERY_KIND)
    seen = set()
    for cataloger in CATALOGERS:
        out = Builder(fs)
        import_module(f"inspector.catalog.{cataloger.module}").catalog(fs, out)
        assert {p.type for p in out.catalog.packages} <= {cataloger.type}, cataloger.module
        seen.update(p.type for p in out.catalog.packages)
    assert seen == {"deb", "apk", "python", "npm", "binary"}


APK_DB = b"P:musl\nV:1.2.5-r0\nA:x86_64\nF:lib\nR:ld-musl-x86_64.so.1\n\nP:busybox\nV:1.36.1-r29\nF:bin\nR:busybox\n"


@pytest.mark.parametrize("db", ["lib/apk/db/installed", "usr/lib/apk/db/installed"],
                         ids=["apk2", "apk3"])
def test_apk_database_locations(db):
    fs = build_fs({db: APK_DB, "lib/ld-musl-x86_64.so.1": b"x" * 10, "bin/busybox": b"no version"})
    catalog = catalog_image(fs)
    assert [(p.type, p.name, p.version, p.files) for p in catalog.packages] == [
        ("apk", "musl", "1.2.5-r0", 1), ("apk", "busybox", "1.36.1-r29", 1)]
    assert catalog.warnings == []


BUSYBOX = b"\x7fELF" + b"\0" * 100 + b"BusyBox v1.36.1 (2024-01-01) multi-call binary" + b"\0" * 10
BUSYBOX_CASES = [
    ("symlinks and a hardlink", {"busybox": Entry("dir"), "busybox/busybox": Entry("file", data=BUSYBOX, mode=0o755),
                                 "busybox/sh": Entry("symlink", target="/busybox/busybox"),
                                 "busybox/ls": Entry("symlink", target="busybox"),
                                 "bin/ash": Entry("hardlink", target="busybox/busybox"),
                                 "bin/other": Entry("symlink", target="/bin/true")},
     [("binary", "busybox", "1.36.1", ["/bin/ash", "/busybox/busybox", "/busybox/ls", "/busybox/sh"])]),
    ("no version string", {"bin/busybox": Entry("file", data=b"\x7fELF" + b"\0" * 50, mode=0o755)}, []),
    ("owned by dpkg", {"var/lib/dpkg/status": b"Package: busybox-static\nStatus: install ok installed\n"
                                              b"Version: 1:1.35.0-4\nArchitecture: amd64\n",
                       "var/lib/dpkg/info/busybox-static.list": b"/bin/busybox\n",
                       "bin/busybox": Entry("file", data=BUSYBOX, mode=0o755)},
     [("deb", "busybox-static", "1:1.35.0-4", ["/bin/busybox"])]),
]


@pytest.mark.parametrize(("name", "files", "expected"), BUSYBOX_CASES, ids=[c[0] for c in BUSYBOX_CASES])
def test_busybox_from_its_version_string(name, files, expected):
    catalog = catalog_image(build_fs(files))
    got = []
    for i, p in enumerate(catalog.packages):
        got.append((p.type, p.name, p.version, sorted(k for k, v in catalog.owners.items() if v == i)))
    assert got == expected


def test_busybox_in_the_debug_sample():
    a = analysis("sample:distroless-static-debug")
    binaries = [p for p in a.catalog.packages if p.type == "binary"]
    assert [(p.name, p.version, p.source_path) for p in binaries] == [("busybox", "1.35.0", "/busybox/busybox")]
    assert a.catalog.owner_name("/busybox/sh") == "busybox"
    links = sum(1 for path in a.fs.entries if path.startswith("/busybox/") and a.fs.kind_name(path) == "symlink")
    assert binaries[0].files == links + 1


LDFLAGS = [
    ("main.version", "-X main.version=1.2.3 -s -w", "v1.2.3"),
    ("already v", "-X github.com/docker/cli/cli/version.Version=v24.0.7", "v24.0.7"),
    ("gitVersion with suffix", "-X k8s.io/component-base/version.gitVersion=v1.29.0-rc1+k3s1", "v1.29.0-rc1+k3s1"),
    ("tag", "-X main.Tag=2.0.0", "v2.0.0"),
    ("no version", "-s -w -X main.commit=abc", None),
    ("empty", "", None),
]


@pytest.mark.parametrize(("name", "ldflags", "expected"), LDFLAGS, ids=[c[0] for c in LDFLAGS])
def test_ldflags_version(name, ldflags, expected):
    assert ldflags_version(ldflags) == expected


def test_real_go_build_devel_version_from_ldflags(tmp_path: Path):
    go = require_tool("go")
    src = tmp_path / "src"
    src.mkdir()
    (src / "go.mod").write_text("module example.org/hello\n\ngo 1.18\n")
    (src / "main.go").write_text('package main\n\nvar version = "dev"\n\nfunc main() { println(version) }\n')
    env = dict(os.environ, GOPROXY="off", GOFLAGS="-mod=mod", GOCACHE=str(tmp_path / "cache"),
               GOPATH=str(tmp_path / "gopath"), CGO_ENABLED="0")
    subprocess.run([go, "build", "-buildvcs=false", "-ldflags=-X main.version=3.4.5",
                    "-o", str(tmp_path / "hello"), "."], cwd=src, env=env, check=True)
    fs = build_fs({"usr/bin/hello": Entry("file", data=(tmp_path / "hello").read_bytes(), mode=0o755)})
    main = catalog_image(fs).packages[0]
    assert (main.name, main.version) == ("example.org/hello", "v3.4.5")
