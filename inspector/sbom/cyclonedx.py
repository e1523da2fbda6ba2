"""CycloneDX 1.6 JSON, built with cyclonedx-python-lib (the model and its serializer, so the
output follows the schema the library ships and validates against).

The image is ``metadata.component`` (type ``container``, version = manifest digest); the OS
is a component of type ``operating-system``; each package a ``library`` (``application``
for a binary found from its bytes) with its purl, the files it owns as
``evidence.occurrences`` and, as properties, its type, where it was read from and the layer
that introduced it (``inspector:layer:digest`` / ``:diff_id`` / ``:index``).
"""

from __future__ import annotations

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.component_evidence import ComponentEvidence, Occurrence
from cyclonedx.output.json import JsonV1Dot6

from inspector import __version__
from inspector.sbom import TOOL_NAME, Description, SbomPackage


def _component(sp: SbomPackage) -> Component:
    p = sp.package
    props = [Property(name="inspector:package:type", value=p.type),
             Property(name="inspector:package:source_path", value=p.source_path)]
    if p.arch:
        props.append(Property(name="inspector:package:arch", value=p.arch))
    if p.layer is not None:
        props.append(Property(name="inspector:layer:index", value=str(p.layer)))
    if sp.layer_digest:
        props.append(Property(name="inspector:layer:digest", value=sp.layer_digest))
    if sp.layer_diff_id:
        props.append(Property(name="inspector:layer:diff_id", value=sp.layer_diff_id))
    evidence = None
    if sp.files:
        evidence = ComponentEvidence(occurrences=[Occurrence(location=f) for f in sp.files])
    kind = ComponentType.APPLICATION if p.type == "binary" else ComponentType.LIBRARY
    return Component(type=kind, name=p.name, version=p.version or None, purl=sp.purl,
                     bom_ref=sp.ref, properties=props, evidence=evidence)


def build(d: Description) -> Bom:
    image = Component(
        type=ComponentType.CONTAINER, name=d.reference, version=d.manifest_digest or None,
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
                                 version=d.os.version_id or None,
                                 description=d.os.pretty_name or None, bom_ref="os")
        components.insert(0, os_component)
    for component in components:
        bom.components.add(component)
    bom.register_dependency(image, components)
    return bom


def render(d: Description) -> str:
    """The CycloneDX 1.6 JSON document (indented, newline-terminated)."""
    return JsonV1Dot6(build(d)).output_as_string(indent=2) + "\n"
