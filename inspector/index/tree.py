"""A directory tree over a ``MergedFS`` for virtual rendering (no object per file).

``DirTree`` is built once per filesystem: children by directory (lists of the path
strings the index already holds), plus optional *ghost* entries (paths a layer removed,
shown in red). Cumulative directory sizes are computed lazily, once.

``TreeRows`` is one view's state over a ``DirTree``: which directories are expanded, the
sort order, the filter, and ``rows``/``depths`` — the flattened visible rows in tree order.
Expanding splices a directory's sorted children into ``rows`` (O(children)); collapsing
deletes a contiguous slice. A view renders ``rows[top:top + height]`` and nothing else.
Under a filter, a directory's size is the total of what the filter shows below it (as
dive's), not of everything below it.

Headless: no textual here; the TUI's file view and the tests both drive this.
"""

from __future__ import annotations

import re
import warnings
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from inspector.globmatch import GlobError, compile_glob
from inspector.index.entries import DIR
from inspector.index.merge import IMPLIED_ROW, MergedFS
from inspector.index.subtrees import Children, KeptSums, Sums, SumView

#: change marks (a superset of merge's ADDED/MODIFIED codes, plus REMOVED for ghosts)
ADDED, MODIFIED, REMOVED = "added", "modified", "removed"
ROOT = "/"


def parent_of(path: str) -> str:
    return path[:path.rfind("/")] or ROOT


def name_of(path: str) -> str:
    return path[path.rfind("/") + 1:]


class DirTree:
    """Children by directory over ``fs`` plus ``ghosts`` (removed path → was a directory).

    ``marks`` maps a path to ADDED/MODIFIED/REMOVED (or any label a caller chooses, e.g.
    compare's "only here"/"changed")."""

    def __init__(self, fs: MergedFS, ghosts: dict[str, bool] | None = None,
                 marks: dict[str, str] | LayerMarks | None = None) -> None:
        self.fs = fs
        self.ghosts: dict[str, bool] = dict(ghosts or {})
        # not copied: callers hand over a fresh mapping (``layer_marks`` returns a lazy one)
        self.marks = marks if marks is not None else {}
        paths = fs.sorted_paths()
        # children that are not entries: removed paths (and removed parents of theirs)
        extra: dict[str, list[str]] = {}
        children = Children(paths, extra)
        for path in list(self.ghosts):
            # a ghost's parents may be gone too (a removed subtree): add them as ghosts
            p = path
            while p != ROOT:
                parent = parent_of(p)
                kids = extra.setdefault(parent, [])
                if p not in fs.entries and p not in kids:
                    kids.append(p)
                if parent == ROOT or parent in fs.entries:
                    break
                self.ghosts.setdefault(parent, True)
                self.marks.setdefault(parent, REMOVED)
                p = parent
            self.marks.setdefault(path, REMOVED)
        self.children = children
        self._sums: Sums | None = None

    def __len__(self) -> int:
        return len(self.fs.entries) + len(self.ghosts)

    def __contains__(self, path: str) -> bool:
        return path in self.fs.entries or path in self.ghosts

    def is_dir(self, path: str) -> bool:
        if path in self.children:
            return True
        if path in self.fs.entries:
            return self.fs.kind(path) == DIR
        return self.ghosts.get(path, False)

    def is_ghost(self, path: str) -> bool:
        return path in self.ghosts and path not in self.fs.entries

    def size(self, path: str) -> int:
        """Bytes: a file's size, a directory's cumulative regular-file bytes (hardlinks 0),
        a removed path's bytes as the removing layer recorded them (0 if unknown)."""
        if self.is_dir(path):
            return self.totals().get(path, 0)
        if path in self.fs.entries:
            return self.fs.size(path)
        return 0

    def file_count(self, path: str) -> int:
        """Non-directory entries under ``path`` (1 for a file)."""
        if not self.is_dir(path):
            return 1
        return self.sums().of(path)[1]

    def sums(self) -> Sums:
        """Prefix sums of bytes and entries in path order, built on first use (two passes
        in C over the columns; ``totals()`` calls it off the event loop)."""
        if self._sums is None:
            self._sums = Sums(self.fs)
        return self._sums

    def totals(self) -> SumView:
        """Cumulative regular-file bytes (hardlinks 0) of every directory, by path."""
        return SumView(self.sums(), 0)

    def walk(self, order: Callable[[str, list[str]], list[str]],
             keep: set[str] | None = None) -> Iterable[tuple[str, int]]:
        """Every path in tree order (depth-first, children in ``order``), with its depth."""
        stack: list[tuple[str, int]] = [(p, 0) for p in reversed(order(ROOT, self._kids(ROOT, keep)))]
        while stack:
            path, depth = stack.pop()
            yield path, depth
            kids = self.children.get(path)
            if kids:
                for kid in reversed(order(path, self._kids(path, keep))):
                    stack.append((kid, depth + 1))

    def _kids(self, path: str, keep: set[str] | None) -> list[str]:
        kids: list[str] = self.children.get(path) or []
        return kids if keep is None else [k for k in kids if k in keep]


