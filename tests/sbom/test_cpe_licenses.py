"""CPEs by syft's rules and declared licences (issue 26, SBOM completeness). Expected CPEs
come from syft's own tests (anchore/syft ``cpegenerate/generate_test.go``, ``go_test.go``)
and its catalogers' declared CPEs; the cross-check against a real syft run on the samples
is ``tests/sbom/test_sbom.py::test_syft_agrees_on_the_samples``."""

from __future__ import annotations

import json
import re

import pytest

from inspector.analysis import analyze
from inspector.catalog.builder import Package
from inspector.catalog.cpe import cpes, quote, sub_selections
from inspector.catalog.dpkg import parse_copyright
from inspector.catalog.npm import licenses as npm_licenses
from inspector.catalog.python import licenses as python_licenses
from inspector.catalog.python import parse_metadata
from inspector.index import capture
from inspector.options import Options
from inspector.sbom import image_platform, license_form, render
from inspector.sources.resolve import open_image
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout
from tests.catalog.fsbuild import layer_index

#: syft generate_test.go "hyphen replacement" (a Python package): all 32, as a set
NAME_PART = {f"cpe:2.3:a:{v}:{p}:3.2:*:*:*:*:*:*:*"
             for v in ("name-part", "name", "name_part", "python-name-part", "python-name",
                       "python", "python_name", "python_name_part")
             for p in ("name-part", "name_part", "python-name-part", "python_name_part")}

CPE_FIRST = [
    ("deb: name as vendor and product", Package("deb", "bash", "5.2.15-2+b13"),
     "cpe:2.3:a:bash:bash:5.2.15-2\\+b13:*:*:*:*:*:*:*"),
    ("deb: epoch colon quoted", Package("deb", "bsdutils", "1:2.38.1-5+deb12u3"),
     "cpe:2.3:a:bsdutils:bsdutils:1\\:2.38.1-5\\+deb12u3:*:*:*:*:*:*:*"),
    ("deb: hyphen form sorts first", Package("deb", "base-files", "12.4"),
     "cpe:2.3:a:base-files:base-files:12.4:*:*:*:*:*:*:*"),
    ("go stdlib declared", Package("go", "stdlib", "go1.22.5"),
     "cpe:2.3:a:golang:go:1.22.5:-:*:*:*:*:*:*"),
    ("go module: owner and repo", Package("go", "github.com/someone/something", "v1.2.3"),
     "cpe:2.3:a:someone:something:v1.2.3:*:*:*:*:*:*:*"),
    ("go golang.org/x", Package("go", "golang.org/x/xerrors", "v0.1"),
     "cpe:2.3:a:golang:x\\/xerrors:v0.1:*:*:*:*:*:*:*"),
    ("busybox declared", Package("binary", "busybox", "1.35.0"),
     "cpe:2.3:a:busybox:busybox:1.35.0:*:*:*:*:*:*:*"),
    ("apk: syft's vendor addition", Package("apk", "musl", "1.2.5-r0"),
     "cpe:2.3:a:musl-libc:musl:1.2.5-r0:*:*:*:*:*:*:*"),
    ("python: lower case, python- product", Package("python", "Foo-Bar", "1.0"),
     "cpe:2.3:a:python-foo-bar:python-foo-bar:1.0:*:*:*:*:*:*:*"),
    ("npm scoped: / and @ quoted", Package("npm", "@scope/pkg", "0.0.1"),
     "cpe:2.3:a:\\@scope\\/pkg:\\@scope\\/pkg:0.0.1:*:*:*:*:*:*:*"),
]


@pytest.mark.parametrize(("name", "package", "expected"), CPE_FIRST, ids=[c[0] for c in CPE_FIRST])
def test_first_cpe(name, package, expected):
    assert cpes(package)[0] == expected


def test_all_candidates_of_syfts_hyphen_case():
    assert set(cpes(Package("python", "name-part", "3.2"))) == NAME_PART


CPE_NONE = [
    ("go module without an owner", Package("go", "place.com/", "v1")),
    ("go module of one element", Package("go", "place", "v1")),
    ("a name with a space", Package("deb", "a b", "1")),
]


