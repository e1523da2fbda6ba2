"""The join of a report's package to the image's packages: purl first, then (type,
name, version[, arch]), then without an epoch, then a Debian source package."""

from __future__ import annotations

import pytest

from inspector.catalog.builder import Package
from inspector.vulns.formats import parse_purl
from inspector.vulns.join import Joiner
from inspector.vulns.model import PackageRef

PACKAGES = [
    Package("deb", "libc6", "2.36-9+deb12u14", "amd64", upstream="glibc"),
    Package("deb", "libc-bin", "2.36-9+deb12u14", "amd64", upstream="glibc"),
    Package("deb", "bash", "5.2.15-2+b13", "amd64", upstream="bash (5.2.15-2)"),
    Package("deb", "bsdutils", "1:2.38.1-5+deb12u3", "amd64",
            upstream="util-linux (2.38.1-5+deb12u3)"),
    Package("deb", "libzstd1", "1.5.4+dfsg2-5", "amd64"),
    Package("deb", "libzstd1", "1.5.4+dfsg2-5", "i386"),
    Package("python", "typing-extensions", "4.12.2"),
    Package("npm", "@babel/core", "7.24.0"),
    Package("rpm", "openssl-libs", "1:3.0.7-24.el9", "x86_64"),
    Package("apk", "busybox", "1.36.1-r29", "x86_64", upstream="busybox"),
]

JOINS = [  # (name, the report's package, expected package indexes)
    ("purl, exact", PackageRef("deb", "", "", purl="pkg:deb/debian/libc6@2.36-9%2Bdeb12u14"
                                                  "?arch=amd64&distro=debian-12"), (0,)),
    ("purl picks the arch", PackageRef("deb", "libzstd1", "1.5.4+dfsg2-5",
                                       purl="pkg:deb/debian/libzstd1@1.5.4%2Bdfsg2-5?arch=i386"),
     (5,)),
    ("name, version, arch", PackageRef("deb", "libzstd1", "1.5.4+dfsg2-5", arch="i386"), (5,)),
    ("name and version, no arch: the first", PackageRef("deb", "libzstd1", "1.5.4+dfsg2-5"), (4,)),
    ("deb version with its epoch", PackageRef("deb", "bsdutils", "1:2.38.1-5+deb12u3"), (3,)),
    ("deb version without the epoch", PackageRef("deb", "bsdutils", "2.38.1-5+deb12u3"), (3,)),
    ("purl without the epoch", PackageRef("deb", "", "", purl="pkg:deb/debian/bsdutils@"
                                          "2.38.1-5%2Bdeb12u3?arch=amd64"), (3,)),
    ("deb source package (Source: without a version)",
     PackageRef("deb", "glibc", "2.36-9+deb12u14"), (0, 1)),
    ("deb source package at its own version (bash (5.2.15-2))",
     PackageRef("deb", "bash", "5.2.15-2"), (2,)),
    ("deb source named by grype's upstreams",
     PackageRef("deb", "libc6-dev", "2.36-9+deb12u14", sources=("glibc",)), (0, 1)),
    ("source package at another version: nothing",
     PackageRef("deb", "glibc", "2.36-9+deb12u13"), ()),
    ("another version: nothing", PackageRef("deb", "libc6", "2.36-9+deb12u13"), ()),
    ("pypi purl, PEP 503 name", PackageRef("", "", "", purl="pkg:pypi/Typing_Extensions@4.12.2"),
     (6,)),
    ("npm purl with a scope", PackageRef("", "", "", purl="pkg:npm/%40babel/core@7.24.0"), (7,)),
    ("rpm purl with an epoch qualifier",
     PackageRef("rpm", "", "", purl="pkg:rpm/redhat/openssl-libs@3.0.7-24.el9?arch=x86_64&epoch=1"),
     (8,)),
    ("a type the report leaves out (CycloneDX without a purl)",
     PackageRef("", "busybox", "1.36.1-r29"), (9,)),
    ("a package the image lacks", PackageRef("gem", "uri", "0.10.1"), ()),
    ("the apk upstream is not a Debian source", PackageRef("apk", "busybox-extras", "1.36.1-r29",
                                                           sources=("busybox",)), ()),
]


@pytest.mark.parametrize(("name", "ref", "expected"), JOINS, ids=[c[0] for c in JOINS])
def test_join(name, ref, expected):
    assert Joiner(PACKAGES).find(ref) == expected


PURLS = [  # (name, purl, expected (type, name, version, arch, upstream, epoch))
    ("deb", "pkg:deb/debian/bash@5.2.15-2%2Bb13?arch=amd64&upstream=bash%405.2.15-2",
     ("deb", "bash", "5.2.15-2+b13", "amd64", "bash@5.2.15-2", None)),
    ("golang module path", "pkg:golang/github.com/a/b@v1.2.3",
     ("go", "github.com/a/b", "v1.2.3", None, None, None)),
    ("no version", "pkg:generic/busybox", ("binary", "busybox", "", None, None, None)),
    ("not a purl", "cpe:2.3:a:gnu:bash", ("", "", "", None, None, None)),
    ("no name", "pkg:deb/", ("", "", "", None, None, None)),
]


@pytest.mark.parametrize(("name", "purl", "expected"), PURLS, ids=[c[0] for c in PURLS])
def test_parse_purl(name, purl, expected):
    assert parse_purl(purl) == expected
