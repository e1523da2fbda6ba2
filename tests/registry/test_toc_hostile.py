"""Hostile and malformed zstd:chunked announcements, footers and TOCs: each is one
``TocError`` line (the indexer then falls back to the full pull), never a traceback."""

from __future__ import annotations

import json
import struct

import pytest

from inspector.sources.registry.chunked import (
    TocError,
    TocPlace,
    announced,
    from_footer,
    parse_toc,
)
from inspector.sources.registry.toc import inflate

ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
SUM = "sha256:" + "a" * 64
OLD, NEW = "io.containers.zstd-chunked.", "io.github.containers.zstd-chunked."

ANNOUNCED = [
    # (name, media type, annotations, expected place or error words)
    ("old keys", ZSTD, {OLD + "manifest-checksum": SUM, OLD + "manifest-position": "10:20:30:1"},
     TocPlace(SUM, 10, 20, 30)),
    ("new keys", ZSTD, {NEW + "manifest-checksum": SUM, NEW + "manifest-position": "5:6:7:1"},
     TocPlace(SUM, 5, 6, 7)),
    ("checksum only: the footer says where", ZSTD, {NEW + "manifest-checksum": SUM},
     TocPlace(SUM)),
    ("gzip layer", "application/vnd.oci.image.layer.v1.tar+gzip",
     {OLD + "manifest-checksum": SUM, OLD + "manifest-position": "1:2:3:1"}, None),
    ("no checksum: unverifiable", ZSTD, {OLD + "manifest-position": "1:2:3:1"}, None),
    ("bad checksum", ZSTD, {OLD + "manifest-checksum": "md5:00"}, "not a sha256"),
    ("malformed position", ZSTD, {OLD + "manifest-checksum": SUM,
                                  OLD + "manifest-position": "1:2:3"}, "malformed"),
    ("type 2", ZSTD, {OLD + "manifest-checksum": SUM, OLD + "manifest-position": "1:2:3:2"},
     "not 1"),
    ("past the blob", ZSTD, {OLD + "manifest-checksum": SUM,
                             OLD + "manifest-position": "990:20:30:1"}, "past the"),
    ("huge TOC", ZSTD, {OLD + "manifest-checksum": SUM,
                        OLD + "manifest-position": f"0:10:{1 << 40}:1"}, "out of bounds"),
]


@pytest.mark.parametrize("name,media,annotations,expected", ANNOUNCED,
                         ids=[a[0] for a in ANNOUNCED])
def test_announced(name, media, annotations, expected):
    if isinstance(expected, str):
        with pytest.raises(TocError, match=expected) as info:
            announced(media, annotations, 1000, "layer")
        assert "\n" not in str(info.value)
    else:
        assert announced(media, annotations, 1000, "layer") == expected


def _footer(magic: bytes, *fields: int) -> bytes:
    body = struct.pack(f"<{len(fields)}Q", *fields) + magic
    return b"\x50\x2a\x4d\x18" + struct.pack("<I", len(body)) + body


FOOTERS = [
    ("40-byte GnUlInUx", b"x" * 30 + _footer(b"GnUlInUx", 10, 20, 30, 1), TocPlace(SUM, 10, 20, 30)),
    ("64-byte GNUlInUx", _footer(b"GNUlInUx", 11, 21, 31, 1, 50, 5, 9), TocPlace(SUM, 11, 21, 31)),
    ("no magic", b"\0" * 72, "no zstd:chunked footer"),
    ("not a skippable frame", b"\1" * 8 + _footer(b"GnUlInUx", 10, 20, 30, 1)[8:],
     "no zstd:chunked footer"),
    ("offset past the blob", _footer(b"GnUlInUx", 995, 20, 30, 1), "past the"),
]


@pytest.mark.parametrize("name,tail,expected", FOOTERS, ids=[f[0] for f in FOOTERS])
def test_footer(name, tail, expected):
    if isinstance(expected, str):
        with pytest.raises(TocError, match=expected):
            from_footer(TocPlace(SUM), tail, 1000, "layer")
    else:
        assert from_footer(TocPlace(SUM), tail, 1000, "layer") == expected


def _toc(*entries: dict, version=1) -> bytes:
    return json.dumps({"version": version, "entries": list(entries)}).encode()


