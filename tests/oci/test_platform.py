"""--platform parsing, normalisation and the index → image choice (registry.md §3.10–3.11)."""

from __future__ import annotations

import pytest

from inspector.errors import InvalidReference, PlatformNotFound
from inspector.oci.platform import Platform, choose_manifest, is_attestation

PARSE = [  # (name, --platform, normalised)
    ("plain", "linux/amd64", "linux/amd64"),
    ("upper case", "Linux/AMD64", "linux/amd64"),
    ("aarch64", "linux/aarch64", "linux/arm64"),
    ("arm64/v8 is arm64", "linux/arm64/v8", "linux/arm64"),
    ("arm64/v8.0 is arm64", "linux/arm64/v8.0", "linux/arm64"),
    ("arm64/v8.2 kept", "linux/arm64/v8.2", "linux/arm64/v8.2"),
    ("x86_64", "linux/x86_64", "linux/amd64"),
    ("x86-64", "linux/x86-64", "linux/amd64"),
    ("amd64/v1 is amd64", "linux/amd64/v1", "linux/amd64"),
    ("amd64/v3 kept", "linux/amd64/v3", "linux/amd64/v3"),
    ("i386", "linux/i386", "linux/386"),
    ("arm means v7", "linux/arm", "linux/arm/v7"),
    ("arm 6", "linux/arm/6", "linux/arm/v6"),
    ("armhf", "linux/armhf", "linux/arm/v7"),
    ("armel", "linux/armel", "linux/arm/v6"),
    ("spaces", "  linux/arm64 ", "linux/arm64"),
    ("windows", "windows/amd64", "windows/amd64"),
]


@pytest.mark.parametrize("name,text,expected", PARSE, ids=[p[0] for p in PARSE])
def test_parse(name, text, expected):
    assert str(Platform.parse(text)) == expected


@pytest.mark.parametrize("text", ["linux", "", "linux/", "/amd64", "linux/arm/v7/x", "linux//v7"])
def test_parse_rejects(text):
    with pytest.raises(InvalidReference, match="OS/ARCH"):
        Platform.parse(text)


def entry(name: str, platform: dict | None, **annotations) -> dict:
    e = {"digest": name, "mediaType": "application/vnd.oci.image.manifest.v1+json"}
    if platform is not None:
        e["platform"] = platform
    if annotations:
        e["annotations"] = annotations
    return e


ATTEST = entry("att", {"os": "unknown", "architecture": "unknown"},
               **{"vnd.docker.reference.type": "attestation-manifest"})
INDEX = [
    entry("amd64", {"os": "linux", "architecture": "amd64"}),
    entry("arm64v8", {"os": "linux", "architecture": "arm64", "variant": "v8"}),
    entry("armv6", {"os": "linux", "architecture": "arm", "variant": "v6"}),
    entry("amd64-again", {"os": "linux", "architecture": "amd64"}),
    ATTEST,
]

CHOICES = [  # (name, entries, --platform, chosen digest or error pattern)
    ("exact", INDEX, "linux/amd64", "amd64"),
    ("first of two matches", INDEX, "linux/amd64", "amd64"),
    ("arm64 matches arm64/v8", INDEX, "linux/arm64", "arm64v8"),
    ("aarch64 matches arm64/v8", INDEX, "linux/aarch64", "arm64v8"),
    ("arm64/v8 matches arm64", [entry("a", {"os": "linux", "architecture": "arm64"})], "linux/arm64/v8", "a"),
    ("x86_64 input", INDEX, "linux/x86_64", "amd64"),
    ("arm/v7 falls back to v6", INDEX, "linux/arm/v7", "armv6"),
    ("arm/v6 never takes v7", [entry("v7", {"os": "linux", "architecture": "arm", "variant": "v7"})],
     "linux/arm/v6", "no image for platform linux/arm/v6; available: linux/arm/v7"),
    ("amd64/v3 falls back to amd64", INDEX, "linux/amd64/v3", "amd64"),
    ("no platform means linux/amd64", [entry("np", None)], "linux/amd64", "np"),
    ("no platform is not arm64", [entry("np", None)], "linux/arm64", "available: linux/amd64"),
    ("never a different arch", INDEX, "linux/s390x",
     "no image for platform linux/s390x; available: linux/amd64, linux/arm/v6, linux/arm64"),
    ("attestation never chosen", [ATTEST], "unknown/unknown", "available: none"),
    ("OCI artifact attestation", [dict(entry("art", {"os": "linux", "architecture": "amd64"}),
                                       artifactType="application/vnd.docker.attestation.manifest.v1+json")],
     "linux/amd64", "available: none"),
    ("os differs", [entry("w", {"os": "windows", "architecture": "amd64"})], "linux/amd64", "available: windows/amd64"),
]


@pytest.mark.parametrize("name,entries,wanted,expected", CHOICES, ids=[c[0] for c in CHOICES])
def test_choose_manifest(name, entries, wanted, expected):
    if expected.startswith(("no image", "available")):
        with pytest.raises(PlatformNotFound, match=expected):
            choose_manifest(entries, Platform.parse(wanted), where="idx")
    else:
        assert choose_manifest(entries, Platform.parse(wanted), where="idx")["digest"] == expected


ATTESTATIONS = [  # (name, entry, is attestation)
    ("buildkit unknown/unknown", ATTEST, True),
    ("annotation only", entry("a", {"os": "linux", "architecture": "amd64"},
                              **{"vnd.docker.reference.type": "attestation-manifest"}), True),
    ("unknown os only", entry("a", {"os": "unknown", "architecture": "amd64"}), True),
    ("in-toto artifact", dict(entry("a", None), artifactType="application/vnd.in-toto+json"), True),
    ("plain image", entry("a", {"os": "linux", "architecture": "amd64"}), False),
    ("no platform", entry("a", None), False),
]


@pytest.mark.parametrize("name,e,expected", ATTESTATIONS, ids=[a[0] for a in ATTESTATIONS])
def test_is_attestation(name, e, expected):
    assert is_attestation(e) is expected
