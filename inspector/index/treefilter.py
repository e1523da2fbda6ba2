"""What a filtered tree view keeps: the filter, and the kept paths computed in bulk.

``TreeFilter`` is the resolved filter (a glob or ``re:`` pattern, ``:added``-style marks,
a set of paths from ``category:``/``package:`` terms); ``TreeFilter.matcher`` is its
meaning for one path. ``keep`` applies it to every path of a ``DirTree`` at once: each
term narrows a list of positions in the sorted paths (``compress`` over a ``map`` of one C
call per path: ``frozenset.__contains__``, ``LayerMarks.mask``, a compiled
``re.Pattern.match``/``search``), so on a million entries no Python code runs per path.
A glob is compiled by ``globmatch.regex_source`` (the same language, linear time; one
without ``/`` as a pattern for a path's last component). The kept entries' ancestors are
the directories whose range of descendants holds a kept position (``DirRanges``, once per
tree); ghosts' ancestors are found by name, a level of them per ``map``.

``tests/index/test_treefilter.py`` checks all of it against the per-path loop it replaced
(``tests/index/filter_reference.py``) on random filters over random, hostile path sets.

Headless: no textual here.
"""

from __future__ import annotations

import re
import warnings
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, compress, repeat
from operator import add, contains, eq, getitem, gt, lt
from typing import Protocol

from inspector.globmatch import GlobError, compile_glob, regex_source
from inspector.index.merge import MergedFS
from inspector.index.subtrees import Children, Sums
from inspector.index.treemarks import LayerMarks, mark_mask

ROOT = "/"
#: a set of paths (``only``) is found by bisecting each of its paths when it is smaller
#: than 1/SPARSE of the entries, else by one pass over all of them
SPARSE = 16


def parent_of(path: str) -> str:
    return path[:path.rfind("/")] or ROOT


def name_of(path: str) -> str:
    return path[path.rfind("/") + 1:]


@dataclass(frozen=True)
class TreeFilter:
    """Which entries a view shows. ``pattern`` is a glob (``*.so*``; matched against the
    full path and the name) or, with ``regex``, a regular expression searched in the path;
    ``marks`` keeps only entries with one of these marks (``None``: unmarked); ``only``
    keeps only these paths. Every term must hold. Ancestors of every kept entry are kept."""

    pattern: str = ""
    regex: bool = False
    marks: frozenset[str] | None = None
    only: frozenset[str] | None = None

    @property
    def active(self) -> bool:
        return bool(self.pattern) or self.marks is not None or self.only is not None

    def matcher(self) -> Callable[[str], bool]:
        """Whether one path matches ``pattern`` (the reference ``bulk_matcher`` follows)."""
        if not self.pattern:
            return lambda path: True
        if self.regex:
            return _regex(self.pattern).search  # type: ignore[return-value]
        # fnmatch's syntax in linear time (globmatch): no glob can make the filter hang
        glob = compile_glob(self.pattern)
        if "/" in self.pattern:
            return glob.match
        return lambda path: glob.match(name_of(path))

    def bulk_matcher(self) -> Callable[[list[str]], Iterable[object]]:
        """``paths → a truth value per path`` for ``pattern`` (a match object or None),
        one C call per path (``GlobError``/``re.error`` for a pattern that cannot be)."""
        if self.regex:
            search = _regex(self.pattern).search
            return lambda paths: map(search, paths)
        compile_glob(self.pattern)  # the same errors as the per-path matcher
        # a glob without "/" is matched against the name: the pattern says so itself
        match = _regex(regex_source(self.pattern, name="/" not in self.pattern)).match
        return lambda paths: map(match, paths)


@lru_cache(maxsize=32)
def _regex(source: str) -> re.Pattern[str]:
    with warnings.catch_warnings():  # "possible nested set" must not reach stderr
        warnings.simplefilter("ignore", FutureWarning)
        return re.compile(source)


class DirRanges:
    """The directory entries of a filesystem in path order, with where each one's
    descendants lie in the sorted paths (``[starts[i], ends[i])``, as
    ``subtrees.subtree_range``); built once per tree, in C (``bisect_left`` by ``map``).
    Every parent of an entry is a directory entry (merge implies the missing ones), so the
    directories with a kept entry in their range are exactly the kept entries' ancestors."""

    def __init__(self, paths: list[str], positions: list[int]) -> None:
        self.paths = paths
        self.positions = positions  # ``Sums.dir_positions()``
        self.dirs = list(map(paths.__getitem__, self.positions))
        self.starts = list(map(bisect_left, repeat(paths), map(add, self.dirs, repeat("/")),
                               self.positions))
        self.ends = list(map(bisect_left, repeat(paths), map(add, self.dirs, repeat("0")),
                             self.starts))
        #: whether path order is tree order (a depth-first walk, children by name): it is
        #: unless some directory ``d`` has a sibling ``d.x``/``d-x`` (a character below
        #: "/") sorting between it and its descendants
        self.tree_ordered = not any(map(lt, map(add, self.positions, repeat(1)),
                                        map(min, self.starts, self.ends)))
        self._nul: bool | None = None

    def nul(self) -> bool:
        """Whether a name holds a NUL (a PAX or TOC name may): then "/" cannot be read as
        the lowest character to sort paths into tree order (asked once, when sorting)."""
        if self._nul is None:
            self._nul = any(map(contains, self.paths, repeat("\0")))
        return self._nul

    def holding(self, at: list[int]) -> bytes:
        """Per directory, 1 when one of the (sorted) positions ``at`` is below it."""
        return bytes(map(lt, map(bisect_left, repeat(at), self.starts),
                         map(bisect_left, repeat(at), self.ends)))


