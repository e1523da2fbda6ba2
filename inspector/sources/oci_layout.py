"""OCI image layout, as a directory (``oci:PATH[:TAG]``) or a tar of one
(``oci-archive:PATH[:TAG]``) — image-spec ``image-layout.md``, registry.md §7.3.

``index.json`` → (nested indexes, chosen by platform) → manifest → config + layers.
Manifests, indexes and the config are verified against their digests when opened; layer
blobs are verified while they are read (``Layer.open_uncompressed``). ``Layout`` is also
used by ``docker_archive`` for Docker 25+ and containerd-store archives, which carry an
OCI layout inside the tar.
"""

from __future__ import annotations

import binascii
import hashlib
import os
from typing import NamedTuple

from inspector.errors import (
    DigestMismatch,
    FormatError,
    ImageNotFound,
    PlatformNotFound,
    SizeMismatch,
    UnsupportedMediaType,
)
from inspector.oci import media_types as mt
from inspector.oci import schema
from inspector.oci.platform import Platform, choose_manifest, is_attestation
from inspector.options import Options
from inspector.sources.archive import DirStore, Store, open_tar
from inspector.sources.base import Image, Layer


def _warn(message: str, *args: object) -> None:
    """A logging warning; logging is imported only then (it is ~3 ms of every start-up)."""
    import logging

    logging.getLogger(__name__).warning(message, *args)

REF_NAME = "org.opencontainers.image.ref.name"
#: nested indexes followed before giving up (a cycle would otherwise never end)
MAX_INDEX_DEPTH = 8


def parse_json(data: bytes, *, what: str, validator=schema.config) -> dict:
    """A JSON document checked by one of ``oci.schema``'s validators (default: config)."""
    return schema.parse(data, validator, where=what)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def platform_of_config(config: dict) -> str:
    """``os/arch[/variant]`` from an image config (linux/amd64 when it says nothing)."""
    return str(Platform(str(config.get("os") or "linux").lower(),
                        str(config.get("architecture") or "amd64").lower(),
                        str(config.get("variant") or "").lower()).normalized())


class Chosen(NamedTuple):
    """A manifest picked from a layout: its exact bytes and the platform it was chosen as
    (a NamedTuple, not a dataclass: ~0.3 ms less of every start-up)."""

    descriptor: dict
    data: bytes
    doc: dict
    platform: str | None  # None when no index entry said (then the config says)


