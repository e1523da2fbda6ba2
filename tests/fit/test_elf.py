"""The ELF reader: what a well-formed object asks for, and one clear error for every
broken or hostile one (never struct.error, never a hang)."""

from __future__ import annotations

import struct

import pytest

from inspector.fit.elf import ElfError, parse_elf
from tests.fit.elfbuild import make_elf


def test_reads_interpreter_needed_soname_and_paths():
    info = parse_elf(make_elf(needed=["libfoo.so.1", "libc.so.6"], soname="libbar.so.2",
                              rpath="/opt/a:/opt/b", runpath="$ORIGIN/../lib"))
    assert (info.interpreter, info.needed, info.soname) == (
        "/lib64/ld-linux-x86-64.so.2", ["libfoo.so.1", "libc.so.6"], "libbar.so.2")
    assert (info.rpath, info.runpath, info.bits, info.machine) == (
        ["/opt/a", "/opt/b"], ["$ORIGIN/../lib"], 64, "x86_64")
    assert not info.static


@pytest.mark.parametrize(("name", "kwargs", "static"), [
    ("no PT_INTERP, no PT_DYNAMIC (Go)", {"interp": None, "dynamic": False, "e_type": 2}, True),
    ("static-pie: dynamic, nothing needed", {"interp": None}, True),
    ("dynamic executable", {"needed": ["libc.so.6"]}, False),
], ids=lambda v: v if isinstance(v, str) else "")
def test_static_or_dynamic(name, kwargs, static):
    assert parse_elf(make_elf(**kwargs)).static is static


GOOD = make_elf(needed=["libc.so.6"])
HOSTILE = [
    ("empty file", b"", "not an ELF file"),
    ("a text file", b"#!/bin/sh\necho hi\n", "not an ELF file"),
    ("magic only", b"\x7fELF", "unknown class"),
    ("bad class byte", b"\x7fELF\x07\x01" + bytes(58), "unknown class"),
    ("truncated in the header", GOOD[:40], "truncated ELF: ELF header"),
    ("truncated in the program headers", GOOD[:100], "truncated ELF: program header"),
    ("truncated in the dynamic section", GOOD[:-8], "PT_DYNAMIC"),
    ("program headers far beyond the end", make_elf(phoff=1 << 40), "program header 0"),
    ("65535 program headers (PN_XNUM)", make_elf(phnum=0xFFFF), "unsupported ELF"),
    ("program header entries too small", make_elf(phentsize=8), "program header size 8"),
    ("PT_INTERP beyond the end", make_elf(interp_offset=1 << 30), "PT_INTERP"),
    ("PT_DYNAMIC beyond the end", make_elf(needed=["a"], dyn_offset=1 << 30), "PT_DYNAMIC"),
    ("PT_DYNAMIC size beyond the end", make_elf(needed=["a"], dyn_size=1 << 40), "PT_DYNAMIC"),
    ("DT_STRTAB in no segment", make_elf(needed=["a"], strtab_addr=1 << 40), "DT_STRTAB address"),
    ("no DT_STRTAB", make_elf(needed=["a"], drop_strtab=True), "no DT_STRTAB"),
    ("DT_NEEDED name outside the file", make_elf(needed_offsets=[1 << 20]), "outside the file"),
    ("2000 DT_NEEDED entries", make_elf(needed_offsets=[0] * 2000), "more than 1024"),
]


@pytest.mark.parametrize(("name", "data", "expected"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_input_is_one_clear_error(name, data, expected):
    with pytest.raises(ElfError) as info:
        parse_elf(data, "/app/x")
    message = str(info.value)
    assert expected in message
    assert message.startswith("/app/x: ") and "\n" not in message


def test_a_name_longer_than_the_string_cap_is_refused():
    with pytest.raises(ElfError, match="not NUL-terminated within 4096 bytes"):
        parse_elf(make_elf(needed=["x" * 5000]), "/app/x")


def test_32_bit_objects_are_read():
    # ELF32: header 52 bytes, one PT_INTERP program header of 32 bytes
    interp = b"/lib/ld-linux.so.2\0"
    phoff, at = 52, 52 + 32
    ident = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
    ehdr = ident + struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, 0, phoff, 0, 0, 52, 32, 1, 40, 0, 0)
    phdr = struct.pack("<IIIIIIII", 3, at, at, at, len(interp), len(interp), 4, 1)
    info = parse_elf(ehdr + phdr + interp)
    assert (info.bits, info.machine, info.interpreter) == (32, "i386", "/lib/ld-linux.so.2")


def test_symbol_versions_give_the_glibc_needed():
    from tests.fit.elfbuild import with_verneed

    data = with_verneed(make_elf(needed=["libc.so.6"]), "libc.so.6",
                        ["GLIBC_2.2.5", "GLIBC_2.38", "GLIBC_2.34"])
    info = parse_elf(data)
    assert info.needed == ["libc.so.6"]
    assert info.versions == {"libc.so.6": ["GLIBC_2.2.5", "GLIBC_2.38", "GLIBC_2.34"]}
    assert info.glibc_needed() == (2, 38)


def test_real_programs_name_their_glibc_versions():
    from pathlib import Path

    info = parse_elf(Path("/bin/sh").resolve().read_bytes())  # dash on Debian
    assert "libc.so.6" in info.versions
    assert info.glibc_needed() is not None and info.glibc_needed() >= (2, 2)


def test_version_definitions_of_a_real_libc():
    from pathlib import Path

    info = parse_elf(Path("/lib/x86_64-linux-gnu/libc.so.6").read_bytes())
    assert info.soname == "libc.so.6"
    assert {"GLIBC_2.2.5", "GLIBC_2.34"} <= set(info.defines)
    assert "libc.so.6" not in info.defines  # the base entry (its own name) is not a version
