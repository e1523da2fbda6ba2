"""On-disk cache of layer indexes, keyed by diff_id (shared layers are indexed once), or
for an index built from a layer's table of contents by ``toc:<TOC digest>`` (its diff_id
was never verified, so it must not answer for one).

One framed entry per layer (``inspector.cache``: magic, key, code digest, lengths, CRC),
``<root>/index/v<N>-<code>/<algo>-<hex>.idx``. The header carries the scalars, whiteouts,
opaque dirs, flagged names and the lengths of the raw sections that follow: NUL-joined
paths, kinds, sizes/modes/uids/gids as native arrays, targets, heads, captured files, Go
build info. An entry whose frame, key or code digest does not match is discarded and
rebuilt, never trusted.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Callable
from pathlib import Path

from inspector.cache import CacheDir, frame, unframe
from inspector.cache_kinds import KINDS
from inspector.index.entries import LayerIndex

#: format version and magic: the registry's ``index`` row (``cache_kinds``)
CACHE_VERSION = KINDS["index"].version
MAGIC = KINDS["index"].magic
_ENC = ("utf-8", "surrogateescape")


#: paths encoded per piece: the whole NUL-joined column is never one more copy in memory
PATH_BATCH = 65536


def _blobs(items: dict, write: Callable[[bytes | memoryview], object]) -> list:
    keys, lengths = [], []
    for key, data in items.items():
        keys.append(key)
        lengths.append(len(data))
        write(data)
    return [keys, lengths]


def _unpack_blobs(data: memoryview, meta: list) -> dict:
    out, pos = {}, 0
    for key, n in zip(meta[0], meta[1], strict=True):
        out[key] = bytes(data[pos:pos + n])
        pos += n
    return out


def _joined(strings: list[str], write: Callable[[bytes | memoryview], object]) -> int:
    """Write ``strings`` NUL-joined and encoded, ``PATH_BATCH`` at a time; bytes written."""
    total = 0
    for start in range(0, len(strings), PATH_BATCH):
        piece = "\0".join(strings[start:start + PATH_BATCH]).encode(*_ENC)
        if start:
            piece = b"\0" + piece
        write(piece)
        total += len(piece)
    return total


def encode_to(index: LayerIndex, write: Callable[[bytes | memoryview], object]) -> dict:
    """Write the raw sections of ``index``'s entry piece by piece (``write`` takes any
    bytes-like object); returns the header fields, which say where each section ends."""
    lengths = [_joined(index.paths, write)]
    for raw in (index.kinds, index.sizes, index.modes, index.uids, index.gids):
        view = memoryview(raw).cast("B")  # the column's own buffer, not a copy
        write(view)
        lengths.append(len(view))
    lengths.append(_joined(list(index.targets.values()), write))
    metas = []
    for items in (index.heads, index.captured, index.go_buildinfo):
        metas.append(_blobs(items, write))
        lengths.append(sum(metas[-1][1]))
    heads_meta, captured_meta, gobi_meta = metas
    return {
        "version": CACHE_VERSION, "diff_id": index.diff_id, "digest": index.digest,
        "toc_digest": index.toc_digest,
        "compressed_size": index.compressed_size,
        "uncompressed_size": index.uncompressed_size,
        "count": len(index.paths),
        "whiteouts": index.whiteouts, "opaque": index.opaque, "flagged": index.flagged,
        "target_rows": list(index.targets.keys()),
        "heads": [[int(k) for k in heads_meta[0]], heads_meta[1]],
        "captured": captured_meta, "go_buildinfo": gobi_meta,
        "sections": lengths,
    }


def encode(index: LayerIndex) -> tuple[dict, list[bytes]]:
    """The header fields and raw body pieces of ``index``'s entry (for tests and tools;
    ``IndexCache.put`` streams the same bytes)."""
    pieces: list[bytes] = []
    header = encode_to(index, lambda data: pieces.append(bytes(data)))
    return header, pieces


def dumps(index: LayerIndex, code: str = "") -> bytes:
    """A whole framed entry (for tests and tools; ``IndexCache.put`` writes the same)."""
    header, sections = encode(index)
    full = {**header, "key": index.cache_key, "code": code, "byteorder": sys.byteorder}
    return b"".join(frame(MAGIC, full, sections))


def loads(data: bytes) -> LayerIndex | None:
    """Parse a whole framed entry; ``None`` if it is corrupt, truncated or foreign."""
    got = unframe(MAGIC, data)
    return decode(*got) if got is not None else None


def decode(header: dict, body: memoryview) -> LayerIndex | None:
    """The index of an entry's parts; ``None`` if they are inconsistent. Sections are
    read from views of ``body``: each column is copied once, into its final form."""
    try:
        toc = header.get("toc_digest", "")
        if header.get("version") != CACHE_VERSION or not isinstance(toc, str) or \
                header.get("key") != (f"toc:{toc}" if toc else header.get("diff_id")):
            return None
        pos = 0
        parts = []
        for n in header["sections"]:
            if not isinstance(n, int) or n < 0:
                return None
            parts.append(body[pos:pos + n])
            pos += n
        if pos != len(body):
            return None
        paths_b, kinds, sizes_b, modes_b, uids_b, gids_b, targets_b, heads_b, cap_b, go_b = parts
        count = header["count"]
        if not (isinstance(header["digest"], str) and all(
                type(header[k]) is int for k in ("compressed_size", "uncompressed_size", "count"))):
            return None
        index = LayerIndex(diff_id=header["diff_id"], digest=header["digest"],
                           compressed_size=header["compressed_size"],
                           uncompressed_size=header["uncompressed_size"], toc_digest=toc)
        index.paths = str(paths_b, *_ENC).split("\0") if count else []
        index.kinds = bytearray(kinds)
        for name, raw in (("sizes", sizes_b), ("modes", modes_b), ("uids", uids_b), ("gids", gids_b)):
            column = getattr(index, name)
            column.frombytes(raw)
        if not (len(index.paths) == len(index.kinds) == len(index.sizes) == count):
            return None
        rows = header["target_rows"]
        if rows:
            index.targets = dict(zip(rows, str(targets_b, *_ENC).split("\0"), strict=True))
        if header["heads"]:
            index.heads = {int(k): v for k, v in _unpack_blobs(heads_b, header["heads"]).items()}
        index.captured = _unpack_blobs(cap_b, header["captured"])
        index.go_buildinfo = _unpack_blobs(go_b, header["go_buildinfo"])
        index.whiteouts = _strings(header["whiteouts"])
        index.opaque = _strings(header["opaque"])
        index.flagged = [(a, b) for a, b in header["flagged"]]
        if not all(isinstance(x, str) for pair in index.flagged for x in pair):
            return None
        return index
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, struct.error,
            UnicodeDecodeError):
        return None


def _strings(value) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("not a list of strings")
    return value


class IndexCache:
    """Layer indexes on disk under ``root/index/v<N>-<code>/``. ``get`` returns ``None``
    for a missing, corrupt or foreign entry (and removes the file)."""

    def __init__(self, root: Path) -> None:
        # the walker's code is part of the key: a fixed bug must not be served from disk
        self.store = CacheDir.of(Path(root), "index")

    @property
    def dir(self) -> Path:
        return self.store.dir

    def has(self, diff_id: str) -> bool:
        """Whether an entry exists, without reading it (a corrupt one is found by ``get``)."""
        return self.store.has(diff_id)

    def get(self, key: str) -> LayerIndex | None:
        """The index stored under ``key``: a diff_id, or ``toc:<digest>`` for one built
        from a layer's table of contents (``LayerIndex.cache_key``)."""
        if not key:
            return None
        got = self.store.read(key)
        index = decode(*got) if got is not None else None
        if got is not None and (index is None or index.cache_key != key):
            self.store.discard(key)
            return None
        return index

    def put(self, index: LayerIndex) -> None:
        """Store ``index``, streamed: its columns are written from their own buffers."""
        if not index.cache_key:
            return
        with self.store.writer(index.cache_key) as entry:
            if entry is not None:
                entry.header.update(encode_to(index, entry.write))
