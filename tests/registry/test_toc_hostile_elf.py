"""Hostile ELF headers met by the TOC listing's Go check (``from_toc.first_ask``,
``go_window``, ``go_data_start``: bytes from the image): each is bounded — no exception,
at most the file's own frames fetched, a few requests — and finds the Go build info the
full pull's walker finds (``tests/registry/chunked_mem.py``: the real ``RemoteToc`` over
an in-memory zstd:chunked layer; the walker over the same tar is the oracle)."""

from __future__ import annotations

import struct

import pytest

from inspector.index import capture
from inspector.index.from_toc import GO_WINDOW, go_data_start, go_window
from tests.builders import Entry, make_tar
from tests.index.helpers import walk_bytes
from tests.registry.chunked_mem import listed, toc_items

SIZE = capture.GO_FLOOR + 4321
MAGIC = capture.GO_BUILDINFO_MAGIC
FILL = bytes(range(1, 256)) * (SIZE // 255 + 1)  # never zeros, never the magic
PT_LOAD, PT_NOTE, RX, RW = 1, 4, 5, 6
U64 = (1 << 64) - 1


def _elf(bits: int = 64, order: str = "<", *, phoff: int | None = None, phentsize=None,
         phnum: int | None = None, shoff: int | None = None, shnum: int = 5,
         phdrs: tuple = (), go_layout: bool = True) -> bytes:
    """An ELF header then its program headers, fields as given (any value the field's
    width holds); ``phdrs``: (p_type, p_flags, p_offset, p_filesz); the section table
    right after the program headers (the Go linker's layout) or at 1 MiB."""
    wide = bits == 64
    phoff = (64 if wide else 52) if phoff is None else phoff
    phentsize = (56 if wide else 32) if phentsize is None else phentsize
    phnum = len(phdrs) if phnum is None else phnum
    if shoff is None:
        shoff = (phoff + phentsize * phnum) & (U64 if wide else 0xFFFFFFFF) if go_layout \
            else 1 << 20
    ident = b"\x7fELF" + bytes([2 if wide else 1, 1 if order == "<" else 2, 1]) + bytes(9)
    if wide:
        head = ident + struct.pack(order + "HHIQQQIHHHHHH", 2, 62, 1, 0, phoff, shoff, 0, 64,
                                   phentsize, phnum, 64, shnum, 0)
        table = b"".join(struct.pack(order + "IIQQQQQQ", t, f, o, 0, 0, n, n, 0)
                         for t, f, o, n in phdrs)
    else:
        head = ident + struct.pack(order + "HHIIIIIHHHHHH", 2, 3, 1, 0, phoff, shoff, 0, 52,
                                   phentsize, phnum, 40, shnum, 0)
        table = b"".join(struct.pack(order + "IIIIIIII", t, o, 0, 0, n, n, f, 0)
                         for t, f, o, n in phdrs)
    return head + table


def _note(order: str = "<") -> bytes:
    return struct.pack(order + "III", 4, 8, 4) + b"Go\x00\x00" + b"build-id"


def _file(start: bytes, put: dict[int, bytes] | None = None) -> bytes:
    data = bytearray(start + FILL[len(start):SIZE])
    for at, piece in (put or {}).items():
        data[at:at + len(piece)] = piece
    return bytes(data[:SIZE])


INFO = MAGIC + b"\x08\x02" + bytes(16) + b"\x06go1.21" + bytes(40)
#: (name, the executable's bytes, frame sizes (None: 4 KiB), whether the TOC listing finds
#: the build info the walker finds — False only where the design says so)
ELFS = [
    ("the magic and a class, then filler for fields", _file(b"\x7fELF\x02\x01"), None, True),
    ("an unknown class and byte order", _file(b"\x7fELF\x09\x07\x01"), None, True),
    ("phnum 65535 of 56 bytes: the table past what came", _file(_elf(phnum=0xFFFF)), None, True),
    ("big-endian phnum 65535", _file(_elf(order=">", phnum=0xFFFF)), None, True),
    ("phoff 2^64-1", _file(_elf(phoff=U64, phdrs=((PT_LOAD, RW, 0x5000, 10),))), None, True),
    ("32-bit phoff 2^32-1", _file(_elf(32, phoff=0xFFFFFFFF, phdrs=((PT_LOAD, RW, 1, 1),))),
     None, True),
    ("phentsize 0, phnum 65535", _file(_elf(phentsize=0, phnum=0xFFFF)), None, True),
    ("phentsize 1: entries shorter than their fields", _file(_elf(phentsize=1, phnum=300)),
     None, True),
    ("phentsize 65535", _file(_elf(phentsize=0xFFFF, phnum=2)), None, True),
    ("a PT_NOTE of 2^64-1 bytes at 0", _file(_elf(phdrs=((PT_NOTE, 4, 0, U64),))), None, True),
    ("a PT_NOTE past the window", _file(_elf(phdrs=((PT_NOTE, 4, 1 << 40, 8),))), None, True),
    ("a PT_LOAD at 2^63 (Go layout)", _file(_elf(phdrs=((PT_LOAD, RW, 1 << 63, 8),))),
     None, True),
    ("a 32-bit big-endian PT_LOAD at 2^32-1", _file(_elf(32, ">", phdrs=(
        (PT_LOAD, RW, 0xFFFFFFFF, 8),))), None, True),
    ("a PT_LOAD at the file's last byte", _file(_elf(phdrs=((PT_LOAD, RW, SIZE - 1, 8),))),
     None, True),
    ("a PT_LOAD at the last byte, the magic before it", _file(
        _elf(phdrs=((PT_LOAD, RW, SIZE - 1, 8),)), {SIZE - 9000: INFO}), None, True),
    ("Go layout, no program headers", _file(_elf(phnum=0)), None, True),
    ("Go layout, 65535 writable loads", _file(_elf(phdrs=((PT_LOAD, RW, 0x5000, 8),) * 140,
                                                   phnum=0xFFFF)), None, True),
    ("32-bit big-endian Go layout, the build info at its data", _file(
        _elf(32, ">", phdrs=((PT_LOAD, RX, 0, 8), (PT_LOAD, RW, 0x9000, 8))),
        {0x9000: INFO}), None, True),
    ("64-bit Go layout, the build info straddling two frames", _file(
        _elf(phdrs=((PT_LOAD, RW, 0x8FF8, 8),)), {0x8FF8: INFO}), None, True),
    ("a big-endian Go note, the build info at the end", _file(
        _elf(32, ">", go_layout=False, phdrs=((PT_NOTE, 4, 0x1000, 24),)),
        {0x1000: _note(">"), SIZE - len(INFO): INFO}), None, True),
    ("the note cut by 16-byte frames, the build info in the middle", _file(
        _elf(phdrs=((PT_NOTE, 4, 4004, 24),)), {4004: _note(), SIZE // 2: INFO}),
     lambda size: [16] * 512 + [64 << 10] * (size // (64 << 10) + 1), True),
    ("the note past a 1-byte first frame and a 200 KiB one", _file(
        _elf(phdrs=((PT_NOTE, 4, 3000, 24),)), {3000: _note(), 70000: INFO}),
     lambda size: [1, 200 << 10, size], True),
    ("a note claiming the window, the build info twice", _file(
        _elf(phdrs=((PT_NOTE, 4, 0, GO_WINDOW),)), {100: _note(), 9000: INFO, 90000: INFO}),
     None, True),
    # the design: without a Go note nor the Go linker's layout an ELF is not read for its
    # build info (docs/architecture.md, "Go binaries"); the walker searches every ELF
    ("the magic in an ELF of another linker, no note", _file(
        _elf(go_layout=False, phdrs=((PT_LOAD, RW, 0x5000, 8),)), {0x5000: INFO}), None, False),
]


@pytest.mark.parametrize("name,data,frame,agrees", ELFS, ids=[e[0] for e in ELFS])
def test_a_hostile_elf_is_bounded_and_found_as_the_walker_finds_it(name, data, frame, agrees):
    tar = make_tar({"usr/bin/x": Entry("file", data, mode=0o755)})
    index, toc = listed(tar, frame or 4096)
    frames, items = toc_items(tar, frame or 4096)
    full = walk_bytes(tar)
    assert (index.go_buildinfo == full.go_buildinfo) == agrees
    assert index.heads[0] == full.heads[0]
    # bounded: the TOC, then the file's own frames at most twice (its Go window, then the
    # whole file), in at most four requests (the heads, the window, the data, the whole)
    toc_bytes = len(toc.data) - len(frames)
    assert toc.fetched <= toc_bytes + 2 * len(frames) + 4 * 512
    assert toc.requests <= 1 + 4


#: cut lengths of an ELF's first bytes that each function must take without an exception
CUTS = [0, 1, 4, 5, 6, 16, 32, 42, 52, 54, 58, 62, 63, 64, 65, 100, 4096, GO_WINDOW]


@pytest.mark.parametrize("name,data,frame,agrees", ELFS, ids=[e[0] for e in ELFS])
def test_the_header_readers_take_any_cut(name, data, frame, agrees):
    for cut in CUTS:
        start = data[:cut]
        for size in (cut, SIZE, 1 << 62):
            need = go_window(start, size)
            assert 0 <= need <= min(size, GO_WINDOW)
            at = go_data_start(start, size)
            assert at is None or 0 <= at < size