REG = {"type": "reg", "name": "a", "size": 5, "digest": SUM, "offset": 0, "endOffset": 10}
TOCS = [
    ("not JSON", b"{", "not JSON"),
    ("deep nesting", b"[" * 100000 + b"]" * 100000, "not"),
    ("version 2", _toc(version=2), "version 1"),
    ("entries not a list", json.dumps({"version": 1, "entries": {}}).encode(), "no entries"),
    ("no entries key", json.dumps({"version": 1}).encode(), "no entries"),
    ("entry not an object", _toc(5), "not an object"),
    ("unknown type", _toc({"type": "socket", "name": "x"}), "bad type"),
    ("empty name", _toc({"type": "dir", "name": ""}), "bad type or name"),
    ("negative mode", _toc({"type": "dir", "name": "d", "mode": -1}), "out of range"),
    ("float uid", _toc({"type": "dir", "name": "d", "uid": 1.5}), "bad field"),
    ("uid past 32 bits", _toc({"type": "dir", "name": "d", "uid": 1 << 40}), "out of range"),
    ("file without digest", _toc({**REG, "digest": ""}), "without a digest"),
    ("offset past the blob", _toc({**REG, "offset": 5000, "endOffset": 6000}), "chunk position"),
    ("end before start", _toc({**REG, "offset": 50, "endOffset": 10}), "out of order"),
    ("orphan chunk", _toc({"type": "chunk", "name": "zz", "offset": 1}), "unknown file"),
    ("chunks not adding up", _toc({**REG, "chunkSize": 2},
                                  {"type": "chunk", "name": "a", "offset": 5, "chunkSize": 9,
                                   "chunkOffset": 2}), "adding up"),
    ("bad xattrs", _toc({"type": "dir", "name": "d", "xattrs": []}), "bad xattrs"),
    ("digest not a sha256", _toc({**REG, "digest": "md5:" + "a" * 67}), "bad digest"),
    ("digest in upper case", _toc({**REG, "digest": "sha256:" + "A" * 64}), "lowercase hex"),
    ("chunk digest not hex", _toc({**REG, "chunkDigest": "sha256:" + "g" * 64}),
     "lowercase hex"),
    ("digest not ASCII", _toc({**REG, "digest": "sha256:" + "\u0663" * 64}), "lowercase hex"),
    ("chunk name not a string", _toc(REG, {"type": "chunk", "name": ["a"], "offset": 5}),
     "unknown file"),
]


@pytest.mark.parametrize("name,data,words", TOCS, ids=[t[0] for t in TOCS])
def test_malformed_toc_is_one_line(name, data, words):
    with pytest.raises(TocError, match=words) as info:
        parse_toc(data, 1000, "layer")
    assert "\n" not in str(info.value)


def test_good_toc_folds_chunks_into_their_file():
    entries = parse_toc(_toc({**REG, "size": 9, "chunkSize": 4, "endOffset": 30},
                             {"type": "chunk", "name": "a", "offset": 12, "chunkSize": 5,
                              "chunkOffset": 4}), 1000, "layer")
    assert [(c.start, c.end, c.size) for c in entries[0].chunks] == [(0, 12, 4), (12, 30, 5)]


def test_an_empty_layers_null_entries_list_nothing():
    """skopeo (Go) writes an empty layer's nil entries slice as ``null``: distroless's
    45-byte empty layer was refused as malformed and pulled whole, with a notice."""
    assert parse_toc(json.dumps({"version": 1, "entries": None}).encode(), 1000, "layer") == []


def test_inflate_refuses_more_than_announced():
    import zstandard

    bomb = zstandard.ZstdCompressor().compress(bytes(1 << 20))
    with pytest.raises(TocError, match="past its announced"):
        inflate(bomb, 1000, "layer", "TOC")
    with pytest.raises(TocError, match="does not inflate"):
        inflate(b"garbage!", 1000, "layer", "TOC")


def _esgz_footer(text: bytes) -> bytes:
    from tests.registry.estargz_writer import footer

    good = footer(0x1234)
    return good[:16] + text + good[38:]


ESGZ_FOOTERS = [
    ("good", _esgz_footer(b"0000000000001234STARGZ"), 0x1234),
    ("not hex", _esgz_footer(b"000000000000zz34STARGZ"), "does not name"),
    ("wrong word", _esgz_footer(b"0000000000001234STARGY"), "does not name"),
    ("past the blob", _esgz_footer(b"00000000ffff1234STARGZ"), "outside the blob"),
    ("not gzip", b"\0" * 51, "no eStargz footer"),
    ("trailer not that of an empty member", _esgz_footer(b"0000000000001234STARGZ")[:-1] + b"\1",
     "no eStargz footer"),
    ("short", b"\x1f\x8b", "no eStargz footer"),
]


