"""What the file viewer shows for a file's bytes (pure functions, no textual): text through
the escaping rule, a binary as a hex dump as wide as the pane, and for an ELF file one
line above it: type, static or dynamic, the loader, the libraries it needs (parsed by
``inspector.fit.elf``, read-only)."""

from __future__ import annotations

from dataclasses import dataclass

from inspector.content import HEX_CAP, is_binary, read_member, view_text
from inspector.errors import InspectorError
from inspector.fit.elf import ET_DYN, ET_EXEC, ElfError, is_elf, parse_elf
from inspector.index.entries import FILE, HARDLINK
from inspector.index.merge import MergedFS
from inspector.sources.base import Image
from inspector.visible import visible, visible_lines

#: bytes per hex line: at least, at most, and the step (whole groups of 4 read best)
HEX_MIN, HEX_MAX, HEX_STEP = 4, 32, 4
#: cells of a hex line besides 4 per byte: the offset, two gaps, the last byte's space
HEX_FIXED = 11
#: ELF types other than executables and shared objects
ELF_TYPES = {1: "relocatable object", 4: "core dump"}
#: libraries named in the summary before "and N more"
NEEDED_SHOWN = 6


@dataclass
class Blob:
    """A file's first bytes as read from its layer, and whether it is longer."""

    data: bytes
    truncated: bool = False
    #: the whole file when it is an ELF larger than ``data`` (its dynamic section may lie
    #: past the first megabyte); None otherwise
    whole: bytes | None = None
    #: what the read had to say (a table of contents that failed: the layer read whole)
    notices: tuple[str, ...] = ()


def hex_per_line(cells: int) -> int:
    """Bytes per hex line that fit ``cells`` (offset, hex and the ASCII column)."""
    n = (cells - HEX_FIXED) // 4
    return max(HEX_MIN, min(HEX_MAX, n - n % HEX_STEP))


def hex_lines(data: bytes, per_line: int = 16) -> str:
    """``offset  hex bytes  ascii`` lines for the first ``HEX_CAP`` bytes."""
    lines = []
    width = per_line * 3 - 1
    for off in range(0, min(len(data), HEX_CAP), per_line):
        chunk = data[off:off + per_line]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{off:08x}  {hexes:<{width}}  {text}")
    return "\n".join(lines)


def elf_summary(data: bytes) -> str | None:
    """``ELF 64-bit x86_64 executable (PIE), dynamic, loader /lib64/ld-linux-x86-64.so.2,
    needs libc.so.6`` — None when ``data`` is not ELF; what is readable when it is damaged."""
    if not is_elf(data[:4]):
        return None
    try:
        info = parse_elf(data, "file")
    except ElfError as exc:
        return f"ELF, unreadable: {visible(exc)}"
    if info.type == ET_EXEC:
        kind = "executable"
    elif info.type == ET_DYN:
        kind = "executable (PIE)" if info.interpreter else "shared library"
    else:
        kind = ELF_TYPES.get(info.type, f"type {info.type}")
    parts = [f"ELF {info.bits}-bit {visible(info.machine)} {kind}",
             "dynamic" if info.dynamic or info.interpreter else "static"]
    if info.interpreter:
        parts.append(f"loader {visible(info.interpreter)}")
    if info.needed:
        shown = ", ".join(visible(n) for n in info.needed[:NEEDED_SHOWN])
        more = len(info.needed) - NEEDED_SHOWN
        parts.append(f"needs {shown}" + (f" and {more} more" if more > 0 else ""))
    elif info.dynamic or info.interpreter:
        parts.append("needs no library")
    return ", ".join(parts)


@dataclass
class Shown:
    """What the viewer shows for a blob: the ELF summary (or None), the body, and whether
    the body is a hex dump (it is re-laid when the pane's width changes)."""

    summary: str | None
    body: str
    hex: bool


def render_blob(blob: Blob, cells: int) -> Shown:
    """``blob`` for a pane ``cells`` wide: text through the escaping rule, a binary as hex
    (with the ELF summary); a last line says when it was cut."""
    data = blob.data
    if not is_binary(data):
        body = visible_lines(data.decode("utf-8", "surrogateescape"))
        if blob.truncated:
            body += f"\n… (cut at {len(data):,} bytes)"
        return Shown(None, body, False)
    body = hex_lines(data, hex_per_line(cells))
    if len(data) > HEX_CAP or blob.truncated:
        body += f"\n… (binary: first {min(len(data), HEX_CAP):,} bytes shown)"
    return Shown(elf_summary(blob.whole if blob.whole is not None else data), body, True)


#: bytes read at most to summarise an ELF file longer than the viewer's first megabyte
ELF_CAP = 64 << 20


def read_blob(image: Image, layer: int, path: str) -> Blob:
    """``path``'s first bytes as layer ``layer`` wrote them (an ELF file is read whole, up
    to ``ELF_CAP``, for its summary). Blocking: call it from a worker."""
    notices: list[str] = []
    data, truncated = read_member(image, layer, path, notices=notices)
    whole = None
    if truncated and is_elf(data[:4]):
        whole, _ = read_member(image, layer, path, cap=ELF_CAP, notices=notices)
    return Blob(data, truncated, whole, tuple(notices))


def file_content(image: Image, fs: MergedFS, path: str) -> str | Blob:
    """What the side-by-side viewer shows for ``path`` in one image: a regular file's
    bytes (a hardlink's where its inode was written: ``MergedFS.source``), else
    ``view_text``'s line (absent, a directory, a link); a read error as its one line."""
    if path in fs.entries:
        kind = fs.kind(path)
        if kind == HARDLINK or (kind == FILE and fs.size(path) > 0):
            try:
                return read_blob(image, *fs.source(path))
            except InspectorError as exc:
                return f"cannot read: {exc}"
    return view_text(image, fs, path)


#: what a column holds: a line of text (absent, a directory, an error) or a file's bytes
Content = str | Blob
