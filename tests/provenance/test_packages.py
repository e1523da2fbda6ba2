"""Package provenance (issue 26): the layer that added each package, the last layer that
modified its files, and the layer whose whiteouts removed them (``hidden`` when none is
left), in the export and as SBOM properties."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from inspector.analysis import analyze, open_image
from inspector.options import Options
from inspector.provenance import package_provenance
from inspector.report.export import write_export
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout


def _stanza(name: str) -> str:
    return (f"Package: {name}\nStatus: install ok installed\nVersion: 1.0\n"
            "Architecture: amd64\n\n")


def _base_layer() -> bytes:
    files: dict[str, bytes | Entry] = {
        "var/lib/dpkg/status": "".join(map(_stanza, ("alpha", "beta", "gamma"))).encode(),
    }
    for name in ("alpha", "beta", "gamma"):
        files[f"var/lib/dpkg/info/{name}.list"] = (
            f"/usr\n/usr/bin\n/usr/bin/{name}\n/usr/share/{name}\n/usr/share/{name}/README\n"
        ).encode()
        files[f"usr/bin/{name}"] = f"#!{name}\n".encode() * 10
        files[f"usr/share/{name}/README"] = name.encode()
    return make_layer(files)


#: (name, package, expected (added_in, modified_in, removed_in, hidden, removed_files))
CASES = [
    ("whited out in layer 1: hidden", "alpha", (0, 0, 1, True, 2)),
    ("file rewritten in layer 2", "beta", (0, 2, None, False, 0)),
    ("untouched", "gamma", (0, 0, None, False, 0)),
    ("one file removed by an opaque directory in layer 2", "delta", (1, 1, 2, False, 1)),
]


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    root: Path = tmp_path_factory.mktemp("img")
    layer1 = make_layer({  # removes alpha's files; adds delta (its own record)
        "var/lib/dpkg/status": "".join(map(_stanza, ("alpha", "beta", "gamma", "delta"))).encode(),
        "var/lib/dpkg/info/delta.list": b"/opt/delta/bin\n/opt/delta/doc/NOTES\n",
        "opt/delta/bin": b"delta",
        "opt/delta/doc/NOTES": b"notes",
    }, whiteouts=["usr/bin/alpha", "usr/share/alpha"])
    layer2 = make_layer({"usr/bin/beta": b"patched beta\n", "opt/delta/doc/other": b"x"},
                        opaque=["opt/delta/doc"])
    write_oci_layout(root / "oci", [ImageSpec([_base_layer(), layer1, layer2], ref_name="t")])
    options = Options(cache_dir=root / "cache", quiet=True)
    return analyze(open_image(f"oci:{root / 'oci'}:t", options), options)


@pytest.mark.parametrize("name,package,expected", CASES, ids=[c[0] for c in CASES])
def test_package_provenance(analysis, name, package, expected):
    provs = dict(zip((p.name for p in analysis.catalog.packages), package_provenance(analysis),
                     strict=True))
    p = provs[package]
    assert (p.added_in, p.modified_in, p.removed_in, p.hidden, p.removed_files) == expected


def test_export_packages_carry_provenance(analysis):
    out = io.StringIO()
    write_export(analysis, out)
    rows = {p["name"]: p for p in json.loads(out.getvalue())["packages"]}
    for _name, package, (added, modified, removed, hidden, _count) in CASES:
        row = rows[package]
        assert (row["added_in"], row["modified_in"], row["removed_in"], row["hidden"]) == (
            added, modified, removed, hidden)


def test_sbom_properties_carry_provenance(analysis):
    from inspector.sbom import render

    doc = json.loads(render(analysis, "cyclonedx"))
    props = {c["name"]: {p["name"]: p["value"] for p in c.get("properties", [])}
             for c in doc["components"] if c.get("type") != "operating-system"}
    for _name, package, (added, modified, removed, hidden, _count) in CASES:
        got = props[package]
        assert got["inspector:package:layer:added"] == str(added)
        assert got["inspector:package:layer:modified"] == str(modified)
        assert got.get("inspector:package:layer:removed") == (
            None if removed is None else str(removed))
        assert got["inspector:package:hidden"] == str(hidden).lower()
    spdx = json.loads(render(analysis, "spdx-json"))
    comments = {p["name"]: p.get("comment", "") for p in spdx["packages"]}
    assert "layer added 0, last modified 0, files removed in 1 (hidden" in comments["alpha"]
    assert "layer added 0, last modified 2" in comments["beta"]
    assert "removed" not in comments["gamma"]
