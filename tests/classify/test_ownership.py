"""Ownership first and the package table: the owning OS package (dpkg, status.d, apk) is
evidence next to the path. Also the deep-path case of issue 11 (classified iteratively) and
the two invariants on every bundled sample: no OS-owned file is ``application``, and the
categories partition the files and their bytes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.catalog.builder import catalog_image
from inspector.classify import CATEGORY_ORDER, FALLBACK, classify_image
from inspector.classify.rules import load_rules
from inspector.errors import InspectorError
from inspector.sources.samples import sample_names
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout
from tests.catalog.fsbuild import build_fs, require_tool
from tests.catalog.samples import analysis

ELF = b"\x7fELF\x02\x01\x01" + b"\0" * 57
SCRIPT = b"#!/bin/sh\nexit 0\n"
ROOT = Path(__file__).resolve().parents[2]


def _exe(data: bytes = ELF) -> Entry:
    return Entry("file", data, mode=0o755)


def dpkg_layer(owned: dict[str, dict[str, bytes | Entry]],
               unowned: dict[str, bytes | Entry] | None = None) -> dict:
    """A layer with a dpkg database: ``{package: {path: content}}`` installed, each
    package's ``info/<name>.list`` naming its files; ``unowned`` files besides."""
    files: dict[str, bytes | Entry] = dict(unowned or {})
    status = b""
    for name, members in owned.items():
        status += (f"Package: {name}\nStatus: install ok installed\nVersion: 1.0\n"
                   f"Architecture: amd64\n\n").encode()
        files[f"var/lib/dpkg/info/{name}.list"] = "".join(f"/{p}\n" for p in members).encode()
        files.update(members)
    files["var/lib/dpkg/status"] = status
    return files


def apk_layer(owned: dict[str, dict[str, bytes | Entry]]) -> dict:
    """A layer with an apk database (``/lib/apk/db/installed``: P/V, then F dir, R file)."""
    files: dict[str, bytes | Entry] = {}
    db = ""
    for name, members in owned.items():
        db += f"P:{name}\nV:1.0-r0\nA:x86_64\n"
        by_dir: dict[str, list[str]] = {}
        for path in members:
            head, _, base = path.rpartition("/")
            by_dir.setdefault(head, []).append(base)
        for head, bases in by_dir.items():
            db += f"F:{head}\n" + "".join(f"R:{b}\n" for b in bases)
        db += "\n"
        files.update(members)
    files["lib/apk/db/installed"] = db.encode()
    return files


#: (name, layer, path, expected): one image per case, the path's category
CASES = [
    ("table decides an executable's category", dpkg_layer({"curl": {"usr/local/bin/fetch": _exe()}}),
     "/usr/local/bin/fetch", "network_tools"),
    ("bash ships clear_console: the shell package", dpkg_layer({"bash": {"usr/bin/clear_console": _exe()}}),
     "/usr/bin/clear_console", "shell"),
    ("an executable script outside bin dirs", dpkg_layer({"e2fsprogs": {"usr/lib/e2fsprogs/e2scrub_fail": _exe(SCRIPT)}}),
     "/usr/lib/e2fsprogs/e2scrub_fail", "core_utilities"),
    ("same name, unowned: the command rule", dpkg_layer({}, {"usr/local/bin/curl": _exe()}),
     "/usr/local/bin/curl", "network_tools"),
    ("same file, owned by an unlisted package: path rules", dpkg_layer({"mytools": {"usr/local/bin/fetch": _exe()}}),
     "/usr/local/bin/fetch", "system"),
    ("docs of a table package stay documentation", dpkg_layer({"bash": {"usr/share/doc/bash/copyright": b"(c)"}}),
     "/usr/share/doc/bash/copyright", "documentation"),
    ("a table package's library is a library", dpkg_layer({"curl": {"usr/lib/x86_64-linux-gnu/libcurl.so.4": _exe()}}),
     "/usr/lib/x86_64-linux-gnu/libcurl.so.4", "shared_library"),
    ("apt's systemd unit is system", dpkg_layer({"apt": {"usr/lib/systemd/system/apt-daily.service": b"[Unit]"}}),
     "/usr/lib/systemd/system/apt-daily.service", "system"),
    ("an init script of a table package is system", dpkg_layer({"util-linux-extra": {"etc/init.d/hwclock.sh": _exe(SCRIPT)}}),
     "/etc/init.d/hwclock.sh", "system"),
    ("non-executable data of a table package: path rules", dpkg_layer({"dpkg": {"etc/dpkg/dpkg.cfg": b"# cfg"}}),
     "/etc/dpkg/dpkg.cfg", "configuration"),
    ("OS-owned, no rule: system", dpkg_layer({"libpam-runtime": {"usr/share/pam/common-auth": b"auth"}}),
     "/usr/share/pam/common-auth", "system"),
    ("unowned, no rule: application", dpkg_layer({}, {"usr/share/myapp/data.bin": b"d"}),
     "/usr/share/myapp/data.bin", "application"),
    ("OS-owned under site-packages: never application",
     dpkg_layer({"python3-requests": {"usr/local/lib/python3.11/site-packages/requests/api.py": b""}}),
     "/usr/local/lib/python3.11/site-packages/requests/api.py", "system"),
    ("unowned under site-packages: application",
     dpkg_layer({}, {"usr/local/lib/python3.11/site-packages/requests/api.py": b""}),
     "/usr/local/lib/python3.11/site-packages/requests/api.py", "application"),
    ("OS-owned symlink to an app file: system",
     dpkg_layer({"base-files": {"usr/bin/app": Entry("symlink", target="/opt/app/run")}},
                {"opt/app/run": b"data"}),
     "/usr/bin/app", "system"),
    ("OS-owned symlink to a directory no rule names: system",
     dpkg_layer({"base-files": {"var/mail2": Entry("symlink", target="spool/mail2")}},
                {"var/spool/mail2/x": b""}),
     "/var/mail2", "system"),
    ("apk: busybox-owned ssl_client is not busybox", apk_layer({"ssl_client": {"usr/bin/ssl_client": _exe()}}),
     "/usr/bin/ssl_client", "network_tools"),
    ("apk: apk-tools", apk_layer({"apk-tools": {"sbin/apk": _exe()}}), "/sbin/apk", "package_manager"),
    ("apk: an unlisted package's file is never application", apk_layer({"musl": {"etc/xyz": _exe()}}),
     "/etc/xyz", "configuration"),
    ("apk: an unlisted package's data with no rule", apk_layer({"musl": {"usr/share/x/y": b""}}),
     "/usr/share/x/y", "system"),
]


