"""A layer's index from its table of contents (zstd:chunked), without its blob.

The TOC mirrors the layer tar's members in order, so each entry becomes the row the tar
walker (``tarwalk``) would have written: the same path normalisation, whiteouts and opaque
markers (never rows), hardlink targets, modes, owners and sizes. The content the walker
captures while streaming is fetched instead, as few files' byte ranges (``TocReader``):

- files a cataloger or another step reads (``capture.capture_limit``): the whole file;
- executables: the first chunk (its first ``HEAD_BYTES`` are the head); for one of at
  least ``capture.GO_FLOOR`` bytes (the walker's Go check) the frames of its first
  ``GO_WINDOW`` bytes in the same batch where they are cheap (``first_ask``); an ELF whose
  first bytes hold a Go build-ID note (``GO_NOTES``, which the Go linker writes near the
  start) is fetched whole and scanned for the build info, as the walker does; one without
  a note but laid out by the Go linker (``go_data_start``: a ``-buildid=`` build) has the
  frames of its data segment's first 64 KiB fetched, where ``.go.buildinfo`` lies.

Limits of what a TOC can tell: the tar's size is computed from the entries (ustar headers
and padding; extended headers the writer added are not counted), and the diff_id is not
verified (``LayerIndex.toc_digest`` says so; ``"verified": "toc"`` in the export).
"""

from __future__ import annotations

import copy
import struct
from collections.abc import Collection
from typing import Any, Protocol

from inspector.index import capture, toc_files
from inspector.index.entries import BLOCK, CHAR, DIR, FIFO, FILE, HARDLINK, SYMLINK, LayerIndex
from inspector.index.tarfields import normalize
from inspector.sources.base import Layer

_KINDS = {"reg": FILE, "hardlink": HARDLINK, "symlink": SYMLINK, "char": CHAR, "block": BLOCK,
          "dir": DIR, "fifo": FIFO}
_WH, _OPAQUE = ".wh.", ".wh..wh..opq"
#: the ELF note the Go linker writes first (namesz 4, descsz, type 4, name "Go\0\0"): its
#: type and name, little-endian and big-endian (s390x, mips, mips64: before, such a Go
#: binary listed from its TOC lost the build info the full pull read)
GO_NOTES = (b"\x04\x00\x00\x00Go\x00\x00", b"\x00\x00\x00\x04Go\x00\x00")
#: the first bytes of an ELF searched for that note (go1.19 writes it at byte 4004 when its
#: linker links, 3976 with -buildmode=pie, 988 when the system linker does)
GO_WINDOW = 8192
#: compressed bytes the frames of an executable's Go window may cost to be asked with the
#: heads (else its first frame is, and the rest of the window only if a PT_NOTE lies past
#: it: a second request). A Go binary's start is headers and zero padding in small frames,
#: its note at the start of the next: 8.1 kB (go1.19 amd64 through skopeo 1.9.3's chunker),
#: 8.7 kB (s390x), 16.7 kB (-buildmode=pie); a C program's note lies in its first frame,
#: and on debian-12-slim the one ELF over the floor whose first frame is short of the window
#: (ldconfig) would cost 111 kB
GO_BUDGET = 32 << 10
PT_NOTE = 4
PT_LOAD, PF_X, PF_W = 1, 1, 2


class ChunkLike(Protocol):
    start: int  # compressed bytes start..end
    end: int
    size: int  # inflated


class TocEntryLike(Protocol):
    type: str
    name: str
    link: str
    mode: int
    uid: int
    gid: int
    size: int
    digest: str
    chunks: list | None  # ChunkLike, in order


class TocReader(Protocol):
    digest: str
    fetched: int
    requests: int

    def entries(self) -> list: ...

    def read_files(self, wanted: list[tuple]) -> list[bytes]: ...


