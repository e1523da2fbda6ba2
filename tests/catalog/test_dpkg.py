"""dpkg cataloger against dpkg-query on a real debootstrap root, the same root rewritten
the distroless way (status.d), the bundled samples, and malformed databases."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from inspector.catalog.builder import catalog_image
from inspector.catalog.dpkg import parse_control
from inspector.index import capture
from inspector.index.merge import merge
from tests.builders import Entry
from tests.catalog.fsbuild import (
    build_fs,
    debootstrap_root,
    layer_index,
    require_tool,
    tar_directory_index,
)

STATUS = "var/lib/dpkg/status"


def dpkg_query(admindir: Path, *args: str) -> str:
    require_tool("dpkg-query")
    return subprocess.run(["dpkg-query", f"--admindir={admindir}", *args], check=True,
                          capture_output=True, text=True).stdout


def installed(admindir: Path) -> set[tuple[str, str, str]]:
    out = dpkg_query(admindir, "-W", "-f",
                     "${Package}\t${Version}\t${Architecture}\t${db:Status-Status}\n")
    return {tuple(line.split("\t")[:3]) for line in out.splitlines()
            if line.split("\t")[3] == "installed"}


def expected_owners(root: Path, pkgs: set[tuple[str, str, str]]) -> dict[str, set[str]]:
    """path in the image (directories resolved) → packages whose ``dpkg-query -L`` lists
    it; only non-directories that exist."""
    owners: dict[str, set[str]] = {}
    for name, _, arch in pkgs:
        listing = dpkg_query(root / "var/lib/dpkg", "-L", f"{name}:{arch}" if arch != "all" else name)
        for line in listing.splitlines():
            if not line.startswith("/") or line == "/.":
                continue
            host = root / line.lstrip("/")
            real_dir = os.path.realpath(host.parent)
            real = os.path.join(real_dir, host.name)
            if not os.path.lexists(real) or (os.path.isdir(real) and not os.path.islink(real)):
                continue
            owners.setdefault("/" + os.path.relpath(real, root), set()).add(name)
    return owners


@pytest.fixture(scope="module")
def deb_root() -> Path:
    return debootstrap_root()


@pytest.fixture(scope="module")
def root_index(deb_root):
    return tar_directory_index(deb_root)


@pytest.mark.slow
def test_debootstrap_status_matches_dpkg_query(deb_root, root_index):
    fs = merge([root_index])
    catalog = catalog_image(fs)
    assert catalog.warnings == []
    want = installed(deb_root / "var/lib/dpkg")
    got = {(p.name, p.version, p.arch) for p in catalog.packages}
    assert got == want and len(got) > 80
    assert all(p.layer == 0 and p.type == "deb" for p in catalog.packages)
    owners = expected_owners(deb_root, want)
    got_owners = {path: catalog.packages[i].name for path, i in catalog.owners.items()}
    assert set(got_owners) == set(owners)
    wrong = {p: (got_owners[p], owners[p]) for p in owners if got_owners[p] not in owners[p]}
    assert wrong == {}
    # merged /usr: dpkg lists /bin/bash; the image has it at /usr/bin/bash
    assert catalog.owner_name("/usr/bin/bash") == "bash"
    libc = next(p for p in catalog.packages if p.name == "libc6")  # info/libc6:amd64.list
    assert libc.files > 100 and libc.size > 5_000_000
    bash = next(p for p in catalog.packages if p.name == "bash")
    assert bash.size == sum(fs.size(p) for p, i in catalog.owners.items()
                            if catalog.packages[i] is bash and fs.kind_name(p) == "file")


def _distroless_layer(root: Path, fs, pkgs) -> tuple[dict, list[str]]:
    """status.d/NAME (the control file: the status stanza without Status/Conffiles) and
    NAME.md5sums (non-directory entries of ``dpkg-query -L``), over whiteouts of status
    and info/."""
    status = (root / STATUS).read_text()
    stanzas = {s["Package"]: s for s in parse_control(status)[0]}
    files: dict = {}
    admindir = root / "var/lib/dpkg"
    for name, _, arch in pkgs:
        raw = []
        block = status.split(f"Package: {name}\n", 1)[1].split("\n\n", 1)[0]
        for line in (f"Package: {name}\n" + block).split("\n"):
            if line.startswith(("Status:", "Conffiles:")) or (line.startswith(" /") and "Conffiles" in stanzas[name]):
                continue
            raw.append(line)
        files[f"var/lib/dpkg/status.d/{name}"] = ("\n".join(raw) + "\n").encode()
        listing = dpkg_query(admindir, "-L", f"{name}:{arch}" if arch != "all" else name)
        sums = [f"{'0' * 32}  {line.lstrip('/')}" for line in listing.splitlines()
                if line.startswith("/") and not (root / line.lstrip("/")).is_dir()]
        files[f"var/lib/dpkg/status.d/{name}.md5sums"] = ("\n".join(sums) + "\n").encode()
    return files, ["var/lib/dpkg/status", "var/lib/dpkg/info"]


@pytest.mark.slow
def test_debootstrap_rewritten_as_distroless_status_d(deb_root, root_index):
    base = merge([root_index])
    want = installed(deb_root / "var/lib/dpkg")
    files, whiteouts = _distroless_layer(deb_root, base, want)
    fs = merge([root_index, layer_index(files, whiteouts=whiteouts)])
    assert "/var/lib/dpkg/status" not in fs
    catalog = catalog_image(fs)
    assert catalog.warnings == []
    assert {(p.name, p.version, p.arch) for p in catalog.packages} == want
    assert {p.source_path for p in catalog.packages} == {
        f"/var/lib/dpkg/status.d/{name}" for name, _, _ in want}
    assert all(p.layer == 1 for p in catalog.packages)
    plain = catalog_image(base)
    status_owners = {p: plain.packages[i].name for p, i in plain.owners.items()}
    got = {p: catalog.packages[i].name for p, i in catalog.owners.items()}
    # md5sums name the same files as the lists (here: built from them); conffiles aside
    assert set(got) <= set(status_owners) and len(got) > 0.95 * len(status_owners)
    assert {p: n for p, n in got.items() if status_owners[p] != n} == {}


def test_samples_agree_with_dpkg_query(tmp_path):
    """The sample's status file (as captured) read by dpkg-query and by us."""
    from tests.catalog.samples import analysis

    a = analysis("sample:debian-12-slim")
    admin = tmp_path / "dpkg"
    (admin / "info").mkdir(parents=True)
    (admin / "status").write_bytes(a.fs.captured("/var/lib/dpkg/status"))
    (admin / "available").write_bytes(b"")
    want = installed(admin)
    got = {(p.name, p.version, p.arch) for p in a.catalog.packages}
    assert got == want and len(got) >= 80
    assert a.catalog.owner_name("/usr/bin/bash") == "bash"
    assert a.catalog.warnings == []


