"""A zstd:chunked TOC parsed while it downloads (``sources.registry.tocstream``): the
entries are those the whole read gives, or the stream gives up and the whole read runs
(and names what is wrong). Each case is fed in 7-byte pieces, parsed at every cut
(``PIECE`` = 1), so every boundary is crossed."""

from __future__ import annotations

import hashlib
import json

import pytest
import zstandard

from inspector.sources.registry import tocstream
from inspector.sources.registry.chunked import TocError, TocPlace, parse_toc
from inspector.sources.registry.toc import RemoteToc
from inspector.sources.registry.tocstream import TocStream

SUM = "sha256:" + "a" * 64
AT = 500  # the TOC's offset in the blob


def _compact(doc: dict) -> bytes:
    """As containers/storage writes it (Go's encoding/json: no spaces)."""
    return json.dumps(doc, separators=(",", ":")).encode()


def _reg(name: str, offset: int, size: int, **more) -> dict:
    return {"type": "reg", "name": name, "mode": 0o644, "size": size, "digest": SUM,
            "offset": offset, **more}


FILES = [_reg("a", 0, 9, endOffset=30, chunkSize=4),
         {"type": "chunk", "name": "a", "offset": 12, "chunkSize": 5, "chunkOffset": 4},
         {"type": "dir", "name": "d", "mode": 0o755},
         {"type": "symlink", "name": "l", "linkName": "a"},
         _reg("b", 30, 3, endOffset=40)]
STREAMED = _compact({"version": 1, "entries": FILES})
ZSTD = zstandard.ZstdCompressor()

#: (name, the TOC JSON, its compressed bytes, the size announced (None: its own), the
#: body fed to the stream, expected: "streamed" (the stream's entries, equal to the whole
#: read's) or "whole" (the stream gives up; the whole read decides))
STREAMS = [
    ("as containers/storage writes it", STREAMED, None, None, None, "streamed"),
    ("no item names its endOffset: folded at the end",
     _compact({"version": 1, "entries": [_reg("a", 10, 5), _reg("b", 30, 3)]}),
     None, None, None, "streamed"),
    ("an empty layer", b'{"version":1,"entries":[]}', None, None, None, "streamed"),
    ("a name ending in the separator: the cut falls in a string",
     _compact({"version": 1, "entries": [*FILES, {"type": "dir", "name": "x},{"}]}),
     None, None, None, "whole"),
    ("pretty-printed: another shape", json.dumps({"version": 1, "entries": FILES},
                                                 indent=1).encode(), None, None, None, "whole"),
    ("the keys the other way round", _compact({"entries": FILES, "version": 1}),
     None, None, None, "whole"),
    ("a key after the entries", _compact({"version": 1, "entries": FILES, "x": [1]}),
     None, None, None, "whole"),
    ("a malformed item: the whole read names it",
     _compact({"version": 1, "entries": [*FILES, {"type": "socket", "name": "s"}]}),
     None, None, None, "whole"),
    ("inflating past the announced size", STREAMED, None, 100, None, "whole"),
    ("two zstd frames", STREAMED, ZSTD.compress(STREAMED[:40]) + ZSTD.compress(STREAMED[40:]),
     None, None, "whole"),
    ("a body that is not the TOC (a multipart answer)", STREAMED, None, None,
     lambda c: b"--b\r\nContent-Range: bytes 0-9/99\r\n\r\n" + c, "whole"),
]


class _Blob(RemoteToc):
    """The reader over a blob in memory, its body handed over in 7-byte pieces."""

    def __init__(self, blob: bytes, place: TocPlace, feed) -> None:
        super().__init__(None, "sha256:" + "0" * 64, len(blob), place,  # type: ignore[arg-type]
                         what="layer")
        self.data, self.feed = blob, feed

    def _get(self, batch, on_chunk=None):
        got = {(s, e): self.data[s:e] for s, e in batch}
        if on_chunk is not None:
            body = self.feed(b"".join(got.values()))
            for at in range(0, len(body), 7):
                on_chunk(body[at:at + 7])
        return got


@pytest.mark.parametrize("name,doc,compressed,announced,feed,expected", STREAMS,
                         ids=[s[0] for s in STREAMS])
def test_a_toc_read_while_it_downloads_is_the_whole_reads(monkeypatch, name, doc, compressed,
                                                          announced, feed, expected):
    monkeypatch.setattr(tocstream, "PIECE", 1)
    compressed = compressed or ZSTD.compress(doc)
    blob = bytes(AT) + compressed
    place = TocPlace("sha256:" + hashlib.sha256(compressed).hexdigest(), AT, len(compressed),
                     announced or len(doc))
    stream = TocStream(place, len(blob), "layer")
    body = (feed or bytes)(compressed)
    for at in range(0, len(body), 7):
        stream.feed(body[at:at + 7])
    streamed = stream.finish()
    try:
        whole: list | str = parse_toc(doc, len(blob), "layer", AT)
    except TocError as exc:
        whole = str(exc)
    assert (expected, streamed) == ("streamed", whole) if expected == "streamed" else \
        (expected, streamed) == ("whole", None)
    # and through the reader: the streamed entries, or the whole read's, or its error
    toc = _Blob(blob, place, feed or bytes)
    if announced:
        with pytest.raises(TocError, match="past its announced"):
            toc.entries()
    elif isinstance(whole, str):
        with pytest.raises(TocError) as info:
            toc.entries()
        assert str(info.value) == whole
    else:
        assert toc.entries() == whole
