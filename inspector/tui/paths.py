"""Sets of paths the screens filter and lay out by (pure functions, no textual).

``resolver`` answers the filter's ``category:NAME`` and ``package:NAME`` terms from the
analyses on screen; ``column_trees`` builds compare's columns over the union of every
image's paths, so row N is the same path in every column."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import chain, compress

from inspector.analysis import Analysis
from inspector.classify import CATEGORY_ORDER
from inspector.compare.security import SECURITY_SETS, security_sets
from inspector.index.entries import DIR
from inspector.index.tree import ADDED, MODIFIED, REMOVED, DirTree
from inspector.tui.widgets.file_rows import ABSENT


def category_name(name: str) -> str:
    """``package-manager`` / ``Package_Manager`` → ``package_manager``."""
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def resolver(analyses: Sequence[Analysis]) -> Callable[[str, str], frozenset[str]]:
    """``resolve(kind, name)``: the paths of category, package or finding ``name`` in any
    of ``analyses`` (a union, so compare shows where each image has or lacks them).
    ValueError names the valid choices when ``name`` is unknown."""
    sets: list[dict[str, list[str]]] = []  # per analysis, computed on first use

    def resolve(kind: str, name: str) -> frozenset[str]:
        if kind == "finding":
            want = category_name(name)
            want = "setuid" if want == "setgid" else want  # one set: setuid or setgid
            if want not in SECURITY_SETS:
                raise ValueError(f"no finding {name!r}; findings: {', '.join(SECURITY_SETS)}")
            if not sets:
                sets.extend(security_sets(a) for a in analyses)
            return frozenset(p for s in sets for p in s[want])
        if kind == "category":
            want = category_name(name)
            if want not in CATEGORY_ORDER:
                raise ValueError(f"no category {name!r}; categories: {', '.join(CATEGORY_ORDER)}")
            hits: list[Iterable[str]] = []
            for a in analyses:  # the code column, not the path → name map (~1 s at 1M)
                cls = a.classification
                column = cls.paths if cls.paths is not None else a.fs.sorted_paths()
                codes, names = cls.column(column)
                if want in names:
                    table = bytearray(256)
                    table[names.index(want)] = 1
                    hits.append(compress(column, codes.translate(table)))
            return frozenset(chain.from_iterable(hits))
        want = name.lower()
        owned: list[Iterable[str]] = []
        found = False
        for a in analyses:
            rows = {i for i, p in enumerate(a.catalog.packages) if p.name.lower() == want}
            found = found or bool(rows)
            owners = a.catalog.owners
            owned.append(compress(owners.keys(), map(rows.__contains__, owners.values())))
        if not found:
            refs = ", ".join(a.reference for a in analyses)
            raise ValueError(f"no package {name!r} in {refs} (see the Packages tab)")
        return frozenset(chain.from_iterable(owned))

    return resolve


def _same(a: Analysis, b: Analysis, path: str) -> bool:
    fa, fb = a.fs, b.fs
    return (fa.kind(path), fa.size(path), fa.mode(path), fa.target(path)) == (
        fb.kind(path), fb.size(path), fb.mode(path), fb.target(path))


def column_trees(analyses: Sequence[Analysis]) -> list[DirTree]:
    """One tree per image over the union of all their paths. Marks: green (ADDED) only in
    this image; yellow (MODIFIED) differs from the first image; red ghost (REMOVED) in the
    first image, missing here; dim ghost (ABSENT) only in other images."""
    union: dict[str, bool] = {}  # path → is a directory in some image
    for a in analyses:
        fs = a.fs
        for path in fs.entries:
            if not union.get(path):
                union[path] = fs.kind(path) == DIR
    base = analyses[0]
    trees = []
    for i, a in enumerate(analyses):
        own = a.fs.entries
        others = [o.fs.entries for j, o in enumerate(analyses) if j != i]
        marks: dict[str, str] = {}
        ghosts: dict[str, bool] = {}
        for path, is_dir in union.items():
            if path not in own:
                ghosts[path] = is_dir
                marks[path] = REMOVED if path in base.fs.entries else ABSENT
            elif i == 0:
                if not any(path in o for o in others):
                    marks[path] = ADDED
            elif path not in base.fs.entries:
                marks[path] = ADDED
            elif not _same(a, base, path):
                marks[path] = MODIFIED
        trees.append(DirTree(a.fs, ghosts=ghosts, marks=marks))
    return trees
