"""rpm sqlite cataloger against ``rpm -qa`` on a db written by Debian's rpm."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from inspector.catalog.builder import catalog_image
from tests.builders import Entry
from tests.catalog.fsbuild import build_fs, require_tool

SPEC = """Name: %(name)s
Version: %(version)s
Release: %(release)s
%(epoch)s
Summary: test package
License: MIT
BuildArch: noarch
%%description
test
%%install
mkdir -p %%{buildroot}/usr/bin %%{buildroot}/usr/share/%(name)s
printf '#!/bin/sh\\necho hi\\n' > %%{buildroot}/usr/bin/%(name)s
printf 'hello world\\n' > %%{buildroot}/usr/share/%(name)s/hello.txt
%%files
%%attr(0755,root,root) /usr/bin/%(name)s
%%dir /usr/share/%(name)s
/usr/share/%(name)s/hello.txt
"""
PACKAGES = [("tiny", "1.2", "3", "4"), ("other", "0.9", "1.fc40", None)]


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def rpmdb(tmp_path_factory) -> Path:
    for tool in ("rpm", "rpmbuild", "sqlite3"):
        require_tool(tool)
    top = tmp_path_factory.mktemp("rpm")
    db = top / "db"
    db.mkdir()
    run("rpm", "--dbpath", str(db), "--define", "_db_backend sqlite", "--initdb")
    for name, version, release, epoch in PACKAGES:
        spec = top / f"{name}.spec"
        spec.write_text(SPEC % {"name": name, "version": version, "release": release,
                                "epoch": f"Epoch: {epoch}" if epoch else ""})
        run("rpmbuild", "-bb", "--define", f"_topdir {top}", str(spec))
        rpm = next((top / "RPMS/noarch").glob(f"{name}-*.rpm"))
        run("rpm", "-i", "--dbpath", str(db), "--define", "_db_backend sqlite", "--nodeps",
            "--justdb", str(rpm))
    run("sqlite3", str(db / "rpmdb.sqlite"), "PRAGMA wal_checkpoint(TRUNCATE);")
    return db


def test_sqlite_rpmdb_matches_rpm_qa(rpmdb):
    assert run("rpm", "--dbpath", str(rpmdb), "--eval", "%_db_backend").strip() == "sqlite"
    want = set(run("rpm", "-qa", "--dbpath", str(rpmdb), "--qf",
                   "%{NAME} %|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE} %{ARCH}\\n").splitlines())
    files = {"var/lib/rpm/rpmdb.sqlite": (rpmdb / "rpmdb.sqlite").read_bytes()}
    for name, *_ in PACKAGES:
        files[f"usr/bin/{name}"] = Entry("file", b"#!/bin/sh\necho hi\n", mode=0o755)
        files[f"usr/share/{name}/hello.txt"] = b"hello world\n"
    catalog = catalog_image(build_fs(files))
    assert catalog.warnings == []
    assert {f"{p.name} {p.version} {p.arch}" for p in catalog.packages} == want
    for name, *_ in PACKAGES:
        listed = run("rpm", "-ql", "--dbpath", str(rpmdb), name).split()
        owned = sorted(p for p, i in catalog.owners.items() if catalog.packages[i].name == name)
        assert owned == sorted(p for p in listed if not p.endswith(f"/share/{name}"))
        pkg = next(p for p in catalog.packages if p.name == name)
        assert (pkg.files, pkg.size, pkg.type) == (2, 30, "rpm")


def test_reading_a_database_leaves_no_files_behind(rpmdb, tmp_path, monkeypatch):
    """SQLite keeps ``-wal``/``-shm`` files beside a WAL database opened read-only: the
    copy the cataloger reads goes away with them, for good and for corrupt databases."""
    import tempfile

    from inspector.catalog.rpm import read_sqlite

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    data = (rpmdb / "rpmdb.sqlite").read_bytes()
    for blob in (data, data[: len(data) // 3], b"garbage"):
        read_sqlite(blob)
        assert list(tmp_path.iterdir()) == []
    assert len(read_sqlite(data)[0]) == len(PACKAGES)


def test_corrupt_rpmdb_warns(rpmdb):
    data = (rpmdb / "rpmdb.sqlite").read_bytes()
    for corrupt in (b"SQLite format 3\x00" + b"\x00" * 200, data[: len(data) // 3], b"garbage"):
        catalog = catalog_image(build_fs({"var/lib/rpm/rpmdb.sqlite": corrupt}))
        assert len(catalog.warnings) == 1, catalog.warnings
        assert "/var/lib/rpm/rpmdb.sqlite" in catalog.warnings[0]
        assert "package(s) still read" in catalog.warnings[0]


def test_damaged_header_keeps_the_others(rpmdb, tmp_path):
    copy = tmp_path / "rpmdb.sqlite"
    copy.write_bytes((rpmdb / "rpmdb.sqlite").read_bytes())
    run("sqlite3", str(copy), "UPDATE Packages SET blob = x'0000ffff00000010' WHERE hnum = "
        "(SELECT min(hnum) FROM Packages);")
    catalog = catalog_image(build_fs({"usr/lib/sysimage/rpm/rpmdb.sqlite": copy.read_bytes()}))
    assert [p.name for p in catalog.packages] == ["other"]
    assert "1 package(s) still read: other" in catalog.warnings[0]
    assert catalog.packages[0].source_path == "/usr/lib/sysimage/rpm/rpmdb.sqlite"


@pytest.mark.parametrize("path", ["var/lib/rpm/Packages", "usr/lib/sysimage/rpm/Packages.db"])
def test_bdb_and_ndb_are_reported_not_guessed(path):
    catalog = catalog_image(build_fs({path: b"\x00\x06\x15\x61" + b"\x00" * 4000}))
    assert catalog.packages == []
    assert catalog.warnings == [f"/{path}: unsupported rpmdb format (Berkeley DB or ndb); "
                                "its packages are not listed"]