class Tree(Protocol):
    """What ``keep`` reads of a ``DirTree``."""

    fs: MergedFS
    ghosts: dict[str, bool]
    marks: dict[str, str] | LayerMarks
    children: Children

    def sums(self) -> Sums: ...
    def ghost_only(self) -> list[str]: ...
    def dir_ranges(self) -> DirRanges: ...


@dataclass
class Kept:
    """What a filter keeps in a tree: ``keep`` = the paths that match every term (of
    them, ``dirs`` are directories) + their ``ancestors`` (``/`` included). ``shown`` are
    the positions in ``paths`` (the tree's sorted paths) of every kept entry, ascending;
    ``others`` the kept paths that are not entries (ghosts), ``/`` aside."""

    keep: set[str]
    ancestors: set[str]
    dirs: list[str]
    paths: list[str]
    shown: Sequence[int]
    others: list[str]


def keep(tree: Tree, flt: TreeFilter) -> Kept:
    """The paths of ``tree`` (entries and ghosts) ``flt`` keeps, with their ancestors."""
    fs = tree.fs
    paths = fs.sorted_paths()
    n = len(paths)
    ghosts = tree.ghost_only()
    at: list[int] | None = None  # positions in ``paths`` still kept (None: all)

    def subset() -> list[str]:
        return paths if at is None else list(map(paths.__getitem__, at))

    if flt.only is not None:
        only = flt.only
        if len(only) * SPARSE < n:
            at = sorted(i for p in only if (i := bisect_left(paths, p)) < n and paths[i] == p)
        else:
            at = list(compress(range(n), map(only.__contains__, paths)))
        ghosts = list(filter(only.__contains__, ghosts))
    if flt.marks is not None:
        want = flt.marks
        at = list(compress(range(n) if at is None else at,
                           mark_mask(tree.marks, subset(), want)))
        ghosts = list(compress(ghosts, map(want.__contains__, map(tree.marks.get, ghosts))))
    if flt.pattern:
        test = flt.bulk_matcher()
        at = list(compress(range(n) if at is None else at, test(subset())))
        ghosts = list(compress(ghosts, test(ghosts)))
    matched = subset()
    if at is None:
        at = list(range(n))
    # directories among them: the directory entries matched (``DirRanges``: their own
    # count in ``Sums`` is 0), the ghosts that were directories, and a path with ghosts
    # below it (compare: a symlink here, a directory in another image)
    ranges = tree.dir_ranges()
    found = map(bisect_left, repeat(at), ranges.positions)  # each directory in ``at``?
    hit = bytes(map(eq, map((at + [-1]).__getitem__, found), ranges.positions))  # (-1: past)
    dirs = list(compress(ranges.dirs, hit))
    dirs += compress(ghosts, map(tree.ghosts.__getitem__, ghosts))
    extra = tree.children.extra
    if extra:
        seen = set(dirs)
        dirs += (p for p in chain(filter(extra.__contains__, matched),
                                  filter(extra.__contains__, ghosts)) if p not in seen)
    holding = ranges.holding(at)
    ancestors = set(compress(ranges.dirs, holding))
    kept = set(matched)
    kept.update(ghosts)
    # the ancestors' positions, but for those matched themselves (already in ``at``)
    shown = at + list(compress(ranges.positions, map(gt, holding, hit)))
    others = list(ghosts)  # kept paths that are not entries
    if ghosts:  # a ghost's parents are entries or ghosts: found by name
        for p in _ancestors(ghosts) - ancestors:
            ancestors.add(p)
            if p in fs.entries:
                if p not in kept:
                    shown.append(bisect_left(paths, p))
            elif p != ROOT and p not in kept:
                others.append(p)
    if kept:
        ancestors.add(ROOT)
    kept |= ancestors
    if len(shown) != len(at):  # ancestors not matched themselves: merge the two runs
        shown.sort()
    # 4 bytes a position, not a Python int's 32: kept for as long as the filter is on
    return Kept(kept, ancestors, dirs, paths, array("I", shown), others)


def _ancestors(paths: Iterable[str]) -> set[str]:
    """Every proper ancestor of ``paths`` (``/`` when there is any path), one level of
    all of them per ``map``."""
    out: set[str] = set()
    front = list(paths)
    while front:
        parents: set[str] = set(map(getitem, front,
                                    map(slice, map(str.rfind, front, repeat("/")))))
        if "" in parents:  # the parent of "/x" (and of "/") is "/"
            parents.discard("")
            parents.add(ROOT)
        new = parents - out
        out |= new
        front = list(new)
    return out


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
