"""A zstd layer cut anywhere is reported as truncated or corrupt (issue 11, item 7):
zstandard's stream reader ends silently inside a frame, so the reader follows frame and
block headers itself. Whole streams — any frames, checksums, content sizes, skippable
frames, any chunking of the input — decompress to exactly what was written."""

from __future__ import annotations

import io

import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.errors import CompressionError
from inspector.sources.streams import open_decompressed

frame = st.fixed_dictionaries({
    "data": st.one_of(st.binary(max_size=3000), st.integers(0, 400_000).map(lambda n: b"z" * n)),
    "level": st.sampled_from([1, 3, 19]),
    "checksum": st.booleans(),
    "content_size": st.booleans(),
    "skippable": st.booleans(),
})


class Chunked(io.RawIOBase):
    """Serves ``data`` in pieces of the given sizes (cycled)."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        self.data, self.sizes, self.pos, self.i = data, sizes, 0, 0

    def read(self, n: int = -1) -> bytes:
        size = self.sizes[self.i % len(self.sizes)]
        self.i += 1
        piece = self.data[self.pos:self.pos + size]
        self.pos += len(piece)
        return piece


def _blob(frames: list[dict]) -> tuple[bytes, bytes, set[int]]:
    """The stream, what it decompresses to, and its frame boundaries (a cut there leaves
    a shorter valid stream)."""
    blob, plain, boundaries = b"", b"", set()
    for f in frames:
        if f["skippable"] and blob:  # a skippable frame between data frames
            blob += b"\x5e\x2a\x4d\x18" + (3).to_bytes(4, "little") + b"pad"
            boundaries.add(len(blob))
        c = zstandard.ZstdCompressor(level=f["level"], write_checksum=f["checksum"],
                                     write_content_size=f["content_size"])
        blob += c.compress(f["data"])
        plain += f["data"]
        boundaries.add(len(blob))
    return blob, plain, boundaries


def _read_all(raw) -> bytes:
    reader = open_decompressed(raw, what="layer 0")
    out = b""
    while chunk := reader.read():
        out += chunk
    return out


@settings(max_examples=150, deadline=None)
@given(frames=st.lists(frame, min_size=1, max_size=4),
       sizes=st.lists(st.integers(1, 70_000), min_size=1, max_size=5), cut=st.floats(0, 1))
def test_zstd_whole_or_reported_truncated(frames, sizes, cut):
    blob, plain, boundaries = _blob(frames)
    assert _read_all(Chunked(blob, sizes)) == plain
    end = int(len(blob) * cut)
    if end in boundaries or end < 4:  # under 4 bytes the magic is gone: read as a (bad) tar
        return
    try:
        _read_all(Chunked(blob[:end], sizes))
    except CompressionError as exc:
        assert "truncated zstd" in str(exc) or "corrupt zstd" in str(exc), exc
    else:
        raise AssertionError(f"a zstd stream cut at {end} of {len(blob)} bytes was accepted")
