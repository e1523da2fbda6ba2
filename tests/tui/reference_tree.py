"""``DirTree``'s children and totals as they were built before issue 16 (one pass over
every entry), kept as the reference the on-demand version is property-tested against."""

from __future__ import annotations

from inspector.index.entries import DIR, FILE
from inspector.index.merge import IMPLIED_ROW, MergedFS

ROOT = "/"


def parent_of(path: str) -> str:
    return path[:path.rfind("/")] or ROOT


def children_and_totals(fs: MergedFS, ghosts: dict[str, bool]
                        ) -> tuple[dict[str, list[str]], dict[str, int], dict[str, int]]:
    """directory → children (entries and ghosts), cumulative regular-file bytes and
    non-directory counts (directories that have children)."""
    children: dict[str, list[str]] = {ROOT: []}
    own_bytes: dict[str, int] = {}
    own_count: dict[str, int] = {}
    for path, li, row in fs.located():
        parent = parent_of(path)
        children.setdefault(parent, []).append(path)
        if row != IMPLIED_ROW:
            index = fs.layers[li]
            kind = index.kinds[row]
            if kind != DIR:
                own_count[parent] = own_count.get(parent, 0) + 1
                if kind == FILE:
                    own_bytes[parent] = own_bytes.get(parent, 0) + index.sizes[row]
    for path in list(ghosts):
        p = path
        while p != ROOT:
            parent = parent_of(p)
            children.setdefault(parent, [])
            if p not in fs.entries and p not in children[parent]:
                children[parent].append(p)
            if parent == ROOT or parent in fs.entries:
                break
            p = parent
    totals = dict.fromkeys(children, 0)
    counts = dict.fromkeys(children, 0)
    totals.update(own_bytes)
    counts.update(own_count)
    for d in sorted(children, key=lambda p: p.count("/"), reverse=True):
        if d != ROOT:
            totals[parent_of(d)] = totals.get(parent_of(d), 0) + totals[d]
            counts[parent_of(d)] = counts.get(parent_of(d), 0) + counts[d]
    return children, totals, counts
