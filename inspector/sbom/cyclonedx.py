"""CycloneDX 1.6 JSON, built with cyclonedx-python-lib (the model and its serializer, so the
output follows the schema the library ships and validates against).

The image is ``metadata.component`` (type ``container``, version = manifest digest); the OS
is a component of type ``operating-system``; each package a ``library`` (``application``
for a binary found from its bytes) with its purl, the files it owns as
``evidence.occurrences`` and, as properties, its type, where it was read from and the layer
that introduced it (``inspector:layer:digest`` / ``:diff_id`` / ``:index``), and its
provenance (``inspector:package:layer:added`` / ``:modified`` / ``:removed``,
``inspector:package:hidden``: ``provenance.package_provenance``). A version past
the schema's 1,024 characters is cut (``_version``) and kept whole in the property
``inspector:package:version``; strings arrive UTF-8-safe from ``describe`` (``sbom.text``).

Licences are ``licenses`` (declared; ``sbom.license_form``: a known SPDX id as ``id``, a
lone valid expression as ``expression``, anything else as ``name``: the schema allows one
expression or a list of licences, never both). The first CPE is ``cpe``; the others are
``syft:cpe23`` properties, the spelling syft writes and grype's decoder reads.
"""

from __future__ import annotations

import uuid

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.bom_ref import BomRef
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.component_evidence import ComponentEvidence, Occurrence
from cyclonedx.model.license import (
    DisjunctiveLicense,
    License,
    LicenseAcknowledgement,
    LicenseExpression,
)
from cyclonedx.output.json import JsonV1Dot6

from inspector import __version__
from inspector.sbom.licenses import license_form
from inspector.sbom.model import TOOL_NAME, Description, SbomPackage, source_date_epoch

#: CycloneDX 1.6's ``version`` maxLength (the library warns past it and the schema refuses)
MAX_VERSION = 1024
#: the serial number a reproducible document is first written with, then replaced by one
#: derived from that text (``render``)
_PLACEHOLDER = uuid.UUID(int=0)


def _version(version: str | None) -> str | None:
    """``version`` if the schema takes it, else its start and ``…[N chars]``, N its length."""
    if not version or len(version) <= MAX_VERSION:
        return version or None
    mark = f"…[{len(version)} chars]"
    return version[:MAX_VERSION - len(mark)] + mark


def _licenses(values: list[str]) -> list[License]:
    declared = LicenseAcknowledgement.DECLARED
    forms = [license_form(v) for v in values]
    if len(forms) == 1 and forms[0][0] == "expression":
        return [LicenseExpression(forms[0][1], acknowledgement=declared)]
    return [DisjunctiveLicense(id=v, acknowledgement=declared) if kind == "id"
            else DisjunctiveLicense(name=values[i], acknowledgement=declared)
            for i, (kind, v) in enumerate(forms)]


def _provenance(sp: SbomPackage) -> list[Property]:
    """``inspector:package:layer:added`` / ``:modified`` / ``:removed`` (0-based layer
    indexes) and ``inspector:package:hidden`` (its files all removed by a later layer)."""
    prov = sp.provenance
    if prov is None:
        return []
    props = [Property(name=f"inspector:package:layer:{name}", value=str(value))
             for name, value in (("added", prov.added_in), ("modified", prov.modified_in),
                                 ("removed", prov.removed_in)) if value is not None]
    props.append(Property(name="inspector:package:hidden", value=str(prov.hidden).lower()))
    return props


def _component(sp: SbomPackage) -> Component:
    p = sp.package
    props = [Property(name="inspector:package:type", value=p.type),
             Property(name="inspector:package:source_path", value=p.source_path)]
    if p.version and _version(p.version) != p.version:
        props.append(Property(name="inspector:package:version", value=p.version))
    if p.arch:
        props.append(Property(name="inspector:package:arch", value=p.arch))
    if p.layer is not None:
        props.append(Property(name="inspector:layer:index", value=str(p.layer)))
    if sp.layer_digest:
        props.append(Property(name="inspector:layer:digest", value=sp.layer_digest))
    if sp.layer_diff_id:
        props.append(Property(name="inspector:layer:diff_id", value=sp.layer_diff_id))
    props += [Property(name="syft:cpe23", value=c) for c in sp.cpes[1:]]
    props += _provenance(sp)
    evidence = None
    if sp.files:
        # The library keeps occurrences in a SortedSet ordered by (bom_ref, location, …),
        # and two distinct value-less BomRefs are neither equal nor less than each other,
        # so with one BomRef each no two occurrences compare and they come out in the
        # iteration order of a set hashed by id(): a different order every run. One
        # value-less BomRef shared by them compares equal to itself (``is``), so the
        # location decides; it is written as no bom-ref, as before.
        no_ref = BomRef()
        evidence = ComponentEvidence(
            occurrences=[Occurrence(bom_ref=no_ref, location=f) for f in sp.files])
    kind = ComponentType.APPLICATION if p.type == "binary" else ComponentType.LIBRARY
    return Component(type=kind, name=p.name, version=_version(p.version), purl=sp.purl,
                     bom_ref=sp.ref, properties=props, evidence=evidence,
                     cpe=sp.cpes[0] if sp.cpes else None, licenses=_licenses(p.licenses))


def build(d: Description) -> Bom:
    image = Component(
        type=ComponentType.CONTAINER, name=d.reference, version=_version(d.manifest_digest),
        bom_ref="image",
        properties=[Property(name="inspector:image:manifest_digest", value=d.manifest_digest),
                    Property(name="inspector:image:config_digest", value=d.config_digest),
                    Property(name="inspector:image:platform", value=d.platform)])
    bom = Bom()
    bom.metadata.component = image
    bom.metadata.tools.components.add(
        Component(type=ComponentType.APPLICATION, name=TOOL_NAME, version=__version__))
    components = [_component(sp) for sp in d.packages]
    if d.os.id:
        os_component = Component(type=ComponentType.OPERATING_SYSTEM, name=d.os.id,
                                 version=_version(d.os.version_id),
                                 description=d.os.pretty_name or None, bom_ref="os")
        components.insert(0, os_component)
    for component in components:
        bom.components.add(component)
    bom.register_dependency(image, components)
    return bom


def render(d: Description) -> str:
    """The CycloneDX 1.6 JSON document (indented, newline-terminated).

    Its ``metadata.timestamp`` is now and its ``serialNumber`` random (the spec: every BOM
    generated has a unique one) unless ``SOURCE_DATE_EPOCH`` is set (reproducible
    builds): then the timestamp is that time and the serial number a UUIDv5 of the
    document itself, so the same image gives the same bytes and any other content
    another serial number."""
    bom = build(d)
    epoch = source_date_epoch()
    if epoch is None:
        return JsonV1Dot6(bom).output_as_string(indent=2) + "\n"
    bom.metadata.timestamp = epoch
    bom.serial_number = _PLACEHOLDER
    text = JsonV1Dot6(bom).output_as_string(indent=2) + "\n"
    # unique: a string from the image has its quotes escaped, so it cannot contain this
    field = f'"serialNumber": "{_PLACEHOLDER.urn}"'
    serial = uuid.uuid5(uuid.NAMESPACE_URL, text)
    return text.replace(field, f'"serialNumber": "{serial.urn}"', 1)
