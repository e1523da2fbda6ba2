"""SPDX 2.3 JSON, written by hand (a dict in the shape of the official schema,
``spdx-spec`` ``schemas/spdx-schema.json`` at 2.3, which the tests validate against;
spdx-tools would add a dozen dependencies for this one document).

The document DESCRIBES the image (a package with purpose ``CONTAINER`` and the manifest's
SHA256); the image CONTAINS the OS (``OPERATING_SYSTEM``) and every package, each with its
purl as a ``PACKAGE-MANAGER`` external reference. Where a package was read from and the
layer that introduced it are in ``sourceInfo``; how many files it owns, and the layers
that added, last modified and removed them (``provenance``), in ``comment``.
Its declared licences are ``licenseDeclared`` (``sbom.license_form``: SPDX ids and
expressions as they are, any other string a ``LicenseRef-`` listed in
``hasExtractedLicensingInfos`` with the string as its text; several joined by ``AND``);
``licenseConcluded`` stays ``NOASSERTION`` (nothing was concluded, as syft writes it). Its
CPEs are ``SECURITY`` ``cpe23Type`` external references, in syft's order.
SPDX 2.3 requires a SHA1 for every File element and the indexer hashes no file content, so
the owned files themselves are listed in the CycloneDX output only (``evidence.occurrences``).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime

from inspector import __version__
from inspector.sbom.licenses import license_form
from inspector.sbom.model import TOOL_NAME, Description, SbomPackage, source_date_epoch

NOASSERTION = "NOASSERTION"
NAMESPACE = "https://spdx.org/spdxdocs/inspector/"


def _spdx_id(text: str) -> str:
    """An ``SPDXRef-`` id: letters, digits, ``.`` and ``-`` only."""
    return "SPDXRef-" + re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-")


def _created() -> str:
    """Now in UTC, or ``SOURCE_DATE_EPOCH`` (reproducible builds) when set."""
    return (source_date_epoch() or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _provenance(sp: SbomPackage) -> str:
    """``; layer added 0, last modified 2, removed 3 (hidden)`` (0-based layer indexes,
    as the export's ``added_in``/``modified_in``/``removed_in``)."""
    prov = sp.provenance
    if prov is None or prov.added_in is None:
        return ""
    out = f"; layer added {prov.added_in}, last modified {prov.modified_in}"
    if prov.removed_in is not None:
        out += f", files removed in {prov.removed_in}"
    return out + (" (hidden: none of its files is left)" if prov.hidden else "")


def _declared(values: list[str], extracted: dict[str, str]) -> str:
    """``licenseDeclared`` of ``values``; a non-SPDX string is added to ``extracted``
    (LicenseRef id → the string)."""
    parts = []
    for value in values:
        kind, spdx = license_form(value)
        if kind == "name":
            spdx = "LicenseRef-" + re.sub(r"[^A-Za-z0-9.-]+", "-", value).strip("-")
            if extracted.get(spdx, value) != value or spdx == "LicenseRef-":
                spdx += "-" + uuid.uuid5(uuid.NAMESPACE_URL, value).hex[:8]
            extracted[spdx] = value
        parts.append(spdx if kind != "expression" or len(values) == 1 else f"({spdx})")
    return " AND ".join(parts) if parts else NOASSERTION


def _package(sp: SbomPackage, spdx_id: str, extracted: dict[str, str]) -> dict:
    p = sp.package
    where = f"acquired package info from {p.type} metadata: {p.source_path}"
    if p.layer is not None:
        where += f" (layer {p.layer}: {sp.layer_digest}, diff_id {sp.layer_diff_id})"
    out = {
        "SPDXID": spdx_id, "name": p.name, "downloadLocation": NOASSERTION,
        "filesAnalyzed": False, "licenseConcluded": NOASSERTION,
        "licenseDeclared": _declared(p.licenses, extracted), "copyrightText": NOASSERTION,
        "sourceInfo": where,
        "primaryPackagePurpose": "APPLICATION" if p.type == "binary" else "LIBRARY",
        "comment": f"owns {len(sp.files)} file(s) in the image" + _provenance(sp),
    }
    refs = [{"referenceCategory": "SECURITY", "referenceType": "cpe23Type",
             "referenceLocator": c} for c in sp.cpes]
    if sp.purl is not None:
        refs.append({"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                     "referenceLocator": sp.purl.to_string()})
    if refs:
        out["externalRefs"] = refs
    if p.version:
        out["versionInfo"] = p.version
    return out


def build(d: Description) -> dict:
    image_id = "SPDXRef-DocumentRoot-Image"
    image = {"SPDXID": image_id, "name": d.reference, "downloadLocation": NOASSERTION,
             "filesAnalyzed": False, "licenseConcluded": NOASSERTION,
             "licenseDeclared": NOASSERTION, "copyrightText": NOASSERTION,
             "primaryPackagePurpose": "CONTAINER",
             "comment": f"platform {d.platform}; config {d.config_digest}"}
    if d.manifest_digest.startswith("sha256:"):
        image["versionInfo"] = d.manifest_digest
        image["checksums"] = [{"algorithm": "SHA256",
                               "checksumValue": d.manifest_digest.removeprefix("sha256:")}]
    packages = [image]
    relationships = [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
                      "relatedSpdxElement": image_id}]
    if d.os.id:
        os_package = {"SPDXID": "SPDXRef-OperatingSystem", "name": d.os.id,
                      "downloadLocation": NOASSERTION, "filesAnalyzed": False,
                      "primaryPackagePurpose": "OPERATING_SYSTEM"}
        if d.os.version_id:
            os_package["versionInfo"] = d.os.version_id
        if d.os.pretty_name:
            os_package["description"] = d.os.pretty_name
        packages.append(os_package)
        relationships.append({"spdxElementId": image_id, "relationshipType": "CONTAINS",
                              "relatedSpdxElement": "SPDXRef-OperatingSystem"})
    extracted: dict[str, str] = {}
    for i, sp in enumerate(d.packages):
        spdx_id = _spdx_id(f"Package-{sp.package.type}-{sp.package.name}-{i}")
        packages.append(_package(sp, spdx_id, extracted))
        relationships.append({"spdxElementId": image_id, "relationshipType": "CONTAINS",
                              "relatedSpdxElement": spdx_id})
    name = d.reference
    unique = uuid.uuid5(uuid.NAMESPACE_URL, f"{d.reference}@{d.manifest_digest}")
    return {
        "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
        "name": name,
        "documentNamespace": NAMESPACE + re.sub(r"[^A-Za-z0-9._-]+", "-", name) + f"-{unique}",
        "creationInfo": {"created": _created(),
                         "creators": [f"Tool: {TOOL_NAME}-{__version__}"]},
        "documentDescribes": [image_id],
        "packages": packages,
        "relationships": relationships,
    } | ({"hasExtractedLicensingInfos": [
        {"licenseId": ref, "extractedText": value, "name": value}
        for ref, value in sorted(extracted.items())]} if extracted else {})


def render(d: Description) -> str:
    return json.dumps(build(d), indent=2, ensure_ascii=False) + "\n"
