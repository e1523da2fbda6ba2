"""Streamed framed entries (``CacheDir.writer``): the body written piece by piece with
the header after it, the same bytes as a whole ``frame``; damage still discarded; a
failure mid-stream leaves neither an entry nor a temp file; a reader sees the old entry
or the new one, never a mix."""

from __future__ import annotations

import os
import threading
import zlib
from pathlib import Path

import pytest

from inspector.cache import CacheDir, frame, unframe

MAGIC = b"TESTSTR1"
KEY = "sha256:" + "c" * 64


def _store(root: Path) -> CacheDir:
    return CacheDir(root, "test", 1, MAGIC, ("cache.py",), ".bin")


def _files(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.is_file() and p.name != ".checked")


def _stream(store: CacheDir, key: str, pieces, header: dict) -> None:
    with store.writer(key) as entry:
        assert entry is not None
        for piece in pieces:
            entry.write(piece)
        entry.header.update(header)  # filled in after the body: what only its end tells


PIECES = [
    ("no pieces", [], b""),
    ("one piece", [b"abc"], b"abc"),
    ("empty pieces between", [b"a", b"", b"b", b""], b"ab"),
    ("memoryview and bytearray", [memoryview(b"xyz"), bytearray(b"\0\xff")], b"xyz\0\xff"),
    ("a cast column view", [memoryview(bytearray(range(8))).cast("B")], bytes(range(8))),
    ("large", [os.urandom(1 << 20), b"tail"], None),
]


@pytest.mark.parametrize("name,pieces,body", PIECES, ids=[p[0] for p in PIECES])
def test_a_streamed_entry_reads_back_and_equals_the_whole_frame(tmp_path, name, pieces, body):
    store = _store(tmp_path)
    _stream(store, KEY, pieces, {"n": len(pieces)})
    header, view = store.read(KEY)
    expected = b"".join(bytes(p) for p in pieces)
    assert body is None or expected == body
    assert bytes(view) == expected and header["n"] == len(pieces) and header["key"] == KEY
    whole = b"".join(bytes(c) for c in frame(MAGIC, header, [bytes(p) for p in pieces]))
    assert store.path(KEY).read_bytes() == whole


def test_the_callers_header_cannot_replace_the_key_or_the_code_digest(tmp_path):
    store = _store(tmp_path)
    _stream(store, KEY, [b"x"], {"key": "other", "code": "forged"})
    header, _ = store.read(KEY)
    assert header["key"] == KEY and header["code"] == store.code_digest


def _flip(i: int):
    return lambda data: data[:i] + bytes([data[i] ^ 0x10]) + data[i + 1:]


DAMAGE = [
    ("flipped magic", _flip(0)),
    ("flipped first body byte", _flip(8)),
    ("flipped last body byte", lambda d: _flip(8 + 999)(d)),
    ("flipped header byte", lambda d: _flip(len(d) - 20)(d)),
    ("flipped header length", lambda d: _flip(len(d) - 16)(d)),
    ("flipped body length", lambda d: _flip(len(d) - 12)(d)),
    ("flipped crc", lambda d: _flip(len(d) - 1)(d)),
    ("truncated by one", lambda d: d[:-1]),
    ("truncated to the body", lambda d: d[:1008]),
    ("appended byte", lambda d: d + b"\0"),
    ("empty", lambda d: b""),
    ("footer only", lambda d: d[-16:]),
]


@pytest.mark.parametrize("name,damage", DAMAGE, ids=[d[0] for d in DAMAGE])
def test_a_damaged_streamed_entry_is_discarded(tmp_path, name, damage):
    store = _store(tmp_path)
    _stream(store, KEY, [os.urandom(500), os.urandom(500)], {"what": "x"})
    path = store.path(KEY)
    path.write_bytes(damage(path.read_bytes()))
    assert store.read(KEY) is None
    assert not path.exists()  # removed, to be rebuilt


def test_a_valid_crc_over_changed_lengths_is_still_rejected(tmp_path):
    """Lengths that do not add up to the file size are refused before the CRC is trusted."""
    store = _store(tmp_path)
    _stream(store, KEY, [b"body"], {})
    data = bytearray(store.path(KEY).read_bytes())
    hlen = int.from_bytes(data[-16:-12], "little")
    data[-16:-12] = (hlen + 1).to_bytes(4, "little")
    data[-4:] = zlib.crc32(bytes(data[8:-4])).to_bytes(4, "little")
    assert unframe(MAGIC, bytes(data)) is None


class Boom(Exception):
    pass


def test_a_failure_mid_stream_leaves_no_entry_and_no_temp_file(tmp_path):
    store = _store(tmp_path)
    with pytest.raises(Boom):
        with store.writer(KEY) as entry:
            entry.write(b"x" * 10_000)
            raise Boom
    assert _files(tmp_path) == []
    assert store.read(KEY) is None


def test_a_failure_mid_stream_keeps_the_old_entry(tmp_path):
    store = _store(tmp_path)
    _stream(store, KEY, [b"old"], {"v": 1})
    with pytest.raises(Boom):
        with store.writer(KEY) as entry:
            entry.write(b"new, half")
            raise Boom
    header, body = store.read(KEY)
    assert (header["v"], bytes(body)) == (1, b"old")
    assert _files(tmp_path) == [store.path(KEY).name]


def test_a_reader_keeps_the_entry_it_opened_while_a_writer_replaces_it(tmp_path):
    store = _store(tmp_path)
    _stream(store, KEY, [b"A" * 4096], {"v": "A"})
    header, old = store.read(KEY)  # a view of the mapped file
    _stream(store, KEY, [b"B" * 8192], {"v": "B"})
    assert header["v"] == "A" and bytes(old) == b"A" * 4096
    header, new = store.read(KEY)
    assert header["v"] == "B" and bytes(new) == b"B" * 8192


def test_concurrent_readers_see_the_old_entry_or_the_new_one(tmp_path):
    store = _store(tmp_path)
    _stream(store, KEY, [bytes([0]) * 65536], {"v": 0})
    seen: list[int] = []
    bad: list[object] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            got = store.read(KEY)
            if got is None or bytes(got[1]) != bytes([got[0]["v"]]) * 65536:
                bad.append(got and got[0])
                return
            seen.append(got[0]["v"])

    readers = [threading.Thread(target=read) for _ in range(2)]
    for t in readers:
        t.start()
    try:
        for v in range(1, 60):
            _stream(store, KEY, [bytes([v]) * 32768, bytes([v]) * 32768], {"v": v})
    finally:
        done.set()
        for t in readers:
            t.join()
    assert bad == [] and seen, (bad, len(seen))
