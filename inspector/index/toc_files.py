"""A file's bytes from a layer listed by its table of contents (``Layer.toc``), without
the blob: the file's frames fetched by range and checked against their chunk digests (or
the whole file against its digest), as ``from_toc`` fetches what the catalogers read.
The file viewer (``content.read_member``) and ``fit`` (``fit.files.ImageFiles``) read
through it; a layer without a usable TOC is read from its blob, as before.

The TOC's entries are read once per TOC digest (the last ``KEEP`` TOCs are kept;
``from_toc`` lists the layer through ``entries`` too): a viewer opening file after file,
``fit`` after the listing, or ``audit --fit`` over images sharing a base layer, costs one
or two requests for each file's frames only, never the TOC again. A
TOC that fails (Range refused, digest or shape wrong: ``FormatError``) is remembered:
``usable`` is false for it after, so the caller reads the blob and says so once.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from inspector.errors import FormatError
from inspector.index.tarfields import normalize
from inspector.sources.base import Layer

#: TOCs whose entries are kept (a 150k-file layer's are ~100 MB of objects)
KEEP = 4
_lock = threading.Lock()
#: TOC digest → its entries in order, and normalised path → its last entry (as the
#: merge: the last one wins; made on the first read)
_kept: OrderedDict[str, tuple[list, dict[str, Any] | None]] = OrderedDict()
#: TOC reader → why it cannot be used
_failed: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def usable(layer: Layer) -> bool:
    """Whether ``layer``'s files are read through its TOC (it has one, not failed yet)."""
    toc = layer.toc
    return toc is not None and toc not in _failed


def failure(layer: Layer) -> str | None:
    """Why ``layer``'s TOC could not be used (None: it was not tried, or it worked)."""
    return _failed.get(layer.toc) if layer.toc is not None else None


def read(layer: Layer, wanted: Mapping[str, int]) -> dict[str, tuple[bytes, int] | None]:
    """For each normalised path (``/usr/bin/x``) → ``cap``: the file's first ``cap``
    bytes and its size, or None when the TOC lists it as other than a regular file;
    a path the TOC does not list is left out. Whole frames are fetched (so each is
    checked against its digest) and cut to ``cap``. Raises ``FormatError`` (the TOC's
    ``TocError``) when the TOC cannot be used; ``usable`` is false after."""
    toc = layer.toc
    try:
        names = _entries(toc)
        out: dict[str, tuple[bytes, int] | None] = {}
        asks: list[tuple[str, Any, int]] = []
        for path, cap in wanted.items():
            entry = names.get(path)
            if entry is None:
                continue
            if entry.type != "reg":
                out[path] = None
            elif not entry.size or cap <= 0:
                out[path] = (b"", entry.size)
            elif not entry.chunks:  # listed without frames (eStargz's own TOC member)
                raise FormatError(f"{path} has no frames in the layer's table of contents")
            else:
                asks.append((path, entry, _aligned(entry, cap)))
        if asks:
            got = toc.read_files([(entry, upto) for _, entry, upto in asks])
            for (path, entry, _), data in zip(asks, got, strict=True):
                cap = wanted[path]
                if len(data) < min(cap, entry.size):
                    raise FormatError(f"{path} is shorter than the layer's table of "
                                      "contents says")
                out[path] = (data[:cap], entry.size)
        return out
    except FormatError as exc:
        with _lock:
            _failed[toc] = str(exc)
        raise


def _aligned(entry: Any, cap: int) -> int:
    """The bytes of ``entry``'s first frames that hold its first ``cap``: whole frames,
    so each is checked against its chunk digest (the whole file against the file's)."""
    done = 0
    for chunk in entry.chunks:
        if done >= cap:
            break
        done += chunk.size
    return min(done, entry.size)


def forget() -> None:
    """Drop every kept TOC (tests: each starts as a new process would)."""
    with _lock:
        _kept.clear()


def kept(digest: str) -> bool:
    """Whether the entries of the TOC of this digest are kept (``entries`` reads none)."""
    with _lock:
        return digest in _kept


def entries(toc: Any) -> list:
    """``toc.entries()``, read once per TOC digest (kept for the last ``KEEP``)."""
    key = toc.digest
    with _lock:
        kept = _kept.get(key) if key else None
        if kept is not None:
            _kept.move_to_end(key)
            return kept[0]
    listed = toc.entries()
    if key:
        with _lock:
            _kept[key] = (listed, None)
            while len(_kept) > KEEP:
                _kept.popitem(last=False)
    return listed


def _entries(toc: Any) -> dict[str, Any]:
    listed = entries(toc)
    with _lock:
        kept = _kept.get(toc.digest)
        if kept is not None and kept[1] is not None:
            return kept[1]
    names = {}
    for entry in listed:
        path, _ = normalize(entry.name)
        if path is not None:
            names[path] = entry
    with _lock:
        if toc.digest in _kept:
            _kept[toc.digest] = (listed, names)
    return names