@dataclass(frozen=True)
class TreeFilter:
    """Which entries a view shows. ``pattern`` is a glob (``*.so*``; matched against the
    full path and the name) or, with ``regex``, a regular expression searched in the path;
    ``marks`` keeps only entries with one of these marks; ``only`` keeps only these paths.
    Ancestors of every kept entry are kept."""

    pattern: str = ""
    regex: bool = False
    marks: frozenset[str] | None = None
    only: frozenset[str] | None = None

    @property
    def active(self) -> bool:
        return bool(self.pattern) or self.marks is not None or self.only is not None

    def matcher(self) -> Callable[[str], bool]:
        if not self.pattern:
            return lambda path: True
        if self.regex:
            with warnings.catch_warnings():  # "possible nested set" must not reach stderr
                warnings.simplefilter("ignore", FutureWarning)
                return re.compile(self.pattern).search  # type: ignore[return-value]
        # fnmatch's syntax in linear time (globmatch): no glob can make the filter hang
        glob = compile_glob(self.pattern)
        if "/" in self.pattern:
            return glob.match
        return lambda path: glob.match(name_of(path))


@lru_cache(maxsize=16)  # each drawn row asks again (file_rows.name_segments)
def compile_search(term: str) -> Callable[[str], bool]:
    """Jump-to search: a glob when the term has wildcards (and is a glob: ``[z-a]`` is
    searched as text), else a case-insensitive substring of the path."""
    try:
        glob = compile_glob(term, ignorecase=True) if any(c in term for c in "*?[") else None
    except GlobError:
        glob = None
    if glob is not None:
        if "/" in term:
            return glob.match
        return lambda path: glob.match(name_of(path))
    low = term.lower()
    return lambda path: low in path.lower()


