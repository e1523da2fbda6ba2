"""Minimal ELF64 little-endian objects written in code (no compiler), with knobs to break
them: the layout is header | 3 program headers (PT_LOAD over the whole file at vaddr 0,
PT_INTERP, PT_DYNAMIC) | interpreter | string table | dynamic entries."""

from __future__ import annotations

import struct

PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
DT_NEEDED, DT_STRTAB, DT_STRSZ, DT_SONAME, DT_RPATH, DT_RUNPATH = 1, 5, 10, 14, 15, 29
EHDR, PHDR = 64, 56


def make_elf(*, interp: str | None = "/lib64/ld-linux-x86-64.so.2", needed=(), soname=None,
             rpath=None, runpath=None, e_type: int = 3, dynamic: bool = True,
             phoff: int | None = None, phnum: int | None = None, phentsize: int = PHDR,
             interp_offset: int | None = None, dyn_offset: int | None = None,
             dyn_size: int | None = None, strtab_addr: int | None = None,
             needed_offsets=(), drop_strtab: bool = False) -> bytes:
    strings = b"\0"
    offsets: list[tuple[int, int]] = []

    def add(tag: int, text: str) -> None:
        nonlocal strings
        offsets.append((tag, len(strings)))
        strings += text.encode() + b"\0"

    for name in needed:
        add(DT_NEEDED, name)
    for tag, text in ((DT_SONAME, soname), (DT_RPATH, rpath), (DT_RUNPATH, runpath)):
        if text is not None:
            add(tag, text)
    interp_b = interp.encode() + b"\0" if interp else b""
    headers = [PT_LOAD] + ([PT_INTERP] if interp else []) + ([PT_DYNAMIC] if dynamic else [])
    at_interp = EHDR + PHDR * len(headers)
    at_strtab = at_interp + len(interp_b)
    at_dyn = at_strtab + len(strings)
    entries = [(tag, off) for tag, off in offsets] + [(DT_NEEDED, o) for o in needed_offsets]
    if not drop_strtab:
        entries += [(DT_STRTAB, at_strtab if strtab_addr is None else strtab_addr),
                    (DT_STRSZ, len(strings))]
    dyn = b"".join(struct.pack("<QQ", t, v) for t, v in entries) + struct.pack("<QQ", 0, 0)
    total = at_dyn + len(dyn)
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    ehdr = ident + struct.pack("<HHIQQQIHHHHHH", e_type, 62, 1, 0,
                               EHDR if phoff is None else phoff, 0, 0, EHDR, phentsize,
                               len(headers) if phnum is None else phnum, 64, 0, 0)
    phdrs = b""
    for ptype in headers:
        if ptype == PT_LOAD:
            off, size = 0, total
        elif ptype == PT_INTERP:
            off = at_interp if interp_offset is None else interp_offset
            size = len(interp_b)
        else:
            off = at_dyn if dyn_offset is None else dyn_offset
            size = len(dyn) if dyn_size is None else dyn_size
        phdrs += struct.pack("<IIQQQQQQ", ptype, 5, off, off, off, size, size, 8)
        phdrs += bytes(phentsize - PHDR) if phentsize > PHDR else b""
    return ehdr + phdrs[:PHDR * len(headers)] + interp_b + strings + dyn
