"""The TUI filter as it was before ``index/treefilter.py``: one Python loop over every
path, each matched on its own (``globmatch`` for globs, ``re.search`` for ``re:``), each
kept path's parents walked up one by one, directories found with ``DirTree.is_dir``, rows
rebuilt by walking the expanded directories. Kept verbatim (from ``index/tree.py`` at
``611234f``) as the reference the bulk version must agree with; far too slow for a large
image (3–16 s CPU at a million entries), fine for the property tests' small trees."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable

from inspector.globmatch import compile_glob
from inspector.index.tree import ROOT, DirTree, TreeFilter, TreeRows, name_of, parent_of


def matcher(flt: TreeFilter) -> Callable[[str], bool]:
    if not flt.pattern:
        return lambda path: True
    if flt.regex:
        with warnings.catch_warnings():  # "possible nested set" must not reach stderr
            warnings.simplefilter("ignore", FutureWarning)
            return re.compile(flt.pattern).search  # type: ignore[return-value]
    glob = compile_glob(flt.pattern)
    if "/" in flt.pattern:
        return glob.match
    return lambda path: glob.match(name_of(path))


def compute_keep(tree: DirTree, flt: TreeFilter) -> set[str]:
    match = matcher(flt)
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


class ReferenceRows(TreeRows):
    """``TreeRows`` with the old ``set_filter``, ``expand_all`` and ``rebuild`` (the walk
    over the expanded directories); sizes from ``KeptSums`` over the ``keep`` set alone."""

    def set_filter(self, flt: TreeFilter) -> None:
        self.filter = flt
        self.keep = compute_keep(self.tree, flt) if flt.active else None
        self._kept = None
        self._sorted.clear()
        if self.keep is not None and flt.pattern:
            self.expanded |= {p for p in self.keep if self.tree.is_dir(p)}
        self.rebuild()

    def expand_all(self) -> None:
        keep = self.keep
        self.expanded = {p for p in self.tree.children if keep is None or p in keep}
        self.rebuild()

    def _own_kept(self):  # never the bulk shortcuts
        return None
