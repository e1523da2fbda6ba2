"""Helpers for the index tests: walking tar bytes, a ``tarfile`` reference reader."""

from __future__ import annotations

import io
import random
import struct
import tarfile

from inspector.index import capture
from inspector.index.entries import KIND_NAMES, LayerIndex
from inspector.index.tarwalk import walk_tar
from tests.catalog.fsbuild import buildinfo_blob


def chunked(data: bytes, sizes=None):
    """A ``read()`` over ``data``: fixed 1 MiB chunks, or sizes from the iterable ``sizes``."""
    pos = 0

    def read() -> bytes:
        nonlocal pos
        n = next(sizes) if sizes is not None else 1 << 20
        piece = data[pos:pos + n]
        pos += len(piece)
        return piece

    return read


def random_sizes(seed: int, low: int = 1, high: int = 4096):
    rng = random.Random(seed)
    while True:
        yield rng.randint(low, high)


def walk_bytes(data: bytes, sizes=None, what: str = "test layer") -> LayerIndex:
    return walk_tar(chunked(data, sizes), LayerIndex(), what=what)


def rows(index: LayerIndex) -> list[tuple]:
    """The walker's entries as comparable tuples:
    (path, type, size, mode & 0o7777, uid, gid, target)."""
    return [(p, KIND_NAMES[index.kinds[i]], index.sizes[i], index.modes[i] & 0o7777,
             index.uids[i], index.gids[i], index.targets.get(i))
            for i, p in enumerate(index.paths)]


def clean(name: str) -> str | None:
    """Reference normalisation: absolute, no ``./``, no empty parts; ``None`` for the root
    and for names with ``..`` parts (flagged by the walker)."""
    parts = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            return None
        parts.append(part)
    return "/" + "/".join(parts) if parts else None


_KIND = {tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.CONTTYPE: "file",
         tarfile.GNUTYPE_SPARSE: "file", tarfile.LNKTYPE: "hardlink", tarfile.SYMTYPE: "symlink",
         tarfile.CHRTYPE: "char", tarfile.BLKTYPE: "block", tarfile.DIRTYPE: "dir",
         tarfile.FIFOTYPE: "fifo"}


def reference_rows(data: bytes) -> list[tuple]:
    """What ``tarfile`` in stream mode reads, in the walker's terms (whiteouts, the root and
    unsafe names dropped)."""
    out = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r|", encoding="utf-8",
                      errors="surrogateescape") as tar:
        for info in tar:
            path = clean(info.name)
            if path is None or path.rsplit("/", 1)[1].startswith(".wh."):
                continue
            kind = _KIND[info.type]
            target = None
            if kind == "symlink":
                target = info.linkname
            elif kind == "hardlink":
                target = clean(info.linkname) or ""
            out.append((path, kind, info.size if kind == "file" else 0, info.mode & 0o7777,
                        info.uid, info.gid, target))
    return out


#: where go1.19's linker writes its build-ID note in every Linux executable it links itself
#: (``tests/registry/test_toc_contents.py`` checks a real one)
GO_NOTE_AT = 4004


def go_elf(size: int, module: str = "example.org/app", *, big_endian: bool = False) -> bytes:
    """``size`` bytes of an ELF executable as the Go checks see a Go-built one: the ELF
    magic, the Go linker's build-ID note at ``GO_NOTE_AT`` (``big_endian``: as s390x and
    mips write it), parseable build info (``module``, go1.21.5) at 16 KiB, filler between
    (never zeros: a zstd:chunked writer may store runs of zeros as holes)."""
    order = ">" if big_endian else "<"
    header = b"\x7fELF\x02" + (b"\x02" if big_endian else b"\x01") + b"\x01"
    build_id = b"hXEVJKWxQ4NkU0qRRcm6/" + b"x" * 62
    note = struct.pack(order + "III", 4, len(build_id), 4) + b"Go\x00\x00" + build_id
    info = buildinfo_blob("go1.21.5", f"path\t{module}\nmod\t{module}\t(devel)\t\n")
    filler = bytes(range(1, 256)) * (size // 255 + 1)
    data = (header + filler[:GO_NOTE_AT - len(header)] + note
            + filler[:16384 - GO_NOTE_AT - len(note)] + info + filler)[:size]
    assert len(data) == size and data.find(info) == 16384, "too small for its parts"
    return data


#: (name, the member: bytes and mode, whether the walker keeps its Go build info): below
#: ``capture.GO_FLOOR`` no Go toolchain binary exists, so the check is not made
GO_FLOOR_EDGES = [
    ("ELF one byte under the floor", (go_elf(capture.GO_FLOOR - 1), 0o755), False),
    ("ELF at the floor", (go_elf(capture.GO_FLOOR), 0o755), True),
    ("ELF one byte over the floor", (go_elf(capture.GO_FLOOR + 1), 0o755), True),
    ("big-endian ELF at the floor", (go_elf(capture.GO_FLOOR, big_endian=True), 0o755), True),
    ("not executable", (go_elf(capture.GO_FLOOR + 1), 0o644), False),
    ("not an ELF", (b"#!" + go_elf(capture.GO_FLOOR + 1)[2:], 0o755), False),
]
