"""Just enough ELF to know what a program needs from the loader (stdlib ``struct`` only).

``parse_elf(data)`` reads the ELF header, the program headers, ``PT_INTERP`` and the
``PT_DYNAMIC`` entries (``DT_NEEDED``, ``DT_SONAME``, ``DT_RPATH``, ``DT_RUNPATH``,
``DT_FLAGS_1``). String table addresses are mapped to file offsets through the
``PT_LOAD`` segments, as the loader maps them. Every offset and count is checked against
the file before it is used: a truncated or hostile file raises ``ElfError`` with one line
saying what is wrong and where, never ``struct.error`` or an endless loop.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from inspector.errors import InspectorError

ELF_MAGIC = b"\x7fELF"
PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
DT_NULL, DT_NEEDED, DT_STRTAB, DT_STRSZ = 0, 1, 5, 10
DT_SONAME, DT_RPATH, DT_RUNPATH, DT_FLAGS_1 = 14, 15, 29, 0x6FFFFFFB
DF_1_NODEFLIB = 0x800
DT_VERNEED, DT_VERNEEDNUM = 0x6FFFFFFE, 0x6FFFFFFF
DT_VERDEF, DT_VERDEFNUM, VER_FLG_BASE = 0x6FFFFFFC, 0x6FFFFFFD, 1
#: version records read at most (glibc programs: < 20 files, < 50 versions)
MAX_VERSIONS = 1024
ET_EXEC, ET_DYN = 2, 3
#: program headers read at most (real files have < 20; PN_XNUM files are rejected)
MAX_PHNUM = 4096
#: bytes a string (a soname, a runpath) may take before it is called hostile
MAX_STRING = 4096
#: DT_NEEDED entries per object read at most (real programs: a few dozen)
MAX_NEEDED = 1024
MACHINES = {3: "i386", 8: "mips", 20: "ppc", 21: "ppc64", 22: "s390x", 40: "arm",
            62: "x86_64", 183: "arm64", 243: "riscv64"}


class ElfError(InspectorError):
    """The file is not a readable ELF object (not ELF, truncated, or inconsistent)."""


@dataclass
class ElfInfo:
    bits: int  # 32 or 64
    little_endian: bool
    machine: str  # x86_64, arm64, … or "machine N"
    type: int  # ET_EXEC, ET_DYN, …
    interpreter: str | None = None  # PT_INTERP, e.g. /lib64/ld-linux-x86-64.so.2
    dynamic: bool = False  # has PT_DYNAMIC
    needed: list[str] = field(default_factory=list)  # DT_NEEDED, in order
    soname: str | None = None
    rpath: list[str] = field(default_factory=list)  # DT_RPATH, split on ':'
    runpath: list[str] = field(default_factory=list)  # DT_RUNPATH, split on ':'
    nodeflib: bool = False  # DF_1_NODEFLIB: the default directories are not searched
    #: symbol versions needed, per file (DT_VERNEED): {"libc.so.6": ["GLIBC_2.34", …]}
    versions: dict[str, list[str]] = field(default_factory=dict)
    #: symbol versions this object defines (DT_VERDEF, without its own base name)
    defines: list[str] = field(default_factory=list)

    def glibc_needed(self) -> tuple[int, ...] | None:
        """The highest ``GLIBC_x.y`` version this object needs (None: no glibc versions)."""
        found = [tuple(int(n) for n in v[6:].split(".") if n.isdigit())
                 for names in self.versions.values() for v in names
                 if v.startswith("GLIBC_2")]
        return max(found) if found else None

    @property
    def static(self) -> bool:
        """Runs without a loader: no PT_INTERP and nothing needed (static or static-pie)."""
        return self.interpreter is None and not self.needed

    @property
    def kind(self) -> str:
        if self.static:
            return "static executable" if self.type == ET_EXEC or self.dynamic else "static object"
        return "dynamic executable" if self.interpreter else "shared library"


def is_elf(head: bytes) -> bool:
    return head.startswith(ELF_MAGIC)


class _Reader:
    def __init__(self, data: bytes, little: bool, bits: int, what: str) -> None:
        self.data, self.what = data, what
        e = "<" if little else ">"
        self.word = "Q" if bits == 64 else "I"
        self.e = e

    def unpack(self, fmt: str, offset: int, what: str) -> tuple:
        s = struct.Struct(self.e + fmt.replace("W", self.word))
        if offset < 0 or offset + s.size > len(self.data):
            raise ElfError(f"{self.what}: truncated ELF: {what} at offset {offset} is beyond "
                           f"the end of the file ({len(self.data)} bytes)")
        return s.unpack_from(self.data, offset)

    def string(self, offset: int, what: str) -> str:
        if offset < 0 or offset >= len(self.data):
            raise ElfError(f"{self.what}: bad ELF: {what} at offset {offset} is outside the "
                           f"file ({len(self.data)} bytes)")
        end = self.data.find(b"\0", offset, offset + MAX_STRING)
        if end < 0:
            raise ElfError(f"{self.what}: bad ELF: {what} at offset {offset} is not "
                           f"NUL-terminated within {MAX_STRING} bytes")
        return self.data[offset:end].decode("utf-8", errors="replace")


def parse_elf(data: bytes, what: str = "file") -> ElfInfo:
    """What ``data`` (a whole ELF file) asks of the loader. Raises ``ElfError``."""
    if not data.startswith(ELF_MAGIC):
        raise ElfError(f"{what}: not an ELF file")
    if len(data) < 16 or data[4] not in (1, 2) or data[5] not in (1, 2):
        raise ElfError(f"{what}: bad ELF: unknown class or byte order in the ELF identification")
    bits, little = (32 if data[4] == 1 else 64), data[5] == 1
    r = _Reader(data, little, bits, what)
    e_type, e_machine = r.unpack("HH", 16, "ELF header")
    phoff, phentsize, phnum = _header(r, bits)
    info = ElfInfo(bits, little, MACHINES.get(e_machine, f"machine {e_machine}"), e_type)
    phdrs = _program_headers(r, bits, phoff, phentsize, phnum)
    loads = [(vaddr, offset, filesz) for ptype, offset, vaddr, filesz in phdrs if ptype == PT_LOAD]
    for ptype, offset, _vaddr, filesz in phdrs:
        if ptype == PT_INTERP:
            if offset + filesz > len(data) or filesz == 0:
                raise ElfError(f"{what}: truncated ELF: PT_INTERP at offset {offset} "
                               f"({filesz} bytes) is beyond the end of the file")
            info.interpreter = r.string(offset, "PT_INTERP")
        elif ptype == PT_DYNAMIC:
            info.dynamic = True
            _dynamic(r, info, bits, offset, filesz, loads)
    return info


def _header(r: _Reader, bits: int) -> tuple[int, int, int]:
    if bits == 64:
        phoff, = r.unpack("Q", 32, "ELF header")
        phentsize, phnum = r.unpack("HH", 54, "ELF header")
    else:
        phoff, = r.unpack("I", 28, "ELF header")
        phentsize, phnum = r.unpack("HH", 42, "ELF header")
    return phoff, phentsize, phnum


def _program_headers(r: _Reader, bits: int, phoff: int, phentsize: int,
                     phnum: int) -> list[tuple[int, int, int, int]]:
    """(p_type, p_offset, p_vaddr, p_filesz) per program header."""
    if phnum == 0:
        return []
    need = 56 if bits == 64 else 32
    if phnum >= 0xFFFF or phnum > MAX_PHNUM:
        raise ElfError(f"{r.what}: unsupported ELF: {phnum} program headers")
    if phentsize < need:
        raise ElfError(f"{r.what}: bad ELF: program header size {phentsize} < {need}")
    out = []
    for i in range(phnum):
        at = phoff + i * phentsize
        if bits == 64:
            ptype, _flags, offset, vaddr, _paddr, filesz = r.unpack("IIQQQQ", at, f"program header {i}")
        else:
            ptype, offset, vaddr, _paddr, filesz = r.unpack("IIIII", at, f"program header {i}")
        out.append((ptype, offset, vaddr, filesz))
    return out


def _file_offset(vaddr: int, loads: list[tuple[int, int, int]]) -> int | None:
    for seg_vaddr, seg_offset, filesz in loads:
        if seg_vaddr <= vaddr < seg_vaddr + filesz:
            return seg_offset + (vaddr - seg_vaddr)
    return None


def _dynamic(r: _Reader, info: ElfInfo, bits: int, offset: int, filesz: int,
             loads: list[tuple[int, int, int]]) -> None:
    entsize = 16 if bits == 64 else 8
    if offset + filesz > len(r.data):
        raise ElfError(f"{r.what}: truncated ELF: PT_DYNAMIC at offset {offset} ({filesz} bytes) "
                       f"is beyond the end of the file ({len(r.data)} bytes)")
    tags: list[tuple[int, int]] = []
    strtab = None
    verneed = verneednum = verdef = verdefnum = None
    for i in range(filesz // entsize):  # bounded by the segment: no loop can run away
        tag, val = r.unpack("WW", offset + i * entsize, f"dynamic entry {i}")
        if tag == DT_NULL:
            break
        if tag == DT_STRTAB:
            strtab = val
        elif tag == DT_FLAGS_1:
            info.nodeflib = bool(val & DF_1_NODEFLIB)
        elif tag == DT_VERNEED:
            verneed = val
        elif tag == DT_VERNEEDNUM:
            verneednum = val
        elif tag == DT_VERDEF:
            verdef = val
        elif tag == DT_VERDEFNUM:
            verdefnum = val
        elif tag in (DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH):
            tags.append((tag, val))
    if not tags and verneed is None and verdef is None:
        return
    if strtab is None:
        raise ElfError(f"{r.what}: bad ELF: dynamic section names libraries but has no DT_STRTAB")
    base = _file_offset(strtab, loads)
    if base is None:
        # some objects (and many hand-made ones) have vaddr == offset with no PT_LOAD
        base = strtab if not loads else None
    if base is None:
        raise ElfError(f"{r.what}: bad ELF: DT_STRTAB address {strtab:#x} is in no loaded segment")
    needed = 0
    for tag, val in tags:
        text = r.string(base + val, "dynamic string")
        if tag == DT_NEEDED:
            needed += 1
            if needed > MAX_NEEDED:
                raise ElfError(f"{r.what}: hostile ELF: more than {MAX_NEEDED} DT_NEEDED entries")
            info.needed.append(text)
        elif tag == DT_SONAME:
            info.soname = text
        elif tag == DT_RPATH:
            info.rpath.extend(p for p in text.split(":") if p)
        else:
            info.runpath.extend(p for p in text.split(":") if p)
    if verneed is not None and verneednum:
        _verneed(r, info, base, _file_offset(verneed, loads), verneednum)
    if verdef is not None and verdefnum:
        _verdef(r, info, base, _file_offset(verdef, loads), verdefnum)


def _verdef(r: _Reader, info: ElfInfo, strtab: int, at: int | None, count: int) -> None:
    """``Elf*_Verdef`` records: the first name of each (same layout for 32/64)."""
    if at is None or count > MAX_VERSIONS:
        raise ElfError(f"{r.what}: bad ELF: DT_VERDEF is in no loaded segment or too long")
    for _ in range(count):
        _ver, flags, _ndx, cnt, _hash, vd_aux, vd_next = r.unpack("HHHHIII", at, "version definition")
        if cnt and not flags & VER_FLG_BASE:
            name, = r.unpack("I", at + vd_aux, "version definition name")
            info.defines.append(r.string(strtab + name, "version name"))
        if not vd_next:
            break
        at += vd_next


def _verneed(r: _Reader, info: ElfInfo, strtab: int, at: int | None, count: int) -> None:
    """``Elf*_Verneed`` records and their ``Elf*_Vernaux`` names (same layout for 32/64)."""
    if at is None or count > MAX_VERSIONS:
        raise ElfError(f"{r.what}: bad ELF: DT_VERNEED is in no loaded segment or too long")
    seen = 0
    for _ in range(count):
        _ver, cnt, vn_file, vn_aux, vn_next = r.unpack("HHIII", at, "version need record")
        names = info.versions.setdefault(r.string(strtab + vn_file, "version file"), [])
        aux = at + vn_aux
        for _ in range(cnt):
            seen += 1
            if seen > MAX_VERSIONS:
                raise ElfError(f"{r.what}: hostile ELF: more than {MAX_VERSIONS} symbol versions")
            _hash, _flags, _other, name, vna_next = r.unpack("IHHII", aux, "version need entry")
            names.append(r.string(strtab + name, "version name"))
            if not vna_next:
                break
            aux += vna_next
        if not vn_next:
            break
        at += vn_next