class Layout:
    """Blobs of an OCI layout held in a ``Store`` (directory or tar)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.where = store.where

    # --- blobs -----------------------------------------------------------------------
    def blob_name(self, digest: object) -> str:
        alg, _, hexpart = schema.digest(digest, where=self.where, field="digest").partition(":")
        return f"blobs/{alg}/{hexpart}"

    def has_blob(self, digest: str) -> bool:
        return self.store.exists(self.blob_name(digest))

    def read_blob(self, desc: dict, *, what: str) -> bytes:
        """A small blob (manifest, index, config), checked against the descriptor's size and
        digest. Embedded ``data`` is used when present (and verified the same way)."""
        digest = schema.digest(desc.get("digest"), where=self.where, field="digest")
        name = self.blob_name(digest)
        if "data" in desc:
            try:
                import base64  # embedded data is rare

                data = base64.b64decode(desc["data"], validate=True)
            except (ValueError, TypeError, binascii.Error) as exc:
                raise FormatError(f"{self.where}: {what} {digest}: invalid embedded data", where=self.where) from exc
        else:
            if not self.store.exists(name):
                raise ImageNotFound(f"{self.where}: {what} blob {name} is missing",
                                    hint="the layout is incomplete; re-export the image", where=self.where)
            data = self.store.read(name, what=f"{what} {name}")
        size = desc["size"]
        if size != len(data):
            raise SizeMismatch(f"{self.where}: {what} {name} is {len(data)} bytes, its descriptor says {size}",
                               hint="the blob is corrupt; re-export the image", where=self.where)
        alg = digest.partition(":")[0]
        got = f"{alg}:" + hashlib.new(alg, data).hexdigest()
        if got != digest:
            raise DigestMismatch(f"{self.where}: {what} {name} does not match its digest (content is {got})",
                                 hint="the blob is corrupt; re-export the image", where=self.where)
        return data

    # --- documents -------------------------------------------------------------------
    def check_layout_file(self) -> None:
        if not self.store.exists("oci-layout"):
            raise FormatError(f"{self.where}: not an OCI image layout (no oci-layout file)",
                              hint="expected oci-layout, index.json and blobs/", where=self.where)
        doc = parse_json(self.store.read("oci-layout"), what=f"{self.where}: oci-layout",
                         validator=schema.layout_file)
        version = doc.get("imageLayoutVersion")
        if version != "1.0.0":
            _warn("%s: unknown imageLayoutVersion %r; reading it as 1.0.0", self.where, version)

    def index(self) -> dict:
        if not self.store.exists("index.json"):
            raise FormatError(f"{self.where}: OCI layout without index.json",
                              hint="the layout is incomplete; re-export the image", where=self.where)
        return parse_json(self.store.read("index.json"), what=f"{self.where}: index.json",
                          validator=schema.index)

    def resolve(self, desc: dict, wanted: Platform, *, platform: str | None = None, depth: int = 0) -> Chosen:
        """Follow ``desc`` through nested indexes (choosing ``wanted``) down to a manifest."""
        if depth > MAX_INDEX_DEPTH:
            raise FormatError(f"{self.where}: indexes nested more than {MAX_INDEX_DEPTH} deep", where=self.where)
        declared = desc.get("mediaType")
        if declared in mt.SCHEMA1_TYPES:
            raise UnsupportedMediaType(schema1_message(self.where))
        data = self.read_blob(desc, what="manifest")
        kind, doc = schema.parse_manifest(data, where=f"{self.where}: manifest {desc.get('digest')}")
        if kind in mt.SCHEMA1_TYPES:
            raise UnsupportedMediaType(schema1_message(self.where))
        if kind is None:
            raise FormatError(f"{self.where}: {desc.get('digest')} is neither a manifest nor an index "
                              "(ambiguous or unknown shape)", where=self.where)
        if mt.is_index(kind):
            children = [e for e in doc["manifests"]
                        if (e.get("mediaType") is None
                                                    or mt.is_index(e.get("mediaType"))
                                                    or mt.is_manifest(e.get("mediaType")))]
            # a nested index without a platform is not "linux/amd64": look inside it
            nested = [e for e in children if mt.is_index(e.get("mediaType")) and not e.get("platform")]
            images = [e for e in children if e not in nested]
            try:
                child = choose_manifest(images, wanted, where=f"{self.where} index {desc.get('digest')}")
            except PlatformNotFound:
                for inner in nested:
                    try:
                        return self.resolve(inner, wanted, platform=platform, depth=depth + 1)
                    except PlatformNotFound:
                        if inner is nested[-1]:
                            raise
                raise
            chosen_platform = (str(Platform.from_descriptor(child.get("platform")))
                               if child.get("platform") else platform)
            return self.resolve(child, wanted, platform=chosen_platform, depth=depth + 1)
        if not mt.is_manifest(kind):
            raise UnsupportedMediaType(f"{self.where}: {desc.get('digest')} has media type {kind}, "
                                       "not an image manifest or index", where=self.where)
        if platform is None and desc.get("platform"):
            platform = str(Platform.from_descriptor(desc["platform"]))
        return Chosen(desc, data, doc, platform)

    def image(self, chosen: Chosen, *, reference: str, source: str, closer=None) -> Image:
        """The ``Image`` for a resolved manifest: config read and verified; layers lazy."""
        manifest = chosen.doc
        cfg_desc = manifest["config"]  # validated by schema.manifest
        cfg_type = cfg_desc.get("mediaType")
        if cfg_type not in mt.CONFIG_TYPES:
            raise UnsupportedMediaType(
                f"{self.where}: not a container image (config media type {cfg_type})",
                hint="artifacts such as attestations, Helm charts or AI models cannot be inspected", where=self.where)
        config_bytes = self.read_blob(cfg_desc, what="config")
        config = parse_json(config_bytes, what=f"{self.where}: config {cfg_desc.get('digest')}")
        diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
        descs = manifest.get("layers") or []
        if len(descs) != len(diff_ids):
            raise FormatError(f"{self.where}: manifest lists {len(descs)} layers but the config has "
                              f"{len(diff_ids)} diff_ids", hint="the image is inconsistent; re-export it", where=self.where)
        layers = [self.layer(d, diff_id, i) for i, (d, diff_id) in enumerate(zip(descs, diff_ids, strict=True))]
        return Image(
            reference=reference, source=source,
            manifest_digest=chosen.descriptor.get("digest") or sha256(chosen.data),
            manifest_bytes=chosen.data, config_bytes=config_bytes, layers=layers,
            platform=chosen.platform or platform_of_config(config),
            media_type=manifest.get("mediaType") or chosen.descriptor.get("mediaType") or mt.OCI_MANIFEST,
            annotations=dict(manifest.get("annotations") or {}), closer=closer,
        )

    def layer(self, desc: dict, diff_id: str, index: int) -> Layer:
        media_type = desc.get("mediaType") or ""
        if mt.is_encrypted(media_type):
            raise UnsupportedMediaType(f"{self.where}: layer {index + 1} is encrypted ({media_type})",
                                       hint="encrypted layers cannot be inspected", where=self.where)
        if not mt.is_layer(media_type):
            raise UnsupportedMediaType(f"{self.where}: layer {index + 1} has media type {media_type!r}, "
                                       "not a filesystem layer", hint="this is not a container image", where=self.where)
        name = self.blob_name(desc.get("digest"))
        urls = tuple(desc.get("urls") or ())
        present = self.store.exists(name)
        if not present and not urls:
            raise ImageNotFound(f"{self.where}: layer {index + 1} blob {name} is missing",
                                hint="the layout is incomplete; re-export the image", where=self.where)
        size = desc["size"]  # required and validated (schema.descriptor): always enforced
        store = self.store

        def opener():
            if not store.exists(name):
                raise ImageNotFound(f"{store.where}: foreign layer {index + 1} ({name}) is not in the "
                                    f"layout; it lives at {', '.join(urls)}",
                                    hint="export the image with non-distributable layers included", where=store.where)
            return store.open(name)

        return Layer(digest=desc["digest"], diff_id=diff_id, media_type=media_type,
                     compressed_size=size, opener=opener, urls=urls)


def schema1_message(where: str) -> str:
    return (f"{where}: Docker image manifest schema 1 is not supported (removed from Docker "
            "in 28.2); ask the image author to rebuild and push it with a current tool")


def select_entry(index: dict, tag: str | None, wanted: Platform, *, where: str) -> dict:
    """The ``index.json`` entry for ``tag`` (matched against ref.name), or the only image,
    or the platform choice among untagged/same-tag entries."""
    entries = [e for e in index.get("manifests") or [] if isinstance(e, dict)]
    runnable = [e for e in entries if not is_attestation(e)]
    if tag is not None:
        matches = [e for e in runnable if (e.get("annotations") or {}).get(REF_NAME) == tag]
        if not matches:
            tags = sorted({n for e in runnable if (n := (e.get("annotations") or {}).get(REF_NAME))})
            raise ImageNotFound(f"{where}: no image tagged {tag!r}; tags present: {', '.join(tags) or 'none'}",
                                hint="give one of them after the path, e.g. oci:DIR:TAG", where=where)
        return matches[0] if len(matches) == 1 else choose_manifest(matches, wanted, where=where)
    if not runnable:
        raise ImageNotFound(f"{where}: index.json lists no images", where=where)
    if len(runnable) == 1:
        return runnable[0]
    names = sorted({(e.get("annotations") or {}).get(REF_NAME) or "<untagged>" for e in runnable})
    if len(names) > 1:
        raise ImageNotFound(f"{where}: holds {len(runnable)} images; tags: {', '.join(names)}",
                            hint="choose one with oci:PATH:TAG", where=where)
    return choose_manifest(runnable, wanted, where=where)


def open_layout(store: Store, tag: str | None, options: Options, *, reference: str, source: str) -> Image:
    """Open the image ``tag`` of the OCI layout in ``store``; closes the store on error."""
    try:
        layout = Layout(store)
        layout.check_layout_file()
        entry = select_entry(layout.index(), tag, options.platform, where=store.where)
        chosen = layout.resolve(entry, options.platform)
        return layout.image(chosen, reference=reference, source=source, closer=store.close)
    except BaseException:
        store.close()
        raise


def open_oci(path: str, tag: str | None, options: Options, *, reference: str) -> Image:
    """``oci:PATH[:TAG]``: an OCI image layout directory."""
    if not os.path.exists(path):
        raise ImageNotFound(f"{path}: no such directory", hint="check the path of the OCI layout", where=path)
    if not os.path.isdir(path):
        raise FormatError(f"{path}: is a file, not an OCI layout directory",
                          hint=f"for a tar of a layout use oci-archive:{path}", where=path)
    return open_layout(DirStore(path), tag, options, reference=reference, source="oci")


def open_oci_archive(path: str, tag: str | None, options: Options, *, reference: str) -> Image:
    """``oci-archive:PATH[:TAG]``: a tar (optionally gzip/zstd) of an OCI layout, read in place."""
    store = open_tar(path, options.resolved_cache_dir() / "tmp")
    return open_layout(store, tag, options, reference=reference, source="oci-archive")


__all__ = ["open_oci", "open_oci_archive", "Layout", "open_layout", "select_entry",
           "parse_json", "platform_of_config"]
