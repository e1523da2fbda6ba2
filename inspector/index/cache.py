"""On-disk cache of layer indexes, keyed by diff_id (shared layers are indexed once).

Format (version ``CACHE_VERSION``), one file per layer, ``<dir>/index/v<N>/<hex>.idx``:

    MAGIC (8 bytes) | payload length (8, little endian) | crc32 of payload (4) | payload

``payload`` is a JSON header line (scalars, whiteouts, opaque dirs, flagged names, the
lengths of the sections that follow) then the raw sections: NUL-joined paths, kinds,
sizes/modes/uids/gids as native arrays, targets, heads, captured files, Go build info.
A file whose magic, length or CRC does not match is discarded and rebuilt, never trusted;
files are written to a temporary name and renamed, so readers never see half a file.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import tempfile
import zlib
from pathlib import Path

from inspector.index.entries import LayerIndex

CACHE_VERSION = 1
MAGIC = b"INSPIDX1"
_PREFIX = struct.Struct("<8sQI")
_ENC = ("utf-8", "surrogateescape")


def _pack_blobs(items: dict) -> tuple[bytes, list]:
    keys, lengths, parts = [], [], []
    for key, data in items.items():
        keys.append(key)
        lengths.append(len(data))
        parts.append(data)
    return b"".join(parts), [keys, lengths]


def _unpack_blobs(data: bytes, meta: list) -> dict:
    out, pos = {}, 0
    for key, n in zip(meta[0], meta[1], strict=True):
        out[key] = data[pos:pos + n]
        pos += n
    return out


def dumps(index: LayerIndex) -> bytes:
    paths = "\0".join(index.paths).encode(*_ENC)
    targets = "\0".join(index.targets.values()).encode(*_ENC)
    heads, heads_meta = _pack_blobs(index.heads)
    captured, captured_meta = _pack_blobs(index.captured)
    gobi, gobi_meta = _pack_blobs(index.go_buildinfo)
    sections = [paths, bytes(index.kinds), index.sizes.tobytes(), index.modes.tobytes(),
                index.uids.tobytes(), index.gids.tobytes(), targets, heads, captured, gobi]
    header = {
        "version": CACHE_VERSION, "byteorder": sys.byteorder,
        "diff_id": index.diff_id, "digest": index.digest,
        "compressed_size": index.compressed_size,
        "uncompressed_size": index.uncompressed_size,
        "count": len(index.paths),
        "whiteouts": index.whiteouts, "opaque": index.opaque, "flagged": index.flagged,
        "target_rows": list(index.targets.keys()),
        "heads": [[int(k) for k in heads_meta[0]], heads_meta[1]],
        "captured": captured_meta, "go_buildinfo": gobi_meta,
        "sections": [len(s) for s in sections],
    }
    head = json.dumps(header, ensure_ascii=True).encode() + b"\n"
    payload = head + b"".join(sections)
    return _PREFIX.pack(MAGIC, len(payload), zlib.crc32(payload)) + payload


def loads(data: bytes) -> LayerIndex | None:
    """Parse a cache file; ``None`` if it is corrupt, truncated or from another version."""
    try:
        magic, length, crc = _PREFIX.unpack_from(data, 0)
        payload = memoryview(data)[_PREFIX.size:]
        if magic != MAGIC or len(payload) != length or zlib.crc32(payload) != crc:
            return None
        nl = data.index(b"\n", _PREFIX.size)
        header = json.loads(data[_PREFIX.size:nl])
        if header.get("version") != CACHE_VERSION or header.get("byteorder") != sys.byteorder:
            return None
        pos = nl + 1
        parts = []
        for n in header["sections"]:
            parts.append(data[pos:pos + n])
            pos += n
        paths_b, kinds, sizes_b, modes_b, uids_b, gids_b, targets_b, heads_b, cap_b, go_b = parts
        count = header["count"]
        index = LayerIndex(diff_id=header["diff_id"], digest=header["digest"],
                           compressed_size=header["compressed_size"],
                           uncompressed_size=header["uncompressed_size"])
        index.paths = paths_b.decode(*_ENC).split("\0") if count else []
        index.kinds = bytearray(kinds)
        for name, raw in (("sizes", sizes_b), ("modes", modes_b), ("uids", uids_b), ("gids", gids_b)):
            column = getattr(index, name)
            column.frombytes(raw)
        if not (len(index.paths) == len(index.kinds) == len(index.sizes) == count):
            return None
        rows = header["target_rows"]
        if rows:
            index.targets = dict(zip(rows, targets_b.decode(*_ENC).split("\0"), strict=True))
        if header["heads"]:
            index.heads = {int(k): v for k, v in _unpack_blobs(heads_b, header["heads"]).items()}
        index.captured = _unpack_blobs(cap_b, header["captured"])
        index.go_buildinfo = _unpack_blobs(go_b, header["go_buildinfo"])
        index.whiteouts = header["whiteouts"]
        index.opaque = header["opaque"]
        index.flagged = [tuple(f) for f in header["flagged"]]
        return index
    except (ValueError, KeyError, TypeError, struct.error, UnicodeDecodeError):
        return None


class IndexCache:
    """Layer indexes on disk under ``root/index/v<N>/``. ``get`` returns ``None`` for a
    missing or corrupt entry (and removes the corrupt file)."""

    def __init__(self, root: Path) -> None:
        from inspector.codehash import INDEX_CODE, source_digest

        # the walker's code is part of the key: a fixed bug must not be served from disk
        self.dir = Path(root) / "index" / f"v{CACHE_VERSION}-{source_digest(INDEX_CODE)}"

    def _path(self, diff_id: str) -> Path:
        algo, _, hexdigest = diff_id.partition(":")
        if not hexdigest or "/" in hexdigest or not hexdigest.isalnum():
            raise ValueError(f"not a digest: {diff_id!r}")
        return self.dir / f"{algo}-{hexdigest}.idx"

    def has(self, diff_id: str) -> bool:
        """Whether an entry exists, without reading it (a corrupt one is found by ``get``)."""
        try:
            return bool(diff_id) and self._path(diff_id).is_file()
        except ValueError:
            return False

    def get(self, diff_id: str) -> LayerIndex | None:
        if not diff_id:
            return None
        path = self._path(diff_id)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        index = loads(data)
        if index is None or index.diff_id != diff_id:
            try:
                path.unlink()
            except OSError:
                pass
            return None
        return index

    def put(self, index: LayerIndex) -> None:
        if not index.diff_id:
            return
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            data = dumps(index)
            fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, self._path(index.diff_id))
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            pass  # a cache that cannot be written only costs speed