class TreeRows:
    """The visible rows of one view over a ``DirTree``."""

    def __init__(self, tree: DirTree, sort: str = "name") -> None:
        self.tree = tree
        self.sort = sort  # "name" | "size"
        self.filter = TreeFilter()
        self.expanded: set[str] = set()
        self.keep: set[str] | None = None
        self.rows: list[str] = []
        #: each row's depth; always typecode "I" (``expand`` splices such arrays in)
        self.depths = array("I")
        self._sorted: dict[str, list[str]] = {}
        self._shown: KeptSums | None = None  # directory totals under ``keep``, on first use
        self.rebuild()

    def size(self, path: str) -> int:
        """Bytes as shown: a file's size; a directory's total of the regular files the
        filter keeps below it (all of them when nothing is filtered)."""
        keep = self.keep
        if keep is None or not self.tree.is_dir(path):
            return self.tree.size(path)
        shown = self._shown
        if shown is None or shown.keep is not keep:
            shown = self._shown = KeptSums(self.tree.sums(), keep)
        return shown.of(path)[0]

    def follow(self, leader: TreeRows) -> bool:
        """Show ``leader``'s rows: its filter, sort, order and expanded directories
        (compare's columns are trees over the same union of paths, so the leader's rows are
        valid here). Sizes stay this tree's own. False when nothing differed."""
        if (self.filter is leader.filter and self.sort == leader.sort
                and len(self.rows) == len(leader.rows) and self.expanded == leader.expanded):
            return False
        self.filter, self.keep, self.sort = leader.filter, leader.keep, leader.sort
        self._sorted = leader._sorted  # the leader's order, so a size sort lines up too
        self.expanded = set(leader.expanded)
        self.rows, self.depths = list(leader.rows), array("I", leader.depths)
        return True

    # ---- ordering and filtering --------------------------------------------------
    def ordered(self, path: str, kids: list[str] | None = None) -> list[str]:
        """Children of ``path`` as shown: filtered, then sorted (cached per directory)."""
        cached = self._sorted.get(path)
        if cached is not None:
            return cached
        if kids is None:
            kids = self.tree._kids(path, self.keep)
        if self.sort == "size":
            size = self.size
            out = sorted(kids, key=lambda p: (-size(p), p))
        else:
            out = sorted(kids)
        self._sorted[path] = out
        return out

    def set_sort(self, sort: str) -> None:
        if sort != self.sort:
            self.sort = sort
            self._sorted.clear()
            self.rebuild()

    def set_filter(self, flt: TreeFilter) -> None:
        self.filter = flt
        self.keep = self._compute_keep(flt) if flt.active else None
        self._sorted.clear()
        if self.keep is not None and flt.pattern:
            # show where the matches are: open every directory that leads to one
            self.expanded |= {p for p in self.keep if self.tree.is_dir(p)}
        self.rebuild()

    def _compute_keep(self, flt: TreeFilter) -> set[str]:
        tree = self.tree
        match = flt.matcher()
        marks = tree.marks
        keep: set[str] = set()
        candidates: Iterable[str] = flt.only if flt.only is not None else \
            list(tree.fs.entries) + [g for g in tree.ghosts if g not in tree.fs.entries]
        for path in candidates:
            if path in keep or path not in tree:
                continue
            if flt.marks is not None and marks.get(path) not in flt.marks:
                continue
            if flt.pattern and tree.is_dir(path) and not match(path):
                continue  # a directory is kept for a match below it, not for its own name
            if not match(path):
                continue
            keep.add(path)
            p = path
            while p != ROOT:
                p = parent_of(p)
                if p in keep:
                    break
                keep.add(p)
        return keep

    # ---- rows ----------------------------------------------------------------------
    def rebuild(self) -> None:
        """Flatten from scratch: O(visible rows)."""
        rows: list[str] = []
        depths = array("I")
        self._append_subtree(ROOT, -1, rows, depths)
        self.rows, self.depths = rows, depths

    def _append_subtree(self, path: str, depth: int, rows: list[str], depths: array) -> None:
        stack = [(k, depth + 1) for k in reversed(self.ordered(path))]
        expanded, children = self.expanded, self.tree.children
        while stack:
            p, d = stack.pop()
            rows.append(p)
            depths.append(d)
            if p in expanded and p in children:
                stack.extend((k, d + 1) for k in reversed(self.ordered(p)))

    def is_expanded(self, path: str) -> bool:
        return path in self.expanded

    def expand(self, row: int) -> int:
        """Expand the directory at ``row``; returns how many rows appeared."""
        path = self.rows[row]
        if path in self.expanded or not self.tree.is_dir(path):
            return 0
        self.expanded.add(path)
        rows: list[str] = []
        depths = array("I")
        self._append_subtree(path, self.depths[row], rows, depths)
        self.rows[row + 1:row + 1] = rows
        self.depths[row + 1:row + 1] = depths
        return len(rows)

    def collapse(self, row: int) -> int:
        """Collapse the directory at ``row``; returns how many rows went away."""
        path = self.rows[row]
        if path not in self.expanded:
            return 0
        self.expanded.discard(path)
        end = self.subtree_end(row)
        del self.rows[row + 1:end]
        del self.depths[row + 1:end]
        return end - row - 1

    def toggle(self, row: int) -> int:
        return -self.collapse(row) if self.rows[row] in self.expanded else self.expand(row)

    def subtree_end(self, row: int) -> int:
        depth, depths, n = self.depths[row], self.depths, len(self.rows)
        end = row + 1
        while end < n and depths[end] > depth:
            end += 1
        return end

    def collapse_all(self) -> None:
        self.expanded.clear()
        self.rebuild()

    def expand_all(self) -> None:
        keep = self.keep
        self.expanded = {p for p in self.tree.children if keep is None or p in keep}
        self.rebuild()

    def row_of(self, path: str) -> int | None:
        try:
            return self.rows.index(path)
        except ValueError:
            return None

    def reveal(self, path: str) -> int | None:
        """Expand ``path``'s ancestors so it is visible; its row (or its nearest visible
        ancestor's, if the path is absent or filtered out)."""
        chain = []
        p = path
        while p != ROOT:
            chain.append(p)
            p = parent_of(p)
        chain.reverse()
        row = -1
        for p in chain:
            found = self._find_child_row(p, row)
            if found is None:
                return row if row >= 0 else None
            row = found
            if p != path:
                self.expand(row)
        return row

    def _find_child_row(self, path: str, parent_row: int) -> int | None:
        # a path is in ``rows`` at most once, and only below its parent: no need to bound
        # the search by the parent's subtree (finding that end is a linear scan per level,
        # quadratic along a 10,000-deep chain)
        try:
            return self.rows.index(path, parent_row + 1)
        except ValueError:
            return None

    def search(self, term: str, start: str | None, backwards: bool = False) -> str | None:
        """The next path (in tree order, wrapping) after ``start`` matching ``term``."""
        match = compile_search(term)
        order = [p for p, _ in self.tree.walk(self.ordered, self.keep)]
        if not order:
            return None
        try:
            at = order.index(start) if start is not None else -1
        except ValueError:
            at = -1
        n = len(order)
        step = -1 if backwards else 1
        i = at
        for _ in range(n):
            i = (i + step) % n
            if match(order[i]):
                return order[i]
        return None


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
