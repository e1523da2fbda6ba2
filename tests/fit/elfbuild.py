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


def with_verneed(data: bytes, file: str, versions: list[str]) -> bytes:
    """``data`` (from ``make_elf``) plus DT_VERNEED records naming ``versions`` of ``file``:
    appended after the file, with a new string table and dynamic section copied there
    (the PT_LOAD, PT_DYNAMIC and DT_STRTAB are re-pointed)."""
    import struct as s

    old_phoff = s.unpack_from("<Q", data, 32)[0]
    phnum = s.unpack_from("<H", data, 56)[0]
    dyn_at = dyn_size = None
    for i in range(phnum):
        ptype, _f, off, _v, _p, filesz = s.unpack_from("<IIQQQQ", data, old_phoff + i * PHDR)
        if ptype == PT_DYNAMIC:
            dyn_at, dyn_size = off, filesz
    entries = [s.unpack_from("<QQ", data, dyn_at + i * 16) for i in range(dyn_size // 16)]
    strtab = next(v for t, v in entries if t == DT_STRTAB)
    strsz = next(v for t, v in entries if t == DT_STRSZ)
    strings = bytearray(data[strtab:strtab + strsz])
    new_str_at = len(data)
    file_off = len(strings)
    strings += file.encode() + b"\0"
    name_offs = []
    for v in versions:
        name_offs.append(len(strings))
        strings += v.encode() + b"\0"
    ver_at = new_str_at + len(strings)
    ver = s.pack("<HHIII", 1, len(versions), file_off, 16, 0)
    for i, off in enumerate(name_offs):
        ver += s.pack("<IHHII", 0, 0, 2 + i, off, 16 if i < len(versions) - 1 else 0)
    new_dyn_at = ver_at + len(ver)
    body = [(t, v) for t, v in entries if t not in (0, DT_STRTAB, DT_STRSZ)]
    body += [(DT_STRTAB, new_str_at), (DT_STRSZ, len(strings)),
             (0x6FFFFFFE, ver_at), (0x6FFFFFFF, 1), (0, 0)]
    dyn = b"".join(s.pack("<QQ", t, v) for t, v in body)
    out = bytearray(data) + strings + ver + dyn
    total = len(out)
    for i in range(phnum):
        at = old_phoff + i * PHDR
        ptype = s.unpack_from("<I", out, at)[0]
        if ptype == PT_LOAD:
            s.pack_into("<QQ", out, at + 32, total, total)
        elif ptype == PT_DYNAMIC:
            s.pack_into("<QQQQQ", out, at + 8, new_dyn_at, new_dyn_at, new_dyn_at, len(dyn), len(dyn))
    return bytes(out)
