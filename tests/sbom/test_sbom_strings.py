"""Every SBOM validates, whatever the image's strings (issue 23 item 15).

Each hostile string goes into every field an image gives an SBOM — a dpkg and an apk
package's name, version, architecture and source, the path it owns, an npm package's name
and version (JSON can carry lone surrogates), ``/etc/os-release`` — then both formats are
rendered with warnings as errors, encoded as strict UTF-8 and validated against their
schemas (CycloneDX 1.6 with the library's own validator, SPDX 2.3 with the vendored
schema). Bytes that are not UTF-8 come out as ``\\xNN`` (``sbom.text``); a version past
CycloneDX's 1,024 characters is cut there and kept whole in a property."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from packageurl import PackageURL

from inspector.analysis import analyze
from inspector.options import Options
from inspector.sbom import render
from inspector.sources.resolve import open_image
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout
from tests.hostile.strings import HOSTILE, Hostile
from tests.sbom.test_sbom import ROOT, assert_valid_cyclonedx, assert_valid_spdx

#: the shared hostile strings, and what SBOMs add: sizes and code points past the others
STRINGS = [*HOSTILE,
           Hostile("two-megabytes", "1." + "9" * 2_000_000, "1." + "9" * 2_000_000),
           Hostile("empty", "", ""),
           Hostile("lone-high-surrogate", "v\ud800x", "v\\ud800x"),
           Hostile("astral", "\U0001f600-\U0010ffff", "\U0001f600-\U0010ffff"),
           Hostile("purl-syntax", "a@b?c#d%e:f", "a@b?c#d%e:f")]


def _bytes(raw: str) -> bytes:
    """``raw`` as bytes: surrogateescape surrogates as their byte, other lone surrogates as
    the (invalid) UTF-8 a careless writer produces."""
    try:
        return raw.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return raw.encode("utf-8", "surrogatepass")


def _field(raw: str) -> bytes:
    """``raw`` as one line of a key-value database (a newline would end the field)."""
    return _bytes(raw.replace("\n", " "))


def _image(root: Path, h: Hostile) -> str:
    v = _field(h.raw)
    name = b"p" + v.replace(b"/", b"-")[:200]  # a dpkg/apk name must start the stanza
    owned = "usr/share/" + (_bytes(h.raw.replace("/", "-").replace("\x00", ""))[:200]
                            .decode("utf-8", "surrogateescape") or "x")
    status = (b"Package: " + name + b"\nStatus: install ok installed\nVersion: " + v
              + b"\nArchitecture: a" + v[:100] + b"\nSource: s" + v[:100] + b"\n\n")
    apk = b"P:" + name + b"\nV:" + v + b"\nA:a" + v[:100] + b"\no:o" + v[:100] + b"\nF:lib\nR:x\n\n"
    package_json = json.dumps({"name": h.raw[:200], "version": h.raw[:4000],  # under its cap
                               "license": h.raw[:200]})
    # licences: the string alone, and inside an expression (an SBOM takes neither as SPDX)
    copyright = b"License: " + v[:200] + b"\nLicense: MIT OR (" + v[:50] + b")\n"
    files = {
        "etc/os-release": b"ID=debian\nVERSION_ID=" + v[:2000] + b"\nPRETTY_NAME=\"" + v[:100] + b"\"\n",
        "var/lib/dpkg/status": status,
        "var/lib/dpkg/info/" + name.decode("utf-8", "surrogateescape") + ".list":
            ("/" + owned + "\n").encode("utf-8", "surrogateescape"),
        owned: b"x",
        "lib/apk/db/installed": apk,
        "lib/x": b"y",
        "usr/share/doc/" + name.replace(b"\x00", b"").decode("utf-8", "surrogateescape")
        + "/copyright": copyright,
        "app/node_modules/m/package.json": package_json.encode(),
    }
    write_oci_layout(root / "oci", [ImageSpec([make_layer(
        {k: Entry("file", data=d) for k, d in files.items()})], ref_name="t")])
    return f"oci:{root / 'oci'}:t"


@pytest.mark.parametrize("h", STRINGS, ids=[h.name for h in STRINGS])
def test_every_sbom_validates_whatever_the_strings(tmp_path, h):
    options = Options(cache_dir=tmp_path / "cache")
    analysis = analyze(open_image(_image(tmp_path, h), options), options)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a library warning fails the case
            cdx, spdx = render(analysis, "cyclonedx"), render(analysis, "spdx-json")
    finally:
        analysis.image.close()
    assert {p.type for p in analysis.catalog.packages} >= {"deb", "apk", "npm"}
    for doc in (cdx, spdx):
        doc.encode("utf-8")  # strict: no lone surrogate left
    cdx_doc, spdx_doc = json.loads(cdx), json.loads(spdx)
    assert_valid_cyclonedx(cdx_doc)
    assert_valid_spdx(spdx_doc)
    if h.raw.strip():  # the licences were read and written (npm's at least)
        assert any("licenses" in c for c in cdx_doc["components"])
        assert any(p.get("licenseDeclared", "NOASSERTION") != "NOASSERTION" for p in spdx_doc["packages"])
    for component in cdx_doc["components"]:
        if "purl" in component and "version" in component:
            props = {p["name"]: p["value"] for p in component.get("properties", [])}
            full = props.get("inspector:package:version", component["version"])
            assert PackageURL.from_string(component["purl"]).version == full


#: (name, the database file, its bytes, the version the SBOMs must show)
ISSUE_CASES = [
    ("dpkg version not UTF-8", "var/lib/dpkg/status",
     b"Package: p\nStatus: install ok installed\nVersion: 1.0\xff\xfe\nArchitecture: amd64\n\n",
     "1.0\\xff\\xfe"),
    ("apk version of 2 MB", "lib/apk/db/installed",
     b"P:p\nV:1." + b"0" * 2_000_000 + b"\nA:x86_64\n\n", "1." + "0" * 2_000_000),
]


@pytest.mark.parametrize(("name", "path", "data", "version"), ISSUE_CASES, ids=[c[0] for c in ISSUE_CASES])
def test_the_cli_writes_valid_sboms_and_nothing_on_stderr(tmp_path, name, path, data, version):
    """The reported cases, through ``inspector export`` (stderr empty: no library warning)."""
    write_oci_layout(tmp_path / "oci", [ImageSpec([make_layer({path: data})], ref_name="t")])
    docs = {}
    for fmt in ("cyclonedx", "spdx-json"):
        proc = subprocess.run(
            [sys.executable, "-m", "inspector", "export", f"oci:{tmp_path / 'oci'}:t", "--format", fmt,
             "-q", "--cache-dir", str(tmp_path / "cache")], capture_output=True, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)
        assert (proc.returncode, proc.stderr) == (0, b""), proc.stderr[-2000:]
        docs[fmt] = json.loads(proc.stdout.decode("utf-8"))  # strict UTF-8
    assert_valid_cyclonedx(docs["cyclonedx"])
    assert_valid_spdx(docs["spdx-json"])
    component = next(c for c in docs["cyclonedx"]["components"] if c["name"] == "p")
    props = {p["name"]: p["value"] for p in component["properties"]}
    assert props.get("inspector:package:version", component["version"]) == version
    assert len(component["version"]) <= 1024
    assert PackageURL.from_string(component["purl"]).version == version
    package = next(p for p in docs["spdx-json"]["packages"] if p["name"] == "p")
    assert package["versionInfo"] == version
