"""Change marks of a tree's paths: what one layer did, looked up on demand.

A ``DirTree``'s ``marks`` map a path to ADDED/MODIFIED/REMOVED (or any label a caller
chooses, e.g. compare's "only here"/"changed"): a plain dict, or ``LayerMarks`` for the
inspect screen's layer view (the marks of one layer are read from ``fs.changes`` when
asked, never materialised for the whole filesystem). ``mark_labels`` gives the marks of
many paths at once, decoded by ``map`` in C (the filter's ``:added``/``:modified`` terms).

Headless: no textual here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from itertools import repeat
from operator import add, and_, mul, or_

from inspector.index.merge import IMPLIED_ROW, MergedFS

#: change marks (a superset of merge's ADDED/MODIFIED codes, plus REMOVED for ghosts)
ADDED, MODIFIED, REMOVED = "added", "modified", "removed"
#: ``fs.changes`` code + 1 → mark (0: a path another layer wrote); codes 0 and 1 are
#: merge's ADDED and MODIFIED, 2 (unchanged) and anything else no mark
_LABELS: tuple[str | None, ...] = (None, ADDED, MODIFIED) + (None,) * 255
#: 0 ↔ 1 (``bytes.translate``)
_FLIP = bytes([1, 0]) + bytes(254)


def layer_marks(fs: MergedFS, layer: int) -> tuple[dict[str, str] | LayerMarks,
                                                  dict[str, bool]]:
    """Marks for what ``layer`` did (ADDED/MODIFIED per surviving path) and its removed
    paths as ghosts, in ``fs`` — the filesystem as of that layer (``fs_at(layer)``)."""
    if layer >= len(fs.layers):
        return {}, {}
    ghosts = {path: was_dir for path, (_, was_dir) in fs.removed[layer].items()}
    return LayerMarks(fs, layer), ghosts


class LayerMarks:
    """The marks of one layer, looked up on demand from ``fs.changes`` (a one-layer
    150k-entry image would otherwise build a 150k-entry dict before the first paint).
    Explicit marks (the tree's ghosts) are kept alongside."""

    def __init__(self, fs: MergedFS, layer: int) -> None:
        self.fs, self.layer = fs, layer
        self.changes = fs.changes[layer]
        self.extra: dict[str, str] = {}

    def get(self, path: str, default: str | None = None) -> str | None:
        mark = self.extra.get(path)
        if mark is not None:
            return mark
        at = self.fs.find(path)
        if at is None or at[0] != self.layer:
            return default
        row = at[1]
        if row == IMPLIED_ROW:
            return default  # an implied directory: not written by the layer itself
        code = self.changes[row]
        return ADDED if code == 0 else MODIFIED if code == 1 else default

    def labels(self, paths: list[str]) -> Iterable[str | None]:
        """``get(path)`` of every one of ``paths`` (entries of ``fs``), in order, decoded in
        C: one pass of ``map`` over their layers and rows."""
        fs = self.fs
        lis, rows = (fs.sorted_columns() if paths is fs.sorted_paths()
                     else fs.columns_of(paths))
        n = len(self.changes)
        codes = bytes(self.changes) + bytes([2])  # row n: an implied directory's (no mark)
        # row → its code + 1 (IMPLIED_ROW is past every row: clipped to n)
        keys: Iterable[int] = map(add, map(codes.__getitem__, map(min, rows, repeat(n))),
                                  repeat(1))
        if len(fs.layers) > 1:  # a row of another layer has no mark here: key 0
            keys = map(mul, keys, map(self.layer.__eq__, lis))
        labels = map(_LABELS.__getitem__, keys)
        return map(self.extra.get, paths, labels) if self.extra else labels

    def mask(self, paths: list[str], want: Collection[str | None]) -> bytes | None:
        """1 for each of ``paths`` (entries of ``fs``) whose mark is in ``want``, else 0:
        ``labels`` as a mask, made by ``bytes.translate`` over the change codes. ``None``
        when an explicit mark is on an entry (a path removed and written again): then
        ``labels`` says."""
        fs = self.fs
        if self.extra and any(map(fs.entries.__contains__, self.extra)):
            return None
        lis, rows = (fs.sorted_columns() if paths is fs.sorted_paths()
                     else fs.columns_of(paths))
        n = len(self.changes)
        codes = bytes(self.changes) + bytes([2])  # row n: an implied directory's (no mark)
        table = bytes(_LABELS[code + 1] in want for code in range(256))
        mask = bytes(map(codes.__getitem__, map(min, rows, repeat(n)))).translate(table)
        if len(fs.layers) > 1:  # a row of another layer has no mark here
            here = bytes(map(self.layer.__eq__, lis))
            if None in want:
                return bytes(map(or_, mask, here.translate(_FLIP)))
            return bytes(map(and_, mask, here))
        return mask

    def setdefault(self, path: str, mark: str) -> str:
        current = self.get(path)
        return current if current is not None else self.extra.setdefault(path, mark)

    def __contains__(self, path: str) -> bool:
        return self.get(path) is not None

    def to_dict(self) -> dict[str, str]:
        """Every mark, materialised (tests; small layers)."""
        index, is_at, layer = self.fs.layers[self.layer], self.fs.is_at, self.layer
        out = {path: mark for path, mark in self.extra.items()}
        for row, code in enumerate(self.changes):
            path = index.paths[row]
            if code != 2 and is_at(path, layer, row):
                out.setdefault(path, ADDED if code == 0 else MODIFIED)
        return out

    def __getitem__(self, path: str) -> str:
        mark = self.get(path)
        if mark is None:
            raise KeyError(path)
        return mark


def mark_mask(marks: Mapping[str, str] | LayerMarks, paths: list[str],
              want: Collection[str | None]) -> Iterable[object]:
    """A truth value per one of ``paths``: its mark (or ``None``) is in ``want``."""
    mask = marks.mask(paths, want) if isinstance(marks, LayerMarks) else None
    return mask if mask is not None else map(want.__contains__, mark_labels(marks, paths))


def mark_labels(marks: Mapping[str, str] | LayerMarks, paths: list[str]) -> Iterable[str | None]:
    """The mark (or ``None``) of each of ``paths``, in order: ``marks.get`` in bulk."""
    if isinstance(marks, LayerMarks):
        return marks.labels(paths)
    return map(marks.get, paths)
