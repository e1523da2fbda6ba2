"""Directory children and cumulative sizes from the sorted path list, on demand (issue 16).

In the sorted paths of a merged filesystem, the descendants of a directory ``D`` are one
contiguous range: the paths from ``D + "/"`` up to ``D + "0"`` (``"0"`` is the character
after ``"/"``). So ``DirTree`` needs no per-entry pass before the first paint:

- ``Children``: a directory's direct children are found by bisecting into that range and
  skipping each child's own subtree with another bisection — O(children × log n), for the
  directories a view opens, not for all of them;
- ``Sums``: a directory's cumulative regular-file bytes and non-directory count are the
  differences of two prefix sums over the range; the prefix sums are two ``accumulate``
  passes in C over the filesystem's columns;
- ``KeptSums``: the same figures counting only the entries a filter shows (dive's folder
  sizes under a filter): prefix sums over the kept entries' positions, built from
  ``Sums`` (each entry's own figure is the difference of two neighbouring prefix sums).

Every parent of an entry is itself an entry (merge implies missing parents), so a
directory has children exactly when its range is not empty.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Collection, Iterable, Iterator, Sequence
from itertools import accumulate, compress, islice
from operator import eq, getitem, mul, sub

from inspector.index import tarscan
from inspector.index.entries import DIR, FILE
from inspector.index.merge import IMPLIED_ROW, MergedFS

ROOT = "/"
#: ``bytes.translate`` tables over a kind column: 1 for a regular file / a non-directory
_IS_FILE = bytes(k == FILE for k in range(256))
_NOT_DIR = bytes(k != DIR for k in range(256))
#: ``KeptSums`` finds the kept entries' positions by bisecting each one when they are
#: fewer than 1/SPARSE of the paths (a category's files), else by one pass over the paths
SPARSE = 16


def subtree_range(paths: list[str], path: str) -> tuple[int, int]:
    """``[start, end)`` of ``path``'s descendants in the sorted ``paths``."""
    prefix = ROOT if path == ROOT else path + "/"
    start = bisect_left(paths, prefix)
    return start, bisect_left(paths, prefix[:-1] + "0", start)


class Children:
    """directory → its children (paths), computed on first use and kept; ``extra`` are
    children that are not entries (a view's removed paths), by parent. Keys are ``/``,
    the directories with at least one child, and ``extra``'s parents — as a dict of every
    parent's children would have them."""

    def __init__(self, paths: list[str], extra: dict[str, list[str]]) -> None:
        self.paths, self.extra = paths, extra
        self._known: dict[str, list[str]] = {}

    def _direct(self, path: str) -> list[str]:
        paths = self.paths
        start, end = subtree_range(paths, path)
        cut = 1 if path == ROOT else len(path) + 1
        out = []
        i = start
        while i < end:
            p = paths[i]
            slash = p.find("/", cut)
            if slash < 0:
                out.append(p)
                i += 1
            else:  # below a child already listed: skip that child's whole subtree
                i = bisect_left(paths, p[:slash] + "0", i, end)
        return out

    def get(self, path: str, default: list[str] | None = None) -> list[str] | None:
        kids = self._known.get(path)
        if kids is not None:
            return kids
        if path not in self:
            return default
        kids = self._known[path] = self._direct(path) + self.extra.get(path, [])
        return kids

    def __getitem__(self, path: str) -> list[str]:
        kids = self.get(path)
        if kids is None:
            raise KeyError(path)
        return kids

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, str):
            return False
        if path == ROOT or path in self._known or path in self.extra:
            return True
        start, end = subtree_range(self.paths, path)
        return start < end

    def __iter__(self) -> Iterator[str]:
        """Every directory with children (a pass over all paths: for rare, whole-tree
        operations such as expanding everything)."""
        yield ROOT
        seen = {ROOT}
        for path in (*self.paths, *self.extra):
            if path not in seen and path in self:
                seen.add(path)
                yield path

    def __len__(self) -> int:
        return sum(1 for _ in self)


