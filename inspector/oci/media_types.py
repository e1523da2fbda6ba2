"""Media-type constants and predicates (OCI image-spec and Docker schema2)."""

from __future__ import annotations

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_LAYER_ND = "application/vnd.oci.image.layer.nondistributable.v1.tar"
OCI_LAYER_ND_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
OCI_LAYER_ND_ZSTD = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"

DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"

INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
CONFIG_TYPES = frozenset({OCI_CONFIG, DOCKER_CONFIG})
SCHEMA1_TYPES = frozenset({DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED})
LAYER_TYPES = frozenset({
    OCI_LAYER, OCI_LAYER_GZIP, OCI_LAYER_ZSTD,
    OCI_LAYER_ND, OCI_LAYER_ND_GZIP, OCI_LAYER_ND_ZSTD,
    DOCKER_LAYER, DOCKER_LAYER_GZIP, DOCKER_FOREIGN_LAYER,
    "application/vnd.docker.image.rootfs.diff.tar.zstd",
})

#: Sent in ``Accept`` for manifests: every type we can read (registry.md §3.1).
MANIFEST_ACCEPT = ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST])

#: Docker's in-toto attestation marker on index entries (buildkit attestation-storage.md).
ATTESTATION_ANNOTATION = "vnd.docker.reference.type"


def is_index(media_type: str | None) -> bool:
    return media_type in INDEX_TYPES


def is_manifest(media_type: str | None) -> bool:
    return media_type in MANIFEST_TYPES


def is_layer(media_type: str | None) -> bool:
    if not media_type:
        return False
    return media_type in LAYER_TYPES or media_type.startswith("application/vnd.oci.image.layer.")


def is_encrypted(media_type: str | None) -> bool:
    return media_type is not None and media_type.endswith("+encrypted")


def sniff_manifest_type(doc: dict) -> str | None:
    """The media type of a parsed manifest/index document: its own ``mediaType`` field, or
    inferred from its shape (OCI allows omitting the field). ``None`` if ambiguous."""
    declared = doc.get("mediaType")
    if doc.get("schemaVersion") == 1:
        return DOCKER_SCHEMA1
    has_manifests = "manifests" in doc
    has_layers = "layers" in doc or "config" in doc
    if has_manifests and has_layers:
        return None
    if declared:
        return declared
    if has_manifests:
        return OCI_INDEX
    if has_layers:
        return OCI_MANIFEST
    return None