@pytest.mark.parametrize("sample", ["sample:distroless-static", "sample:distroless-static-debug",
                                    "sample:distroless-base"])
def test_distroless_samples_list_status_d_packages(sample):
    from tests.catalog.samples import analysis

    catalog = analysis(sample).catalog
    names = {p.name for p in catalog.packages}
    assert {"base-files", "netbase", "tzdata", "media-types"} <= names
    debs = [p for p in catalog.packages if p.type == "deb"]
    assert all(p.source_path == f"/var/lib/dpkg/status.d/{p.name}" for p in debs)
    # the debug image's busybox has no database record: it is found from the binary
    assert [p.name for p in catalog.packages if p.type != "deb"] == (
        ["busybox"] if sample.endswith("-debug") else [])
    tz = next(p for p in catalog.packages if p.name == "tzdata")
    assert tz.files > 500 and tz.size > 1_000_000
    assert catalog.owner_name("/usr/share/zoneinfo/UTC") in ("tzdata", None)
    assert catalog.warnings == []


STANZA = b"Package: %s\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n\n"


def _status(*names: str, extra: bytes = b"") -> bytes:
    return b"".join(STANZA % n.encode() for n in names) + extra


MALFORMED = [
    ("truncated status", {STATUS: _status("aa", "bb") + b"Package: cc\nStatus: install ok ins"},
     "/var/lib/dpkg/status", {"aa", "bb"}),
    ("garbage line", {STATUS: _status("aa") + b"\x00\x01garbage\n\n" + _status("bb")},
     "/var/lib/dpkg/status", {"aa", "bb"}),
    ("status.d garbage", {"var/lib/dpkg/status.d/good": b"Package: good\nVersion: 2\n",
                          "var/lib/dpkg/status.d/bad": b"\xff\xfe not a control file\n"},
     "/var/lib/dpkg/status.d/", {"good"}),
    ("status.d empty file", {"var/lib/dpkg/status.d/good": b"Package: good\nVersion: 2\n",
                             "var/lib/dpkg/status.d/empty": b""},
     "/var/lib/dpkg/status.d/", {"good"}),
]


