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

from array import array
from collections.abc import Callable, Iterable
from itertools import repeat
from operator import sub

from inspector.index.entries import DIR
from inspector.index.merge import MergedFS
from inspector.index.subtrees import Children, KeptSums, Sums, SumView
from inspector.index.treefilter import (
    ROOT,
    DirRanges,
    Kept,
    TreeFilter,
    compile_search,
    keep,
    name_of,
    parent_of,
)
from inspector.index.treemarks import ADDED, MODIFIED, REMOVED, LayerMarks, layer_marks

__all__ = ["ADDED", "MODIFIED", "REMOVED", "ROOT", "DirTree", "LayerMarks", "TreeFilter",
           "TreeRows", "compile_search", "layer_marks", "name_of", "parent_of"]


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
        self._ghost_only: list[str] | None = None
        self._dir_ranges: DirRanges | None = None

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

    def dir_ranges(self) -> DirRanges:
        """The directory entries and their descendants' ranges (the filter's ancestors)."""
        if self._dir_ranges is None:
            self._dir_ranges = DirRanges(self.fs.sorted_paths(), self.sums().dir_positions())
        return self._dir_ranges

    def ghost_only(self) -> list[str]:
        """The ghosts that are not entries (a path removed and written again is an entry)."""
        if self._ghost_only is None:
            entries = self.fs.entries
            self._ghost_only = [g for g in self.ghosts if g not in entries]
        return self._ghost_only

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


class TreeRows:
    """The visible rows of one view over a ``DirTree``."""

    def __init__(self, tree: DirTree, sort: str = "name") -> None:
        self.tree = tree
        self.sort = sort  # "name" | "size"
        self.filter = TreeFilter()
        self.expanded: set[str] = set()
        self.keep: set[str] | None = None
        self._kept: Kept | None = None  # ``keep`` with its ancestors and directories
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
            kept = self._own_kept()
            shown = self._shown = KeptSums(self.tree.sums(), keep,
                                           kept.shown if kept is not None else None)
        return shown.bytes_of(path)

    def follow(self, leader: TreeRows) -> bool:
        """Show ``leader``'s rows: its filter, sort, order and expanded directories
        (compare's columns are trees over the same union of paths, so the leader's rows are
        valid here). Sizes stay this tree's own. False when nothing differed."""
        if (self.filter is leader.filter and self.sort == leader.sort
                and len(self.rows) == len(leader.rows) and self.expanded == leader.expanded):
            return False
        self.filter, self.keep, self.sort = leader.filter, leader.keep, leader.sort
        self._kept = leader._kept
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
        kept = keep(self.tree, flt) if flt.active else None  # raises before any change
        self.filter, self._kept = flt, kept
        self.keep = kept.keep if kept is not None else None
        self._sorted.clear()
        if kept is not None and flt.pattern:
            # show where the matches are: open every directory that leads to one (and
            # every kept directory)
            self.expanded |= kept.ancestors
            self.expanded.update(kept.dirs)
        self.rebuild()

    # ---- rows ----------------------------------------------------------------------
    def rebuild(self) -> None:
        """Flatten from scratch: O(visible rows)."""
        kept = self._own_kept()
        if kept is not None and self.sort == "name" and kept.ancestors <= self.expanded:
            self._rebuild_all_kept(kept)
            return
        rows: list[str] = []
        depths = array("I")
        self._append_subtree(ROOT, -1, rows, depths)
        self.rows, self.depths = rows, depths

    def _rebuild_all_kept(self, kept: Kept) -> None:
        """Every kept path is shown (each one's ancestors are expanded), sorted by name:
        the rows are the kept paths in tree order, which is their order with "/" read as
        the lowest character (a directory's subtree before its next sibling ``a.b`` or
        ``a-b``; by components when a name holds a NUL) — one sort, no walk. They come in
        path order already (``kept.shown``), so the sort finds long runs."""
        paths, ranges = kept.paths, self.tree.dir_ranges()
        order = list(map(paths.__getitem__, kept.shown))
        if kept.others or not ranges.tree_ordered:
            order += kept.others
            nul = ranges.nul() or any("\0" in p for p in kept.others)
            order.sort(key=_by_components if nul else _tree_order)
        self.rows = order
        self.depths = array("I", map(sub, map(str.count, order, repeat("/")), repeat(1)))

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
        kept, children = self._own_kept(), self.tree.children
        if kept is not None:  # the kept directories that have children (ancestors all have)
            self.expanded = kept.ancestors | {p for p in kept.dirs if p in children}
        else:
            keep = self.keep
            self.expanded = {p for p in children if keep is None or p in keep}
        self.rebuild()

    def _own_kept(self) -> Kept | None:
        """``_kept`` when it was computed over this tree (a compare column that follows
        another has the leader's: its positions and directories are the leader's)."""
        kept = self._kept
        return kept if kept is not None and kept.paths is self.tree.fs.sorted_paths() else None

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


def _tree_order(path: str) -> str:
    """Sort key: paths in the order of a depth-first walk with children sorted by name
    (for names without a NUL)."""
    return path.replace("/", "\0")


def _by_components(path: str) -> list[str]:
    """The same order for any names (a list per path: slower)."""
    return path.split("/")
