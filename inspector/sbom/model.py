"""What both SBOM formats say about an image (``describe`` in ``sbom/__init__.py`` builds
it; ``cyclonedx.py`` and ``spdx.py`` write it), apart so the writers never import the package
that imports them (no import circle)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from packageurl import PackageURL

from inspector.catalog.builder import OSInfo, Package

if TYPE_CHECKING:
    from inspector.provenance import Provenance

TOOL_NAME = "inspector"


@dataclass
class SbomPackage:
    package: Package
    purl: PackageURL | None  # None: the fields make no valid purl (an empty name)
    ref: str  # unique within the document
    files: list[str] = field(default_factory=list)  # paths it owns, sorted
    layer_digest: str | None = None
    layer_diff_id: str | None = None
    #: syft's CPEs for it, the first the one grype tries first (``catalog/cpe.py``)
    cpes: list[str] = field(default_factory=list)
    #: the layers that added, last modified and removed its files (``provenance``)
    provenance: Provenance | None = None


@dataclass
class Description:
    reference: str
    manifest_digest: str
    config_digest: str
    platform: str
    os: OSInfo
    packages: list[SbomPackage]
