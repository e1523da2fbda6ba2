"""Packages, categories and findings side by side: from real dpkg databases written in
code (the catalog reads them), and from analyses with a given catalog/classification
(the diff rules on their own)."""

from __future__ import annotations

import dataclasses

import pytest

from inspector.analysis import analyze
from inspector.catalog.builder import Catalog, Package
from inspector.classify import CATEGORY_ORDER, CategoryTotal, Classification, Findings
from inspector.compare import compare_analyses, compare_references
from inspector.sources.resolve import open_image
from tests.compare.helpers import layer, layout


def status(*packages: tuple[str, str]) -> bytes:
    return "".join(f"Package: {name}\nStatus: install ok installed\nVersion: {version}\n"
                   f"Architecture: amd64\n\n" for name, version in packages).encode()


def test_dpkg_only_in_version_changed_common(tmp_path, options):
    refs = layout(tmp_path / "oci", {
        "debian": [layer({"var/lib/dpkg/status": status(
            ("base-files", "12.4+deb12u5"), ("bash", "5.2.15-2+b2"), ("tzdata", "2024a-0"))})],
        "distroless": [layer({
            "var/lib/dpkg/status.d/base-files": status(("base-files", "12.4+deb12u6")),
            "var/lib/dpkg/status.d/tzdata": status(("tzdata", "2024a-0")),
            "var/lib/dpkg/status.d/netbase": status(("netbase", "6.4")),
        })]})
    pk = compare_references([refs["debian"], refs["distroless"]], options).packages
    assert [[p.name for p in x] for x in pk.only_in] == [["bash"], ["netbase"]]
    assert [(v.name, v.versions) for v in pk.version_changed] == [
        ("base-files", ["12.4+deb12u5", "12.4+deb12u6"])]
    assert [p.name for p in pk.common] == ["tzdata"]
    assert pk.common_count == 1


def _analysis(tmp_path, options, name, packages=(), totals=None, findings=None):
    refs = layout(tmp_path / name, {name: [layer({"f": b"x"})]})
    a = analyze(open_image(refs[name], options), options)
    cls = Classification(totals=totals or {},
                         findings=Findings(**findings) if findings else Findings())
    return dataclasses.replace(a, catalog=Catalog(packages=list(packages)), classification=cls)


def deb(name, version, size=None, type_="deb"):
    return Package(type=type_, name=name, version=version, size=size)


# (name, packages per image, only_in names, version_changed (name, versions), common names)
PACKAGE_CASES = [
    ("only-in sorted by size, largest first",
     [[deb("small", "1", 10), deb("big", "1", 5000), deb("unknown", "1")], []],
     [["big", "small", "unknown"], []], [], []),
    ("same name, different types are different packages",
     [[deb("six", "1.16", type_="python")], [deb("six", "1.16", type_="deb")]],
     [["six"], ["six"]], [], []),
    ("one name installed twice: versions joined",
     [[deb("ms", "2.1.2", type_="npm"), deb("ms", "2.0.0", type_="npm")],
      [deb("ms", "2.1.2", type_="npm")]],
     [[], []], [("ms", ["2.0.0, 2.1.2", "2.1.2"])], []),
    ("three images: partial presence is neither only-in nor common",
     [[deb("a", "1"), deb("c", "1")], [deb("a", "1"), deb("c", "1")], [deb("c", "1")]],
     [[], [], []], [], ["c"]),
    ("three images: version differs where present",
     [[deb("libc6", "2.36-9")], [deb("libc6", "2.36-9+deb12u4")], []],
     [[], [], []], [("libc6", ["2.36-9", "2.36-9+deb12u4", None])], []),
]


@pytest.mark.parametrize(("name", "per_image", "only_in", "changed", "common"), PACKAGE_CASES,
                         ids=[c[0] for c in PACKAGE_CASES])
def test_package_rules(tmp_path, options, name, per_image, only_in, changed, common):
    analyses = [_analysis(tmp_path, options, f"i{i}", pkgs) for i, pkgs in enumerate(per_image)]
    pk = compare_analyses(analyses).packages
    assert [[p.name for p in x] for x in pk.only_in] == only_in
    assert [(v.name, v.versions) for v in pk.version_changed] == changed
    assert [p.name for p in pk.common] == common


def test_package_sizes_kept(tmp_path, options):
    analyses = [_analysis(tmp_path, options, "a", [deb("bash", "5.2", 1_400_000)]),
                _analysis(tmp_path, options, "b", [deb("bash", "5.1", 1_300_000)])]
    (change,) = compare_analyses(analyses).packages.version_changed
    assert change.sizes == [1_400_000, 1_300_000]
    assert analyses and compare_analyses(analyses[:1]).packages.only_in[0][0].size == 1_400_000


def test_categories_verdicts_and_order(tmp_path, options):
    shell = CategoryTotal(6, 1_400_000, ["/bin/bash", "/bin/dash"])
    analyses = [
        _analysis(tmp_path, options, "debian-12-slim",
                  totals={"shell": shell, "certificates": CategoryTotal(1, 200_000, ["/etc/ssl/x"]),
                          "zz_custom": CategoryTotal(1, 1, ["/zz"])}),
        _analysis(tmp_path, options, "distroless-static",
                  totals={"certificates": CategoryTotal(1, 200_000, ["/etc/ssl/x"])}),
    ]
    result = compare_analyses(analyses, labels=["debian-12-slim", "distroless-static"])
    assert [r.name for r in result.categories] == [*CATEGORY_ORDER, "zz_custom"]
    shell_row = result.categories[0]
    assert shell_row.verdict == "shell: debian-12-slim 6 files 1.4 MB — distroless-static none"
    assert shell_row.per_image[0].paths == ["/bin/bash", "/bin/dash"]
    assert result.verdicts == [
        "shell: debian-12-slim 6 files 1.4 MB — distroless-static none",
        "zz_custom: debian-12-slim 1 file 1 B — distroless-static none",
    ]


def test_findings_side_by_side(tmp_path, options):
    findings = {"setuid": ["/usr/bin/su", "/bin/mount"], "setgid": [], "world_writable": [],
                "login_users": ["root:/bin/bash"]}
    analyses = [_analysis(tmp_path, options, "a", findings=findings),
                _analysis(tmp_path, options, "b")]
    got = compare_analyses(analyses).findings
    assert list(got) == ["setuid", "setgid", "world_writable", "login_users"]
    assert got["setuid"] == [["/bin/mount", "/usr/bin/su"], []]
    assert got["login_users"] == [["root:/bin/bash"], []]


def test_one_image_verdicts_list_what_it_has(tmp_path, options):
    a = _analysis(tmp_path, options, "slim", totals={"shell": CategoryTotal(1, 1500, ["/bin/sh"])})
    assert compare_analyses([a], labels=["slim"]).verdicts == ["shell: slim 1 file 1.5 kB"]