class Sums:
    """Cumulative regular-file bytes and non-directory entries below each directory."""

    def __init__(self, fs: MergedFS) -> None:
        self.paths = fs.sorted_paths()
        self._own_bytes: array | list[int] | None = None
        self._own_counts: array | list[int] | None = None
        n = len(self.paths)
        self.bytes: array | list[int]
        if tarscan.prefix_sums is not None and tarscan.native(fs.layers):  # C, no GIL held
            self.bytes, self.counts = array("q", bytes(8 * (n + 1))), array("q", bytes(8 * (n + 1)))
            try:
                tarscan.prefix_sums(fs.sorted_packed(), [ix.kinds for ix in fs.layers],
                                    [ix.sizes for ix in fs.layers], _IS_FILE, _NOT_DIR,
                                    self.bytes, self.counts)
                return
            except OverflowError:  # totals past int64 (huge sparse files): the passes below
                pass
        lis, rows = fs.sorted_columns()
        implied = compress(range(len(rows)), map(IMPLIED_ROW.__eq__, rows))
        if len(fs.layers) == 1:  # one layer: its columns, plus a last row for implied dirs
            index = fs.layers[0]
            extra = len(index.kinds)
            for i in implied:
                rows[i] = extra
            kinds = bytes(map((bytes(index.kinds) + bytes([DIR])).__getitem__, rows))
            sizes_ext = array("q", index.sizes)
            sizes_ext.append(0)
            sizes = map(sizes_ext.__getitem__, rows)
        else:  # one more "layer": its row 0 is an implied directory
            for i in implied:
                lis[i], rows[i] = len(fs.layers), 0
            kinds_of = [ix.kinds for ix in fs.layers] + [bytes([DIR])]
            sizes_of = [ix.sizes for ix in fs.layers] + [(0,)]
            kinds = bytes(map(getitem, map(kinds_of.__getitem__, lis), rows))
            sizes = map(getitem, map(sizes_of.__getitem__, lis), rows)
        running = list(accumulate(map(mul, sizes, kinds.translate(_IS_FILE)), initial=0))
        try:
            self.bytes = array("q", running)
        except OverflowError:  # sparse files may claim 2**63 - 1 bytes each: Python ints
            self.bytes = running
        self.counts = array("q", accumulate(kinds.translate(_NOT_DIR), initial=0))

    def of(self, path: str) -> tuple[int, int]:
        """``(bytes, entries)`` below ``path``."""
        start, end = subtree_range(self.paths, path)
        return self.bytes[end] - self.bytes[start], self.counts[end] - self.counts[start]

    def own(self) -> tuple[array | list[int], array | list[int]]:
        """Each entry's own ``(bytes, entries)`` figures in path order (differences of
        neighbouring prefix sums), built on first use: what ``KeptSums`` picks from."""
        return self.own_bytes(), self.own_counts()

    def own_bytes(self) -> array | list[int]:
        if self._own_bytes is None:
            self._own_bytes = _column(map(sub, islice(self.bytes, 1, None), self.bytes))
        return self._own_bytes

    def own_counts(self) -> array | list[int]:
        if self._own_counts is None:
            self._own_counts = _column(map(sub, islice(self.counts, 1, None), self.counts))
        return self._own_counts

    def dir_positions(self) -> list[int]:
        """The positions of the directories (entries that count no entry of their own)."""
        return list(compress(range(len(self.paths)),
                             map(eq, islice(self.counts, 1, None), self.counts)))


class SumView:
    """``Sums`` as a read-only mapping of one of its figures (``totals()``'s contract)."""

    def __init__(self, sums: Sums, which: int) -> None:
        self.sums, self.which = sums, which

    def get(self, path: str, default: int = 0) -> int:
        return self.sums.of(path)[self.which]

    def __getitem__(self, path: str) -> int:
        return self.sums.of(path)[self.which]


class KeptSums:
    """``Sums`` counting only the entries in ``keep`` (paths; those not in the filesystem,
    such as a view's removed paths, count nothing): what a filtered view shows below each
    directory. Built in O(kept × log n) for a few kept entries, else in a few O(n) passes of
    C iterators (``compress``/``accumulate`` over ``Sums.own``)."""

    def __init__(self, sums: Sums, keep: Collection[str], at: Sequence[int] | None = None) -> None:
        """``at``: the ascending positions in ``sums.paths`` of the kept entries, when the
        caller knows them (directories among them or not: they count nothing)."""
        self.keep = keep
        paths = self.paths = sums.paths
        n = len(paths)
        own_bytes = sums.own_bytes()
        self._sums = sums
        if at is not None:
            kept_bytes: Iterable[int] = map(own_bytes.__getitem__, at)
        elif len(keep) * SPARSE < n:
            at = sorted(i for p in keep if (i := bisect_left(paths, p)) < n and paths[i] == p)
            kept_bytes = map(own_bytes.__getitem__, at)
        else:
            shown = bytes(map(keep.__contains__, paths))
            at = list(compress(range(n), shown))
            kept_bytes = compress(own_bytes, shown)
        self.at = at
        self.bytes = _column(accumulate(kept_bytes, initial=0))
        self._counts: array | list[int] | None = None  # summed when first asked

    @property
    def counts(self) -> array | list[int]:
        """Prefix sums of the kept entries' counts (built on first use: a view's folder
        sizes need only ``bytes``)."""
        if self._counts is None:
            own_counts = self._sums.own_counts()
            self._counts = _column(accumulate(map(own_counts.__getitem__, self.at), initial=0))
        return self._counts

    def _range(self, path: str) -> tuple[int, int]:
        start, end = subtree_range(self.paths, path)
        i = bisect_left(self.at, start)
        return i, bisect_left(self.at, end, i)

    def of(self, path: str) -> tuple[int, int]:
        """``(bytes, entries)`` of the kept entries below ``path``."""
        i, j = self._range(path)
        return self.bytes[j] - self.bytes[i], self.counts[j] - self.counts[i]

    def bytes_of(self, path: str) -> int:
        """``of(path)[0]``."""
        i, j = self._range(path)
        return self.bytes[j] - self.bytes[i]


def _column(values: Iterable[int]) -> array | list[int]:
    """``values`` as int64 when they fit (sums of sparse files, which may each claim
    2**63 - 1 bytes, do not: then Python ints)."""
    out = list(values)
    try:
        return array("q", out)
    except OverflowError:
        return out
