"""Platforms: parse ``OS/ARCH[/VARIANT]``, normalise like containerd, choose from an index.

Normalisation follows containerd/platforms ``Normalize``: ``aarch64``→``arm64``,
``x86_64``/``x86-64``→``amd64``, ``i386``/``i686``→``386``, arm64 variant ``v8`` is the
same as no variant, ``armhf``→``arm/v7``, ``armel``→``arm/v6``.
"""

from __future__ import annotations

from typing import NamedTuple

from inspector.errors import InvalidReference, PlatformNotFound
from inspector.oci.media_types import ATTESTATION_ANNOTATION

_ARCH_ALIASES = {
    "aarch64": ("arm64", ""),
    "x86_64": ("amd64", ""),
    "x86-64": ("amd64", ""),
    "i386": ("386", ""),
    "i686": ("386", ""),
    "armhf": ("arm", "v7"),
    "armel": ("arm", "v6"),
}


class Platform(NamedTuple):
    """An immutable ``OS/ARCH[/VARIANT]``, ordered and hashed by its fields (a NamedTuple:
    every process creates it at start-up, where a frozen dataclass costs ~1 ms)."""

    os: str
    architecture: str
    variant: str = ""

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = [p for p in text.strip().lower().split("/")]
        if not 2 <= len(parts) <= 3 or not all(parts):
            raise InvalidReference(
                f"invalid platform {text!r}", hint="use OS/ARCH[/VARIANT], e.g. linux/arm64"
            )
        return cls(*parts).normalized()

    @classmethod
    def from_descriptor(cls, platform: dict | None) -> Platform:
        """An index entry's ``platform`` object; an entry without one is linux/amd64."""
        if not platform:
            return cls("linux", "amd64")
        return cls(
            str(platform.get("os", "")).lower(),
            str(platform.get("architecture", "")).lower(),
            str(platform.get("variant", "") or "").lower(),
        ).normalized()

    def normalized(self) -> Platform:
        arch, variant = self.architecture, self.variant
        if arch in _ARCH_ALIASES:
            arch, implied = _ARCH_ALIASES[arch]
            variant = variant or implied
        if arch == "arm64" and variant in ("v8", "8", "v8.0", "8.0"):
            variant = ""
        if arch == "arm":
            variant = "v7" if variant in ("", "7") else variant
            if variant in ("5", "6", "8"):
                variant = "v" + variant
        if arch == "amd64" and variant == "v1":
            variant = ""
        return Platform(self.os, arch, variant)

    def __str__(self) -> str:
        base = f"{self.os}/{self.architecture}"
        return f"{base}/{self.variant}" if self.variant else base


DEFAULT_PLATFORM = Platform("linux", "amd64")


def is_attestation(entry: dict) -> bool:
    """Index entries that are not runnable images: buildkit attestation manifests
    (``unknown/unknown`` + ``vnd.docker.reference.type``) and OCI attestation artifacts."""
    annotations = entry.get("annotations") or {}
    if ATTESTATION_ANNOTATION in annotations:
        return True
    platform = entry.get("platform") or {}
    if platform.get("os") == "unknown" or platform.get("architecture") == "unknown":
        return True
    artifact = entry.get("artifactType") or ""
    return "attestation" in artifact or "in-toto" in artifact


def compatible(wanted: Platform) -> list[Platform]:
    """Platforms that run where ``wanted`` runs, best first, same OS and architecture only
    (containerd's platform vector, minus cross-arch fallbacks): arm v7 → v6 → v5,
    amd64 v3 → v2 → v1."""
    wanted = wanted.normalized()
    order = {"arm": ["v8", "v7", "v6", "v5"], "amd64": ["v4", "v3", "v2", ""]}.get(wanted.architecture)
    if not order or wanted.variant not in order:
        return [wanted]
    return [Platform(wanted.os, wanted.architecture, v) for v in order[order.index(wanted.variant):]]


def choose_manifest(entries: list[dict], wanted: Platform, *, where: str) -> dict:
    """The index entry for ``wanted`` after normalisation: the first exact match, else the
    first entry of the best compatible variant (``compatible``). Attestations are never
    chosen. Raises ``PlatformNotFound`` listing what is there."""
    wanted = wanted.normalized()
    candidates = [e for e in entries if not is_attestation(e)]
    platforms = [Platform.from_descriptor(e.get("platform")) for e in candidates]
    for acceptable in compatible(wanted):
        for entry, platform in zip(candidates, platforms, strict=True):
            if platform == acceptable:
                return entry
    available = sorted({str(Platform.from_descriptor(e.get("platform"))) for e in candidates})
    raise PlatformNotFound(
        f"{where}: no image for platform {wanted}; available: {', '.join(available) or 'none'}",
        hint="choose one with --platform",
    )
