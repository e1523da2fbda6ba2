"""A layer's index from its table of contents (zstd:chunked), without its blob.

The TOC mirrors the layer tar's members in order, so each entry becomes the row the tar
walker (``tarwalk``) would have written: the same path normalisation, whiteouts and opaque
markers (never rows), hardlink targets, modes, owners and sizes. The content the walker
captures while streaming is fetched instead, as few files' byte ranges (``TocReader``):

- files a cataloger or another step reads (``capture.capture_limit``): the whole file;
- executables: the first chunk (its first ``HEAD_BYTES`` are the head); an ELF whose first
  chunk holds a Go build-ID note (``\\x04\\0\\0\\0Go\\0\\0``, which the Go linker writes
  near the start) is fetched whole and scanned for the build info, as the walker does.

Limits of what a TOC can tell: the tar's size is computed from the entries (ustar headers
and padding; extended headers the writer added are not counted), and the diff_id is not
verified (``LayerIndex.toc_digest`` says so; ``"verified": "toc"`` in the export).
"""

from __future__ import annotations

from typing import Protocol

from inspector.index import capture
from inspector.index.entries import BLOCK, CHAR, DIR, FIFO, FILE, HARDLINK, SYMLINK, LayerIndex
from inspector.index.tarfields import normalize
from inspector.sources.base import Layer

_KINDS = {"reg": FILE, "hardlink": HARDLINK, "symlink": SYMLINK, "char": CHAR, "block": BLOCK,
          "dir": DIR, "fifo": FIFO}
_WH, _OPAQUE = ".wh.", ".wh..wh..opq"
#: the ELF note the Go linker writes first (namesz 4, descsz, type 4 "Go\0\0")
GO_NOTE = b"Go\x00\x00\x04\x00\x00\x00"
GO_NOTE_ALT = b"\x04\x00\x00\x00Go\x00\x00"


class TocEntryLike(Protocol):
    type: str
    name: str
    link: str
    mode: int
    uid: int
    gid: int
    size: int


class TocReader(Protocol):
    digest: str
    fetched: int
    requests: int

    def entries(self) -> list: ...

    def read_files(self, wanted: list[tuple]) -> list[bytes]: ...


def index_from_toc(layer: Layer, toc: TocReader, *, what: str) -> LayerIndex:
    """The ``LayerIndex`` of ``layer`` built from ``toc`` (raises the reader's errors)."""
    index = LayerIndex(diff_id=layer.diff_id, digest=layer.digest,
                       compressed_size=layer.compressed_size, toc_digest=toc.digest)
    whole: list[tuple[int, str, TocEntryLike]] = []  # (row, path, entry)
    heads: list[tuple[int, str, TocEntryLike]] = []
    tar_size = 1024  # the end-of-archive marker
    for entry in toc.entries():
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
        elif kind == FILE and size:
            cap = capture.capture_limit(path)
            if cap and size <= cap:
                whole.append((row, path, entry))
            elif entry.mode & 0o111:
                heads.append((row, path, entry))
    index.uncompressed_size = tar_size
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
    """Fetch what the walker would have captured: whole files, then executables' first
    chunks, then the Go executables found among them, whole."""
    head_bytes = capture.HEAD_BYTES
    if whole:
        for (row, path, entry), data in zip(whole, toc.read_files([(e, True) for _, _, e in whole]),
                                            strict=True):
            index.captured[path] = data
            if entry.mode & 0o111:
                index.heads[row] = data[:head_bytes]
    if not heads:
        return
    go = []
    for (row, path, entry), data in zip(heads, toc.read_files([(e, False) for _, _, e in heads]),
                                        strict=True):
        index.heads[row] = data[:head_bytes]
        if data.startswith(b"\x7fELF") and entry.size > 4096 and (
                GO_NOTE in data[:8192] or GO_NOTE_ALT in data[:8192]):
            go.append((path, entry))
    if go:
        for (path, _), data in zip(go, toc.read_files([(e, True) for _, e in go]), strict=True):
            at = data.find(capture.GO_BUILDINFO_MAGIC)
            if at >= 0:
                index.go_buildinfo[path] = data[at:at + capture.GO_BUILDINFO_BYTES]