@pytest.mark.parametrize(("name", "package"), CPE_NONE, ids=[c[0] for c in CPE_NONE])
def test_no_cpe(name, package):
    assert cpes(package) == []


def test_npm_vendor_from_its_repository_url():
    p = Package("npm", "left-pad", "1.3.0", urls=["https://github.com/stevemao/left-pad.git"])
    assert "cpe:2.3:a:stevemao:left-pad:1.3.0:*:*:*:*:*:*:*" in cpes(p)


@pytest.mark.parametrize(("value", "expected"), [
    ("a-b_c", ["a", "a-b", "a-b_c"]), ("plain", ["plain"]), ("-x-", ["x"])])
def test_sub_selections(value, expected):
    assert sub_selections(value) == expected


def test_quote_escapes_everything_but_the_plain_characters():
    assert quote("A+b:c~d") == "a\\+b\\:c\\~d" and quote("") == "*"


COPYRIGHT = [
    ("DEP-5", b"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
              b"Files: *\nLicense: GPL-2+\n\nFiles: lib/*\nLicense: BSD-3-clause\n",
     ["BSD-3-clause", "GPL-2+"]),
    ("free-form, common-licenses reference",
     b"This is free software.\nSee /usr/share/common-licenses/GPL-3.\n", ["GPL-3"]),
    ("License: none ignored, first word only",
     b"License: none\nLicense: MIT or Apache\n", ["MIT"]),
    ("nothing", b"Copyright 2020 someone\n", []),
    # syft's pattern is ``^License: (\S*)`` per line: only a field at a line's start
    ("field on the first line, no newline at all", b"License: Zlib", ["Zlib"]),
    ("indented or mid-line: not a field",
     b"  License: A\nSee License: B\nXLicense: C\n", []),
    ("CRLF lines: the value stops at the CR", b"Files: *\r\nLicense: MIT\r\n", ["MIT"]),
    ("empty value, then a field on the next line", b"License: \nLicense: ISC\n", ["ISC"]),
    ("no space after the colon: not a field", b"License:MIT\n", []),
    ("not UTF-8: the byte kept as its surrogate", b"License: GPL\xff-2\n", ["GPL\udcff-2"]),
    ("a non-ASCII space (NBSP) ends a value", b"License: MIT\xc2\xa0or BSD\n", ["MIT"]),
    ("U+2028 ends a value", b"License: ISC\xe2\x80\xa8x\n", ["ISC"]),
    ("a references path right after an empty one",
     b"/usr/share/common-licenses//usr/share/common-licenses/MIT.\n", ["MIT"]),
    ("a field on the last line, no newline", b"Files: *\nLicense: Expat", ["Expat"]),
]

#: syft's patterns as it writes them (``parse_copyright.go``): the reference
SYFT_LICENSE = re.compile(r"^License: (\S*)", re.M)
SYFT_COMMON = re.compile(r"/usr/share/common-licenses/([0-9A-Za-z_.\-]+)")


@pytest.mark.parametrize(("name", "data", "expected"), COPYRIGHT, ids=[c[0] for c in COPYRIGHT])
def test_parse_copyright_finds_what_syfts_patterns_find(name, data, expected):
    text = data.decode("utf-8", "surrogateescape")
    found = {m.rstrip(".") for m in (*SYFT_LICENSE.findall(text), *SYFT_COMMON.findall(text))}
    assert parse_copyright(data) == sorted(v for v in found if v and v.lower() != "none")


@pytest.mark.parametrize(("name", "data", "expected"), COPYRIGHT, ids=[c[0] for c in COPYRIGHT])
def test_parse_copyright(name, data, expected):
    assert parse_copyright(data) == expected


METADATA = [
    ("License-Expression wins", b"Name: a\nLicense-Expression: MIT OR Apache-2.0\nLicense: BSD\n",
     ["MIT OR Apache-2.0"]),
    ("License field", b"Name: a\nLicense: BSD-3-Clause\n", ["BSD-3-Clause"]),
    ("UNKNOWN falls back to classifiers",
     b"Name: a\nLicense: UNKNOWN\nClassifier: License :: OSI Approved :: MIT License\n"
     b"Classifier: Programming Language :: Python\n", ["MIT License"]),
    ("none", b"Name: a\nVersion: 1\n", []),
]


