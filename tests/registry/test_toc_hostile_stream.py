"""Hostile zstd:chunked TOC streams through the real reader (``RemoteToc`` over an
in-memory layer, ``tests/registry/chunked_mem.py``; ``tocstream`` cut at every piece):
each listing equals the whole read's, or the TOC is refused with the whole read's one-line
error — and the memory it takes is bounded by the TOC, not by what its JSON can make
Python build (a few kB of zstd inflating to millions of ``{}``)."""

from __future__ import annotations

import json
import tracemalloc

import pytest

from inspector.sources.registry import chunked, tocstream
from inspector.sources.registry.chunked import TocError, parse_toc
from tests.builders import Entry, make_tar
from tests.registry.chunked_mem import ZSTD, MemToc, toc_items, toc_json

TAR = make_tar({"etc/os-release": b"ID=x\n", "usr/bin/t": Entry("file", b"#!/bin/sh\n" * 99,
                                                                 mode=0o755),
                "etc/big": bytes(range(256)) * 64, "etc/d": Entry("dir")})
FRAMES, ITEMS = toc_items(TAR, 1024)


def _doc(*extra: dict, name: str | None = None) -> bytes:
    items = [dict(i) for i in ITEMS] + list(extra)
    if name is not None:
        items[0]["name"] = name
    return toc_json(items)


DEEP = 200_000
#: (name, the TOC JSON)
STREAMS = [
    ("as written", _doc()),
    ("'},{\"' inside a name", _doc({"type": "dir", "name": 'a},{"b'})),
    ("a name ending in '},{'", _doc({"type": "dir", "name": "a},{"})),
    ("a name of backslashes and quotes", _doc({"type": "dir", "name": '\\"},{\\"' * 40})),
    ("a name of the longest length", _doc({"type": "dir", "name": "n" * chunked.MAX_NAME})),
    ("a name longer than that", _doc({"type": "dir", "name": "n" * (chunked.MAX_NAME + 1)})),
    ("an entry of 3 MB (its xattrs)", _doc({"type": "dir", "name": "x",
                                            "xattrs": {"user.a": "v" * (3 << 20)}})),
    ("an entry nested 200,000 deep", _doc()[:-2] + b',{"type":"dir","name":"y","xattrs":'
     + b'{"a":' * DEEP + b"1" + b"}" * DEEP + b"}]}"),
    ("an entries list nested 200,000 deep", b'{"version":1,"entries":' + b"[" * DEEP
     + b"]" * DEEP + b"}"),
    ("bytes that are not UTF-8 in a name", _doc().replace(b"etc/os-release",
                                                         b"etc/os-\xff\xferelease")),
    ("a number of 5,000 digits", _doc({"type": "dir", "name": "z", "uid": 0}).replace(
        b'"uid":0}]', b'"uid":' + b"9" * 5000 + b"}]")),
    ("UTF-16 with a BOM", json.dumps(json.loads(_doc())).encode("utf-16")),
    ("the entries twice: the last one wins, as in Go", _doc()[:-1] + b',"entries":[]}'),
    ("cut inside a string", _doc()[:-40]),
    ("empty", b""),
]
#: piece sizes of the body handed to the stream
PIECES = (1, 7, 1 << 16)


def _whole(doc: bytes):
    try:
        return parse_toc(doc, len(FRAMES) + (1 << 30), "layer", len(FRAMES))
    except TocError as exc:
        return str(exc)


@pytest.mark.parametrize("name,doc", STREAMS, ids=[s[0] for s in STREAMS])
def test_a_hostile_stream_is_the_whole_read(monkeypatch, name, doc):
    monkeypatch.setattr(tocstream, "PIECE", 64)  # parsed at nearly every cut
    for piece in PIECES:
        if piece == 1 and len(doc) > 100_000:
            continue  # a byte at a time over megabytes proves nothing more
        toc = MemToc(FRAMES, doc, piece=piece)
        whole = _whole(doc)  # the blob is larger in the reader: same fields, same bound
        try:
            got = toc.entries()
        except TocError as exc:
            assert isinstance(whole, str), name
            assert "\n" not in str(exc)
            continue
        assert got == parse_toc(doc, toc.size, "layer", len(FRAMES)), (name, piece)


#: (name, items the JSON holds, how many entries the reader allows)
BOMBS = [
    ("empty objects: 80 bytes each from 3 of JSON", b"{}", 300_000, 1000),
    ("empty lists", b"[]", 300_000, 1000),
    ("objects in objects", b'{"a":{}}', 200_000, 1000),
]


@pytest.mark.parametrize("name,item,count,limit", BOMBS, ids=[b[0] for b in BOMBS])
def test_a_toc_of_millions_of_items_is_refused_before_they_are_built(monkeypatch, name, item,
                                                                     count, limit):
    """``MAX_ENTRIES`` was checked once ``json.loads`` had built every item: a 150 MB TOC
    of ``{}`` (a few kB compressed) took ~4 GB before its one-line refusal."""
    monkeypatch.setattr(chunked, "MAX_ENTRIES", limit)
    monkeypatch.setattr(tocstream, "MAX_ENTRIES", limit)
    monkeypatch.setattr(tocstream, "PIECE", 1 << 14)  # a piece parses to ~2 MB at most
    doc = b'{"version":1,"entries":[' + b",".join([item] * count) + b"]}"
    toc = MemToc(FRAMES, doc, compressed=ZSTD.compress(doc))
    tracemalloc.start()
    try:
        with pytest.raises(TocError) as info:
            toc.entries()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "\n" not in str(info.value)
    assert peak < 6 * len(doc)  # the JSON and its copies, not an object per item (26-31x)