@pytest.mark.parametrize("name,footer,expected", ESGZ_FOOTERS, ids=[f[0] for f in ESGZ_FOOTERS])
def test_estargz_footer(name, footer, expected):
    from inspector.sources.registry.estargz import footer_offset

    if isinstance(expected, str):
        with pytest.raises(TocError, match=expected):
            footer_offset(footer, 100_000, "layer")
    else:
        assert footer_offset(footer, 100_000, "layer") == expected


ESGZ_TOCS = [
    ("not JSON", b"[", "not JSON"),
    ("no entries", json.dumps({"version": 1}).encode(), "entries list"),
    # landmarks are tar members: listed, as the full pull lists them
    ("landmark listed", _toc({"type": "reg", "name": ".prefetch.landmark", "size": 1,
                              "digest": SUM, "offset": 10}), [".prefetch.landmark"]),
    ("offset past the TOC", _toc({"type": "reg", "name": "a", "size": 3, "digest": SUM,
                                  "offset": 5000}), "chunk position"),
]


@pytest.mark.parametrize("name,data,expected", ESGZ_TOCS, ids=[t[0] for t in ESGZ_TOCS])
def test_estargz_toc(name, data, expected):
    from inspector.sources.registry.estargz import parse

    if isinstance(expected, str):
        with pytest.raises(TocError, match=expected):
            parse(data, 1000, "layer")
    else:
        assert [e.name for e in parse(data, 1000, "layer")] == expected


def _reg(name: str, offset: int, size: int, **more) -> dict:
    return {"type": "reg", "name": name, "offset": offset, "size": size, "digest": SUM,
            **more}


ENDS = [
    # (name, TOC entries, TOC offset, expected (start, end, size, loose) per file)
    ("no endOffset: the next entry's offset, loose",
     [_reg("a", 10, 5), _reg("b", 30, 3)], 50,
     {"a": [(10, 30, 5, True)], "b": [(30, 50, 3, True)]}),
    ("no endOffset, chunks: each to the next frame, the last to the next entry",
     [_reg("a", 10, 8, chunkSize=4), {"type": "chunk", "name": "a", "offset": 20,
                                      "chunkOffset": 4}, _reg("b", 40, 1)], 60,
     {"a": [(10, 20, 4, True), (20, 40, 4, True)], "b": [(40, 60, 1, True)]}),
    ("endOffset stated: as stated, not loose",
     [_reg("a", 10, 5, endOffset=15), _reg("b", 30, 3, endOffset=33)], 50,
     {"a": [(10, 15, 5, False)], "b": [(30, 33, 3, False)]}),
]


@pytest.mark.parametrize("name,entries,toc_offset,expected", ENDS, ids=[e[0] for e in ENDS])
def test_frame_ends_without_end_offset(name, entries, toc_offset, expected):
    doc = json.dumps({"version": 1, "entries": entries}).encode()
    got = {e.name: [(c.start, c.end, c.size, c.loose) for c in e.chunks or ()]
           for e in parse_toc(doc, 100, "t", toc_offset)}
    assert got == expected


LOOSE = [
    # (name, frames, size, prefix, expected bytes or error words)
    ("the file's frame then a tar header's: cut to its size", [b"hello", b"HEADER"], 5, True,
     b"hello"),
    ("the same, not loose: refused", [b"hello", b"HEADER"], 5, False, "past its announced"),
    ("loose but short", [b"hel"], 5, True, b"hel"),
]


@pytest.mark.parametrize("name,frames,size,prefix,expected", LOOSE, ids=[x[0] for x in LOOSE])
def test_loose_chunk_inflates_to_its_size(name, frames, size, prefix, expected):
    import zstandard

    data = b"".join(zstandard.ZstdCompressor().compress(f) for f in frames)
    if isinstance(expected, bytes):
        assert inflate(data, size, "t", "f", prefix=prefix) == expected
    else:
        with pytest.raises(TocError, match=expected):
            inflate(data, size, "t", "f", prefix=prefix)
