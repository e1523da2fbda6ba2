"""What both SBOM formats say about an image (``describe`` in ``sbom/__init__.py`` builds
it; ``cyclonedx.py`` and ``spdx.py`` write it), apart so the writers never import the package
that imports them (no import circle)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from packageurl import PackageURL

from inspector.catalog.builder import OSInfo, Package
from inspector.errors import InputError
from inspector.visible import visible

if TYPE_CHECKING:
    from inspector.provenance import Provenance

TOOL_NAME = "inspector"
#: the last second a document's date can say (9999-12-31T23:59:59Z)
MAX_EPOCH = 253_402_300_799


def source_date_epoch() -> datetime | None:
    """``SOURCE_DATE_EPOCH`` as a UTC time (reproducible builds: the SBOMs then say this
    time and nothing random), None when it is unset or empty. A value that is not a whole
    number of seconds since 1970 (ASCII digits, up to the year 9999) is an error, as
    reproducible-builds.org asks, rather than quietly ignored."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "")
    if not value:
        return None
    if re.fullmatch("[0-9]+", value) is None or len(value) > 12 or int(value) > MAX_EPOCH:
        shown = visible(value[:40] + ("…" if len(value) > 40 else ""))
        raise InputError(f"SOURCE_DATE_EPOCH={shown!r} is not a UNIX time (an integer number "
                         f"of seconds, 0 to {MAX_EPOCH}): set it to one, or unset it")
    return datetime.fromtimestamp(int(value), UTC)


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