@pytest.mark.parametrize(("name", "data", "expected"), METADATA, ids=[c[0] for c in METADATA])
def test_python_licenses(name, data, expected):
    assert python_licenses(data, parse_metadata(data)) == expected


NPM = [
    ("string", {"license": "MIT"}, ["MIT"]),
    ("old object", {"license": {"type": "ISC"}}, ["ISC"]),
    ("old list", {"licenses": [{"type": "MIT"}, "BSD-2-Clause"]}, ["MIT", "BSD-2-Clause"]),
    ("not a string", {"license": 3}, []),
]


@pytest.mark.parametrize(("name", "doc", "expected"), NPM, ids=[c[0] for c in NPM])
def test_npm_licenses(name, doc, expected):
    assert npm_licenses(json.loads(json.dumps(doc))) == expected


FORMS = [
    ("SPDX id", "MIT", ("id", "MIT")),
    ("id case fixed", "BSD-3-clause", ("id", "BSD-3-Clause")),
    ("Debian GNU short name", "GPL-2+", ("id", "GPL-2.0-or-later")),
    ("major only", "Apache-2", ("id", "Apache-2.0")),
    ("expression", "mit or apache-2.0", ("expression", "MIT OR Apache-2.0")),
    ("unknown in an expression", "MIT AND (foo OR BSD-3-Clause)", ("name", "MIT AND (foo OR BSD-3-Clause)")),
    ("broken expression", "MIT OR", ("name", "MIT OR")),
    ("free text", "public-domain", ("name", "public-domain")),
    ("a bare word that would alias", "GPL", ("name", "GPL")),
]


@pytest.mark.parametrize(("name", "value", "expected"), FORMS, ids=[c[0] for c in FORMS])
def test_license_form(name, value, expected):
    assert license_form(value) == expected


CHILD = [
    ("a package's copyright", "/usr/share/doc/bash/copyright", True),
    ("one level only", "/usr/share/doc/bash/examples/copyright", False),
    ("another name", "/usr/share/doc/bash/changelog.gz", False),
    ("elsewhere", "/usr/lib/python3/dist-packages/x/copyright", False),
]


@pytest.mark.parametrize(("name", "path", "captured"), CHILD, ids=[c[0] for c in CHILD])
def test_copyright_capture_is_one_level_below_usr_share_doc(name, path, captured):
    assert (capture.capture_limit(path) > 0) is captured
    index = layer_index({path.lstrip("/"): b"License: MIT\n"})
    assert (path in index.captured) is captured


PLATFORMS = [
    ("arm64 keeps v8", {"os": "linux", "architecture": "arm64", "variant": "v8"}, "linux/arm64", "linux/arm64/v8"),
    ("no variant", {"os": "linux", "architecture": "amd64"}, "linux/amd64", "linux/amd64"),
    ("no architecture: the source's", {}, "linux/amd64", "linux/amd64"),
    ("variant not a string", {"os": "linux", "architecture": "arm", "variant": 7}, "linux/arm/v7", "linux/arm"),
]


@pytest.mark.parametrize(("name", "config", "platform", "expected"), PLATFORMS, ids=[c[0] for c in PLATFORMS])
def test_image_platform_keeps_the_variant(name, config, platform, expected):
    assert image_platform(config, platform) == expected


def test_sbom_of_an_arm64_v8_image_says_v8(tmp_path):
    layer = make_layer({"etc/os-release": Entry("file", data=b"ID=debian\nVERSION_ID=12\n")})
    write_oci_layout(tmp_path / "oci", [ImageSpec([layer], platform="linux/arm64/v8", ref_name="t")])
    options = Options(cache_dir=tmp_path / "cache")
    analysis = analyze(open_image(f"oci:{tmp_path / 'oci'}:t", options), options)
    try:
        cdx = json.loads(render(analysis, "cyclonedx"))
    finally:
        analysis.image.close()
    props = {p["name"]: p["value"] for p in cdx["metadata"]["component"]["properties"]}
    assert props["inspector:image:platform"] == "linux/arm64/v8"