def index_from_toc(layer: Layer, toc: TocReader, *, what: str,
                   bin_dirs: Collection[str] = ()) -> LayerIndex:
    """The ``LayerIndex`` of ``layer`` built from ``toc`` (raises the reader's errors).
    ``bin_dirs``: directories whose executables are programs by their place (the
    classification rules'): their first bytes are fetched only for the Go check."""
    index = LayerIndex(diff_id=layer.diff_id, digest=layer.digest,
                       compressed_size=layer.compressed_size, toc_digest=toc.digest)
    whole: list[tuple[int, str, TocEntryLike]] = []  # (row, path, entry)
    execs: list[tuple[int, str, TocEntryLike]] = []
    linked: set[str] = set()  # hardlink targets: a link's head is its file's
    tar_size = 1024  # the end-of-archive marker
    for entry in toc_files.entries(toc):  # kept: the viewer and fit read files by it
        kind = _KINDS[entry.type]
        size = entry.size if kind == FILE else 0
        tar_size += 512 + ((size + 511) & ~511)
        name = entry.name[2:] if entry.name.startswith("./") else entry.name
        if not name or "//" in name or "/." in name or name.startswith((".", "/")) \
                or name.endswith("/"):
            path, reason = normalize(name)
            if path is None:
                if reason:
                    index.flagged.append((name, reason))
                continue
        else:
            path = "/" + name
        slash = path.rfind("/")
        base = path[slash + 1:]
        if base.startswith(_WH):
            _whiteout(index, path, slash, base)
            continue
        row = index.add(path, kind, size, entry.mode, entry.uid, entry.gid)
        if kind == SYMLINK:
            index.targets[row] = entry.link
        elif kind == HARDLINK:
            target, reason = normalize(entry.link)
            if target is None:
                index.flagged.append((path, f"hardlink target: {reason or 'root'}"))
                target = ""
            index.targets[row] = target
            linked.add(target)
        elif kind == FILE and size:
            cap = capture.capture_limit(path) if capture.candidate(path, base) else 0
            if cap and size <= cap:
                whole.append((row, path, entry))
            elif entry.mode & 0o111:
                execs.append((row, path, entry))
    index.uncompressed_size = tar_size
    heads = [(row, path, entry) for row, path, entry in execs
             if entry.size >= capture.GO_FLOOR or path in linked or (path[:path.rfind("/")] or "/")
             not in bin_dirs]
    _contents(index, toc, whole, heads)
    return index


def _whiteout(index: LayerIndex, path: str, slash: int, base: str) -> None:
    """As ``tarwalk.TarWalker._whiteout``."""
    if base == _OPAQUE:
        index.opaque.append(path[:slash] or "/")
    elif not base.startswith(".wh..wh."):
        victim = base[4:]
        if not victim:
            index.flagged.append((path, "empty whiteout name"))
        elif victim in (".", ".."):
            index.flagged.append((path, f"whiteout of {victim!r}"))
        else:
            index.whiteouts.append(path[:slash] + "/" + victim)


def _contents(index: LayerIndex, toc: TocReader, whole: list, heads: list) -> None:
    """Fetch what the walker would have captured: whole files and executables' first
    frames, the Go window among them where it is cheap (``first_ask``), in one batch of
    ranged requests; the rest of a Go window whose PT_NOTE lies past what came; then the
    Go executables found, whole."""
    head_bytes = capture.HEAD_BYTES
    wanted = [(e, e.size) for _, _, e in whole] + [(e, first_ask(e)) for _, _, e in heads]
    got = toc.read_files(wanted)
    for (row, path, entry), data in zip(whole, got, strict=False):
        index.captured[path] = data
        if entry.mode & 0o111:
            index.heads[row] = data[:head_bytes]
    firsts = got[len(whole):]
    check: list[tuple[str, TocEntryLike, bytes]] = []  # (path, entry, start) of ELFs
    more: list[tuple[str, TocEntryLike, int]] = []
    for (row, path, entry), data in zip(heads, firsts, strict=True):
        index.heads[row] = data[:head_bytes]
        if entry.size >= capture.GO_FLOOR and data.startswith(b"\x7fELF"):
            need = go_window(data, entry.size)
            if need > len(data):
                more.append((path, entry, need))
            else:
                check.append((path, entry, data))
    if more:
        got = toc.read_files([(e, need) for _, e, need in more])
        check += [(path, e, data) for (path, e, _), data in zip(more, got, strict=True)]
    go: list[tuple[str, TocEntryLike]] = []
    spans: list[tuple[str, TocEntryLike, int, TocEntryLike]] = []  # (path, entry, skip, part)
    for path, e, data in check:
        if any(note in data[:GO_WINDOW] for note in GO_NOTES):
            go.append((path, e))
        elif (start := go_data_start(data, e.size)) is not None:
            part, skip = _span(e, start, start + capture.GO_BUILDINFO_BYTES)
            spans.append((path, e, skip, part))
    got = toc.read_files([(e, e.size) for _, e in go] + [(p, p.size) for *_, p in spans])
    for (path, _), data in zip(go, got, strict=False):
        _search_buildinfo(index, path, data)
    rest = []
    for (path, e, skip, _), data in zip(spans, got[len(go):], strict=True):
        if data.startswith(capture.GO_BUILDINFO_MAGIC, skip):
            index.go_buildinfo[path] = data[skip:skip + capture.GO_BUILDINFO_BYTES]
        else:  # not where Go puts it: the walker's search, over the whole file
            rest.append((path, e))
    for (path, _), data in zip(rest, toc.read_files([(e, e.size) for _, e in rest]), strict=True):
        _search_buildinfo(index, path, data)


def _search_buildinfo(index: LayerIndex, path: str, data: bytes) -> None:
    """The walker's Go check (``tarwalk._scan_go``) over a whole file's bytes: the build
    info from the first magic on, if any."""
    at = data.find(capture.GO_BUILDINFO_MAGIC)
    if at >= 0:
        index.go_buildinfo[path] = data[at:at + capture.GO_BUILDINFO_BYTES]


