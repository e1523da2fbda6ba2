"""How the decompressing readers read and hand on: full ``OUT_CHUNK`` pieces whatever the
frame layout (zstd:chunked writes a frame per file: a piece per frame sent ~300k tiny pieces
through the walker for a 150k-file layer), and the raw stream read in ``CHUNK`` requests
(a registry body or a cache file, hashed as it is read)."""

from __future__ import annotations

import gzip
import io

import pytest
import zstandard

from inspector.sources.streams import CHUNK, OUT_CHUNK, open_decompressed

#: 3 MiB + a bit: three full pieces and a short last one
PLAIN = bytes(range(256)) * (3 * 4096 + 7)
SKIPPABLE = b"\x50\x2a\x4d\x18" + (4).to_bytes(4, "little") + b"skip"


def frames(data: bytes, size: int, between: bytes = b"") -> bytes:
    """``data`` compressed as one zstd frame per ``size`` bytes, ``between`` after each."""
    c = zstandard.ZstdCompressor(level=1)
    return b"".join(c.compress(data[i:i + size]) + between for i in range(0, len(data), size))


class Recording(io.RawIOBase):
    """Serves ``data`` and records the size of every read request."""

    def __init__(self, data: bytes) -> None:
        self.stream, self.requests = io.BytesIO(data), []

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        self.requests.append(n)
        return self.stream.read(n)


def pieces(blob: bytes) -> list[int]:
    reader = open_decompressed(io.BytesIO(blob), what="layer 0")
    sizes = []
    while piece := reader.read(OUT_CHUNK):
        sizes.append(len(piece))
    return sizes


PIECE_CASES = [
    ("a frame per 4 KiB (zstd:chunked)", frames(PLAIN, 4096)),
    ("a frame per 100 bytes", frames(PLAIN, 100)),
    ("skippable frames between 4 KiB frames", frames(PLAIN, 4096, SKIPPABLE)),
    ("one frame", frames(PLAIN, len(PLAIN))),
]


@pytest.mark.parametrize("name,blob", PIECE_CASES, ids=[c[0] for c in PIECE_CASES])
def test_zstd_pieces_are_full_across_frames(name, blob):
    full, rest = divmod(len(PLAIN), OUT_CHUNK)
    assert pieces(blob) == [OUT_CHUNK] * full + [rest]


RAW_CASES = [
    ("zstd, a frame per 4 KiB", frames(PLAIN, 4096)),
    ("zstd, one frame", frames(PLAIN, len(PLAIN))),
    ("gzip", gzip.compress(PLAIN, mtime=0)),
    ("plain tar", PLAIN),
]


@pytest.mark.parametrize("name,blob", RAW_CASES, ids=[c[0] for c in RAW_CASES])
def test_raw_stream_read_in_chunk_requests(name, blob):
    raw = Recording(blob)
    reader = open_decompressed(raw, what="layer 0")
    out = b""
    while piece := reader.read(OUT_CHUNK):
        out += piece
    assert out == PLAIN
    assert raw.requests and all(n >= CHUNK for n in raw.requests), raw.requests