@pytest.mark.parametrize("name, layer, path, expected", CASES, ids=[c[0] for c in CASES])
def test_ownership_and_package_table(name, layer, path, expected):
    fs = build_fs(layer)
    catalog = catalog_image(fs)
    assert not catalog.warnings, catalog.warnings
    assert classify_image(fs, catalog).categories[path] == expected


#: (packaging system type, package name, expected table category or None)
TABLE_NAMES = [
    ("deb", "bash", "shell"), ("deb", "dash", "shell"), ("apk", "busybox", "shell"),
    ("rpm", "bash", "shell"), ("deb", "apt", "package_manager"),
    ("apk", "apk-tools", "package_manager"), ("rpm", "dnf", "package_manager"),
    ("rpm", "microdnf", "package_manager"), ("deb", "coreutils", "core_utilities"),
    ("rpm", "coreutils-single", "core_utilities"), ("deb", "toybox", "core_utilities"),
    ("deb", "iputils-ping", "network_tools"), ("rpm", "curl-minimal", "network_tools"),
    ("apk", "bind-tools", "network_tools"), ("deb", "python3.11-minimal", "interpreter"),
    ("rpm", "perl-interpreter", "interpreter"), ("deb", "gcc-12", "compiler_toolchain"),
    ("rpm", "gcc-c++", "compiler_toolchain"), ("apk", "build-base", "compiler_toolchain"),
    ("deb", "gdb", "development"), ("deb", "init-system-helpers", "system"),
    ("rpm", "filesystem", "system"), ("apk", "alpine-baselayout", "system"),
    ("deb", "libc6", None), ("deb", "python3-requests", None),
    ("rpm", "apk-tools", None),  # names are per packaging system
    ("python", "pip", None),  # language packages are not OS packages
]


@pytest.mark.parametrize("system, package, expected", TABLE_NAMES,
                         ids=[f"{s}:{p}" for s, p, _ in TABLE_NAMES])
def test_package_table_names(system, package, expected):
    assert load_rules().package_category(system, package) == expected


def _deep_layer() -> bytes:
    deep = "/".join(["d"] * 3000)
    return make_layer({deep + "/f": b"x", deep + "/l": Entry("symlink", target="f"),
                       "a/" + "/".join(["x"] * 10000): Entry("file", ELF, mode=0o755)})


