"""Helpers for the index tests: walking tar bytes, a ``tarfile`` reference reader."""

from __future__ import annotations

import io
import random
import tarfile

from inspector.index.entries import KIND_NAMES, LayerIndex
from inspector.index.tarwalk import walk_tar


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
