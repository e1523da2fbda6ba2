"""The small Image/Layer shape every source produces (after go-containerregistry pkg/v1).

A source implements the least it can — a manifest, a config and, per layer, a way to open
the raw blob — and shared code derives the rest (sizes, history mapping, decompression,
verification). ``validate_image`` is the one conformance check every source passes.

Identity is never mixed: ``digest``/``compressed_size`` name the blob as stored or sent,
``diff_id``/``uncompressed_size`` name the layer tar after decompression.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from inspector.errors import DigestMismatch, FormatError, SizeMismatch
from inspector.sources.streams import open_decompressed, verifying

Opener = Callable[[], BinaryIO]


@dataclass
class Layer:
    """One layer of an image. ``open_compressed()`` returns the raw blob bytes, unverified;
    readers wrap it with ``sources.streams.verifying`` (the indexer does)."""

    digest: str  # sha256:… of the blob as stored (compressed)
    diff_id: str  # sha256:… of the uncompressed tar (from config rootfs.diff_ids)
    media_type: str
    compressed_size: int  # bytes of the blob
    opener: Opener
    urls: tuple[str, ...] = ()
    #: set when a source knows the blob was already verified (e.g. a digest-addressed cache)
    verified: bool = False
    #: after a failed read: whether a cached copy of the blob was damaged and is now gone
    #: (then one more read goes to the source); ``None`` for sources without a blob cache
    recheck: Callable[[], bool] | None = None
    #: the layer's table of contents, when its source can read one without the blob
    #: (``sources.registry.toc.RemoteToc``; ``inspector.index.from_toc`` reads it)
    toc: Any = None

    def open_compressed(self) -> BinaryIO:
        return self.opener()

    def open_uncompressed(self) -> io.RawIOBase:
        """The layer tar: blob verified against ``digest`` and decompressed by magic bytes.
        (diff_id is verified by the indexer, which reads to the end.)"""
        raw = verifying(self.open_compressed(), self.digest, self.compressed_size,
                        what=f"layer {self.digest}")
        return open_decompressed(raw, what=f"layer {self.digest}")


@dataclass
class Image:
    """A single-platform image, as every source hands it over.

    ``layers`` are base-first and line up with ``config['rootfs']['diff_ids']``.
    """

    reference: str  # as the user gave it
    source: str  # registry|docker-daemon|docker-archive|oci|oci-archive|sample
    manifest_digest: str
    manifest_bytes: bytes  # exact bytes (digest is over these)
    config_bytes: bytes  # exact bytes
    layers: list[Layer]
    platform: str = "linux/amd64"
    media_type: str = ""
    annotations: dict[str, str] = field(default_factory=dict)
    closer: Callable[[], None] | None = None

    @property
    def manifest(self) -> dict:
        return json.loads(self.manifest_bytes)

    @property
    def config(self) -> dict:
        return json.loads(self.config_bytes)

    @property
    def config_digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.config_bytes).hexdigest()

    def created_by(self) -> list[str]:
        """``created_by`` per layer, from config history (entries marked ``empty_layer``
        are skipped); empty strings when history does not line up with the layers."""
        history = [h for h in self.config.get("history") or [] if not h.get("empty_layer")]
        if len(history) != len(self.layers):
            return [""] * len(self.layers)
        return [str(h.get("created_by") or h.get("comment") or "") for h in history]

    def close(self) -> None:
        if self.closer:
            self.closer()

    def __enter__(self) -> Image:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def validate_image(image: Image, *, read_layers: bool = True) -> None:
    """Conformance check every source passes (tests run it against each).

    - the manifest's config descriptor matches the config bytes (digest and size);
    - ``rootfs.diff_ids`` has one entry per layer and each layer's diff_id matches it;
    - with ``read_layers``: every blob hashes to its digest with its size, and its
      decompressed tar hashes to its diff_id.
    Raises ``DigestMismatch``/``SizeMismatch``/``FormatError``.
    """
    where = f"{image.reference}"
    manifest = image.manifest
    cfg_desc = manifest.get("config") or {}
    if cfg_desc.get("digest") and cfg_desc["digest"] != image.config_digest:
        raise DigestMismatch(
            f"{where}: config digest {image.config_digest} != manifest's {cfg_desc['digest']}"
        )
    if "size" in cfg_desc and cfg_desc["size"] != len(image.config_bytes):
        raise SizeMismatch(f"{where}: config is {len(image.config_bytes)} bytes, manifest says {cfg_desc['size']}")
    diff_ids = (image.config.get("rootfs") or {}).get("diff_ids") or []
    if len(diff_ids) != len(image.layers):
        raise FormatError(f"{where}: {len(image.layers)} layers but {len(diff_ids)} diff_ids in config")
    for i, (layer, diff_id) in enumerate(zip(image.layers, diff_ids, strict=True)):
        if layer.diff_id != diff_id:
            raise DigestMismatch(f"{where}: layer {i + 1} diff_id {layer.diff_id} != config's {diff_id}")
        if not read_layers:
            continue
        h = hashlib.sha256()
        with layer.open_uncompressed() as tar:
            while chunk := tar.read(1 << 20):
                h.update(chunk)
        got = "sha256:" + h.hexdigest()
        if got != diff_id:
            raise DigestMismatch(f"{where}: layer {i + 1} tar hashes to {got}, diff_id is {diff_id}")