@pytest.mark.parametrize("name, files, where, still", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_databases_warn_with_what_was_read(name, files, where, still):
    catalog = catalog_image(build_fs(files))
    assert {p.name for p in catalog.packages} == still
    assert len(catalog.warnings) == 1, catalog.warnings
    warning = catalog.warnings[0]
    assert where in warning and f"{len(still)} package(s) still read" in warning
    assert all(n in warning for n in still)


def test_status_filters_and_multiarch_lists():
    status = (b"Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n"
              b"Package: held\nStatus: hold ok installed\nVersion: 2\nArchitecture: all\n\n"
              b"Package: lib\nStatus: install ok installed\nVersion: 3\nArchitecture: amd64\n"
              b"Multi-Arch: same\nDescription: x\n multi-line\n .\n body\n")
    fs = build_fs({STATUS: status, "var/lib/dpkg/info/lib:amd64.list": b"/usr\n/usr/lib/x.so\n",
                   "var/lib/dpkg/info/held.md5sums": b"d41d8cd98f00b204e9800998ecf8427e  usr/bin/h\n",
                   "usr/lib/x.so": b"12345", "usr/bin/h": Entry("file", b"#!/bin/sh\n", mode=0o755)})
    catalog = catalog_image(fs)
    got = {p.name: (p.version, p.files, p.size) for p in catalog.packages}
    assert got == {"held": ("2", 1, 10), "lib": ("3", 1, 5)}
    assert catalog.owner_name("/usr/lib/x.so") == "lib" and catalog.owner_name("/usr") is None


def test_uncaptured_database_is_reported(monkeypatch):
    monkeypatch.setitem(capture.EXACT, "/var/lib/dpkg/status", 8)
    catalog = catalog_image(build_fs({STATUS: _status("aa")}))
    assert catalog.packages == []
    assert len(catalog.warnings) == 1 and "not captured" in catalog.warnings[0]


@pytest.mark.slow
def test_debootstrap_licences_and_cpes_cover_syfts(deb_root, root_index):
    """syft (``dir:`` on the same root) and we read the same ``copyright`` files: every
    package syft gives licences has ours, syft's among them, and syft's first CPE is ours."""
    from inspector.catalog.cpe import cpes
    from tests.sbom.test_sbom import syft_artifacts

    ours = {(p.name, p.version): p for p in catalog_image(merge([root_index])).packages}
    artifacts = [a for a in syft_artifacts(f"dir:{deb_root}") if a["type"] == "deb"]
    assert len(artifacts) == len(ours)
    licensed = [a for a in artifacts if a["licenses"]]
    missing = [a["name"] for a in licensed
               if not {x["value"] for x in a["licenses"]} <= set(ours[a["name"], a["version"]].licenses)]
    wrong_cpe = [a["name"] for a in artifacts
                 if a["cpes"] and a["cpes"][0]["cpe"] not in cpes(ours[a["name"], a["version"]])]
    print(f"licences: syft on {len(licensed)} of {len(artifacts)}, "
          f"ours on {sum(1 for p in ours.values() if p.licenses)}")
    assert (missing, wrong_cpe) == ([], [])
