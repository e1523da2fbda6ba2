"""A zstd:chunked layer written in memory and read through the real ``RemoteToc`` (its
ranged GETs answered from the bytes, as a registry's 206 would carry them), for the
hostile-input tables: the full pull's answer is the tar walker's over the same tar.

The layout is containers/storage's (``pkg/chunked/compressor``): each member's tar header
in a frame of its own, a regular file's content in frames of ``frame`` bytes, the first
item of a file naming its ``offset`` and the file's ``endOffset``, each further frame a
``chunk`` item; the TOC JSON compact (Go's encoding/json), one zstd frame at the end.
The real writers' layers are tested elsewhere (``test_toc*.py``, skopeo); this one lets a
test put any bytes in a file and any JSON in the TOC.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable

import zstandard

from inspector.classify import default_rules
from inspector.index.entries import LayerIndex
from inspector.index.from_toc import index_from_toc
from inspector.sources.base import Image, Layer
from inspector.sources.registry.chunked import TocPlace
from inspector.sources.registry.toc import RemoteToc
from tests.builders import sha256

_KINDS = {tarfile.REGTYPE: "reg", tarfile.AREGTYPE: "reg", tarfile.DIRTYPE: "dir",
          tarfile.SYMTYPE: "symlink", tarfile.LNKTYPE: "hardlink", tarfile.CHRTYPE: "char",
          tarfile.BLKTYPE: "block", tarfile.FIFOTYPE: "fifo"}
ZSTD = zstandard.ZstdCompressor()
TAR_MEDIA = "application/vnd.oci.image.layer.v1.tar+zstd"


def toc_items(tar_bytes: bytes, frame: int = 4096) -> tuple[bytes, list[dict]]:
    """(the frames, the TOC's items) of ``tar_bytes``: ``frame`` bytes per content frame
    (an int, or a callable giving the frames' sizes of a file: ``frame(size)``)."""
    out, items = bytearray(), []
    with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as tar:
        members = tar.getmembers()
    pending = bytearray()
    for m in members:
        item = {"type": _KINDS[m.type], "name": m.name, "mode": m.mode, "uid": m.uid,
                "gid": m.gid}
        if m.linkname:
            item["linkName"] = m.linkname
        pending += tar_bytes[m.offset:m.offset_data]
        if not (m.isreg() and m.size):
            items.append(item)
            continue
        out += ZSTD.compress(bytes(pending))
        pending = bytearray()
        data = tar_bytes[m.offset_data:m.offset_data + m.size]
        sizes = frame(m.size) if callable(frame) else [frame] * (m.size // frame + 1)
        first, at = len(items), 0
        for n, size in enumerate(sizes):
            piece = data[at:at + size]
            if not piece:
                break
            start = len(out)
            out += ZSTD.compress(piece)
            chunk = {"chunkSize": len(piece), "chunkDigest": sha256(piece)}
            if n == 0:
                items.append({**item, "size": m.size, "digest": sha256(data), "offset": start,
                              **chunk})
            else:
                items.append({"type": "chunk", "name": m.name, "offset": start,
                              "chunkOffset": at, **chunk})
            at += len(piece)
        items[first]["endOffset"] = len(out)
        pending += bytes(-m.size % 512)
    out += ZSTD.compress(bytes(pending) + bytes(1024))
    return bytes(out), items


def toc_json(items: list) -> bytes:
    return json.dumps({"version": 1, "entries": items}, separators=(",", ":")).encode()


class MemToc(RemoteToc):
    """``RemoteToc`` over a blob in memory. ``fault(batch)``: called before each GET (it
    may raise what a client would, or block); ``piece``: the body's pieces' size."""

    def __init__(self, frames: bytes, toc: bytes, *, compressed: bytes | None = None,
                 announced: int | None = None, checksum: str | None = None,
                 fault: Callable[[list], None] | None = None, piece: int = 1 << 16) -> None:
        compressed = ZSTD.compress(toc) if compressed is None else compressed
        self.data = frames + compressed
        place = TocPlace(checksum or sha256(compressed), len(frames), len(compressed),
                         announced or len(toc))
        super().__init__(None, sha256(self.data), len(self.data), place,  # type: ignore[arg-type]
                         what="layer")
        self.fault, self.piece, self.gets = fault, piece, []

    @classmethod
    def of_blob(cls, blob: bytes, place: TocPlace) -> MemToc:
        """The reader over a real writer's blob (``place``: its annotations' TOC)."""
        assert place.offset is not None
        toc = cls(blob[:place.offset], b"", compressed=blob[place.offset:], checksum=place.checksum)
        toc.place = place
        return toc

    def _get(self, batch, on_chunk=None):
        if self.fault is not None:
            self.fault(batch)
        self.gets.append(list(batch))
        got = {(s, e): self.data[s:e] for s, e in batch}
        with self._lock:
            self.requests += 1
            self.fetched += sum(e - s for s, e in batch)
        if on_chunk is not None:
            body = b"".join(got.values())
            for at in range(0, len(body), self.piece):
                on_chunk(body[at:at + self.piece])
        return got


def layer_of(tar_bytes: bytes, toc: MemToc | None) -> Layer:
    """A layer whose blob is ``tar_bytes`` uncompressed (its full pull) and whose TOC is
    ``toc`` (None: pulled)."""
    digest = sha256(tar_bytes)
    return Layer(digest=digest, diff_id=digest, media_type="application/vnd.oci.image.layer.v1.tar",
                 compressed_size=len(tar_bytes), opener=lambda: io.BytesIO(tar_bytes), toc=toc)


def image_of(layers: list[Layer], reference: str = "mem/toc:v1") -> Image:
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {
        "type": "layers", "diff_ids": [la.diff_id for la in layers]}}).encode()
    return Image(reference=reference, source="registry", manifest_digest=sha256(config),
                 manifest_bytes=b"{}", config_bytes=config, layers=layers)


def listed(tar_bytes: bytes, frame=4096, **toc_args) -> tuple[LayerIndex, MemToc]:
    """``tar_bytes`` indexed from its TOC (the in-memory reader) and that reader."""
    frames, items = toc_items(tar_bytes, frame)
    toc = MemToc(frames, toc_json(items), **toc_args)
    layer = layer_of(tar_bytes, toc)
    return index_from_toc(layer, toc, what="layer", bin_dirs=default_rules().bin_dirs), toc