def go_data_start(start: bytes, size: int) -> int | None:
    """Where a Go build-info blob begins in an ELF that carries no Go build-ID note (a
    ``-buildid=`` build: hello-debian's ``/app/hello``), from its first bytes (the program
    headers must be in ``start``): when the section header table follows the program
    headers, as the Go linker lays a file out (other linkers put it at the end: None,
    nothing more is read), the offset of the first writable, non-executable PT_LOAD
    segment, which ``.go.buildinfo`` opens (Go's ``debug/buildinfo`` reads it there)."""
    header = _elf_header(start)
    if header is None:
        return None
    order, wide, phoff, phsize, phnum, shoff, shnum = header
    fields = order + ("II Q" if wide else "I I 16xI")  # 64: type, flags, offset; 32: type, offset, flags
    if not shnum or shoff != phoff + phsize * phnum or shoff > len(start) \
            or phsize < struct.calcsize(fields):
        return None
    for n in range(phnum):
        a, b, c = struct.unpack_from(fields, start, phoff + n * phsize)
        kind, flags, offset = (a, b, c) if wide else (a, c, b)
        if kind == PT_LOAD and flags & (PF_W | PF_X) == PF_W:
            return offset if offset < size else None
    return None


def _span(entry: TocEntryLike, start: int, end: int) -> tuple[TocEntryLike, int]:
    """``entry`` cut to the frames holding its bytes ``start..end`` (a copy: its chunks
    those frames, each still checked against its digest; no whole-file digest), and where
    ``start`` lies in them."""
    at, first = 0, 0
    chunks: list[Any] = []
    for chunk in entry.chunks or ():
        if at + chunk.size > start and at < end:
            if not chunks:
                first = at
            chunks.append(chunk)
        at += chunk.size
    part = copy.copy(entry)
    part.chunks, part.digest = chunks, ""
    part.size = sum(c.size for c in chunks)
    return part, start - first


def first_ask(entry: TocEntryLike) -> int:
    """Bytes of an executable's start asked with the first batch: its head; for one of at
    least ``capture.GO_FLOOR`` bytes its Go window when the frames holding it cost at most
    ``GO_BUDGET`` compressed bytes (an eStargz chunk is a whole gzip member, above it: there
    the head is a prefix of the member, which the reader inflates as far as it goes)."""
    head = min(entry.size, capture.HEAD_BYTES)
    if entry.size < capture.GO_FLOOR:
        return head
    window = min(entry.size, GO_WINDOW)
    cost = done = 0
    for chunk in entry.chunks or ():
        if done >= window:
            break
        cost += chunk.end - chunk.start
        done += chunk.size
    return window if cost <= GO_BUDGET else head


def go_window(start: bytes, size: int) -> int:
    """How many of an ELF file's first bytes the Go check must see, from its ``start``:
    the end of its last PT_NOTE segment within ``GO_WINDOW`` (the Go linker's build-ID
    note is in one, within the first page); ``GO_WINDOW`` when the program headers are
    not all in ``start``; 0 when no note lies in the window."""
    header = _elf_header(start)
    if header is None:
        return min(size, GO_WINDOW)
    order, wide, phoff, entsize, count, _, _ = header
    fields = order + ("I4xQ16xQ" if wide else "II8xI")  # p_type, p_offset, p_filesz
    end = phoff + entsize * count
    if entsize < struct.calcsize(fields) or end > len(start):
        return min(size, GO_WINDOW)
    need = 0
    for n in range(count):
        kind, offset, length = struct.unpack_from(fields, start, phoff + n * entsize)
        if kind == PT_NOTE and offset < GO_WINDOW:
            need = max(need, min(offset + length, GO_WINDOW, size))
    return need


def _elf_header(start: bytes) -> tuple[str, bool, int, int, int, int, int] | None:
    """``(struct byte order, 64-bit, e_phoff, e_phentsize, e_phnum, e_shoff, e_shnum)`` from
    an ELF's first bytes; None when they are too short or name no known class or byte order."""
    if len(start) < 64 or start[4] not in (1, 2) or start[5] not in (1, 2):
        return None
    order = "<" if start[5] == 1 else ">"
    if start[4] == 2:  # ELFCLASS64: e_phoff, e_shoff at 32; e_phentsize… at 54
        phoff, shoff = struct.unpack_from(order + "QQ", start, 32)
        phsize, phnum, _, shnum = struct.unpack_from(order + "HHHH", start, 54)
        return order, True, phoff, phsize, phnum, shoff, shnum
    phoff, shoff = struct.unpack_from(order + "II", start, 28)  # ELFCLASS32
    phsize, phnum, _, shnum = struct.unpack_from(order + "HHHH", start, 42)
    return order, False, phoff, phsize, phnum, shoff, shnum