def test_deep_paths_classify_iteratively(tmp_path):
    """A 10,000-component path and 3,000 nested directories (one with a symlink that must
    be resolved) used to raise RecursionError; through the real CLI they export."""
    write_oci_layout(tmp_path / "oci", [ImageSpec([_deep_layer()], ref_name="t")])
    out = tmp_path / "out.json"
    proc = subprocess.run(
        [sys.executable, "-m", "inspector", "export", f"oci:{tmp_path / 'oci'}:t", "-q",
         "-o", str(out), "--cache-dir", str(tmp_path / "cache")],
        capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    categories = json.loads(out.read_text())["categories"]
    deep = "/" + "/".join(["d"] * 3000)
    assert categories["application"]["files"] == 3
    assert {deep + "/f", deep + "/l"} <= set(categories["application"]["paths"])


@pytest.mark.parametrize("sample", sample_names())
def test_no_os_owned_file_is_application(sample):
    a = analysis(f"sample:{sample}")
    os_owned = {p for p, i in a.catalog.owners.items()
                if a.catalog.packages[i].type in ("deb", "apk", "rpm")}
    assert os_owned, "the sample lists OS packages with files"
    wrong = sorted(p for p in os_owned if a.classification.categories.get(p) == FALLBACK)
    assert wrong == []


@pytest.mark.parametrize("sample", sample_names())
def test_categories_partition_files_and_bytes(sample):
    a = analysis(f"sample:{sample}")
    cls, fs = a.classification, a.fs
    non_dirs = {p for p in fs.entries if fs.kind_name(p) != "dir"}
    assert set(cls.categories) == non_dirs
    assert list(cls.totals) == list(CATEGORY_ORDER)
    assert sum(t.files for t in cls.totals.values()) == len(non_dirs)
    assert sum(t.bytes for t in cls.totals.values()) == fs.file_bytes
    seen: set[str] = set()
    for name, total in cls.totals.items():
        assert not seen & set(total.paths), name
        seen.update(total.paths)
        assert total.bytes == sum(fs.size(p) for p in total.paths
                                  if fs.kind_name(p) == "file"), name
    assert seen == non_dirs


def test_package_table_keys_are_checked():
    with pytest.raises(InspectorError, match=r"unknown key\(s\) \['debain'\]"):
        load_rules('[[package]]\ncategory = "shell"\ndebain = ["bash"]\n')
    rules = load_rules('[[package]]\ncategory = "shell"\nalpine = ["mksh"]\n')
    assert (rules.package_category("apk", "mksh"), rules.package_category("deb", "mksh")) == \
        ("shell", None)


RPM_SPEC = """Name: %(name)s
Version: 1.0
Release: 1
Summary: test package
License: MIT
BuildArch: noarch
%%description
test
%%install
mkdir -p %%{buildroot}/usr/bin %%{buildroot}/usr/share/%(name)s
printf '#!/bin/sh\\necho hi\\n' > %%{buildroot}/usr/bin/%(name)s
printf 'hello\\n' > %%{buildroot}/usr/share/%(name)s/hello.txt
%%files
%%attr(0755,root,root) /usr/bin/%(name)s
/usr/share/%(name)s/hello.txt
"""


@pytest.mark.slow
def test_rpm_owned_files(tmp_path):
    """Real RPMs in a real sqlite rpmdb: the Fedora name ``curl-minimal`` makes its
    executable a network tool (no command rule names it); an unlisted package's files
    are ``system``, never ``application``."""
    for tool in ("rpm", "rpmbuild", "sqlite3"):
        require_tool(tool)

    def run(*args: str) -> None:
        subprocess.run(args, check=True, capture_output=True, text=True)

    db = tmp_path / "db"
    db.mkdir()
    run("rpm", "--dbpath", str(db), "--define", "_db_backend sqlite", "--initdb")
    files: dict[str, bytes | Entry] = {}
    for name in ("curl-minimal", "mydata"):
        spec = tmp_path / f"{name}.spec"
        spec.write_text(RPM_SPEC % {"name": name})
        run("rpmbuild", "-bb", "--define", f"_topdir {tmp_path}", str(spec))
        rpm = next((tmp_path / "RPMS/noarch").glob(f"{name}-*.rpm"))
        run("rpm", "-i", "--dbpath", str(db), "--define", "_db_backend sqlite", "--nodeps",
            "--justdb", str(rpm))
        files[f"usr/bin/{name}"] = _exe(b"#!/bin/sh\necho hi\n")
        files[f"usr/share/{name}/hello.txt"] = b"hello\n"
    run("sqlite3", str(db / "rpmdb.sqlite"), "PRAGMA wal_checkpoint(TRUNCATE);")
    files["var/lib/rpm/rpmdb.sqlite"] = (db / "rpmdb.sqlite").read_bytes()
    fs = build_fs(files)
    catalog = catalog_image(fs)
    assert {p.type for p in catalog.packages} == {"rpm"}
    categories = classify_image(fs, catalog).categories
    assert {p: categories[p] for p in ("/usr/bin/curl-minimal", "/usr/share/curl-minimal/hello.txt",
                                       "/usr/bin/mydata", "/usr/share/mydata/hello.txt")} == {
        "/usr/bin/curl-minimal": "network_tools", "/usr/share/curl-minimal/hello.txt": "system",
        "/usr/bin/mydata": "system", "/usr/share/mydata/hello.txt": "system"}
