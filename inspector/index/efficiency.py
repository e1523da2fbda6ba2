"""Image efficiency: dive's score and wasted bytes, exactly as dive defines them, plus the
bytes a squash would really reclaim.

dive (``dive/filetree/efficiency.go``, ``dive/image/analysis.go``; anchors.md §3):
  for every path, over every layer's *leaf* entries (files, links, whiteouts; directories
  that have children are not leaves, and an empty directory contributes 0 bytes):
    cumulative(path) = Σ sizes of its entries; a whiteout of a directory counts the bytes of
                       the subtree it deletes, a whiteout of a file counts 0
    min(path)        = the smallest of those sizes
  score        = Σ_paths min / Σ_paths cumulative        (1.0 when the denominator is 0)
  wasted_bytes = Σ cumulative over paths with 2+ entries  (counts the surviving copy too:
                                                           dive #684)

Ours, ``reclaimable_bytes`` = Σ_layers bytes of regular files in the layer tar
                              − bytes of regular files in the merged filesystem,
i.e. exactly what squashing the image into one layer would drop: overwritten copies and
deleted files. Hardlinks count 0 in the tars and their data once in the filesystem (at the
file, or at a surviving link when the file's path is gone: ``inspector.index.hardlinks``);
the tars' side and dive's figures read the layers' own headers (``MergedFS.tar_layers``).

The inefficient files, as dive's ``--json`` ``inefficientFiles``: per path written by 2+
layers, its copies, the layers (0-based positions, base first) and its wasted bytes (dive's
cumulative size: every copy, the surviving one too); largest first, the top ``top`` kept,
``inefficient_count`` says how many there are in all.
"""

from __future__ import annotations

from typing import NamedTuple

from inspector.index.entries import DIR
from inspector.index.merge import MergedFS


class InefficientFile(NamedTuple):
    path: str
    copies: int
    layers: list[int]  # 0-based positions, base first
    wasted_bytes: int  # dive's cumulative size over the copies

    def as_json(self) -> dict:
        return {"path": self.path, "copies": self.copies, "layers": self.layers,
                "wasted_bytes": self.wasted_bytes}


class Efficiency:
    """dive's efficiency figures (a plain class: every process that reads an analysis
    creates this class, and a dataclass costs ~0.5 ms to create)."""

    __slots__ = ("score", "wasted_bytes", "reclaimable_bytes", "inefficient",
                 "inefficient_layers", "inefficient_count")

    def __init__(self, score: float, wasted_bytes: int, reclaimable_bytes: int,
                 inefficient: list[tuple[str, int, int]] | None = None,
                 inefficient_layers: list[list[int]] | None = None,
                 inefficient_count: int = 0) -> None:
        self.score = score
        self.wasted_bytes = wasted_bytes
        self.reclaimable_bytes = reclaimable_bytes
        #: paths written by 2+ layers, largest cumulative first: (path, copies, cumulative bytes)
        self.inefficient = [] if inefficient is None else inefficient
        #: per ``inefficient`` entry, the layers that wrote it (0-based, base first)
        self.inefficient_layers = [] if inefficient_layers is None else inefficient_layers
        #: paths written by 2+ layers in all (``inefficient`` keeps the largest)
        self.inefficient_count = inefficient_count

    def _fields(self) -> tuple:
        return (self.score, self.wasted_bytes, self.reclaimable_bytes, self.inefficient,
                self.inefficient_layers, self.inefficient_count)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Efficiency):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it was

    def __repr__(self) -> str:
        return ("Efficiency(score={!r}, wasted_bytes={!r}, reclaimable_bytes={!r}, "
                "inefficient={!r}, inefficient_layers={!r}, inefficient_count={!r})"
                .format(*self._fields()))

    def files(self) -> list[InefficientFile]:
        layers = self.inefficient_layers
        return [InefficientFile(path, copies, list(layers[i]) if i < len(layers) else [], total)
                for i, (path, copies, total) in enumerate(self.inefficient)]

    def as_json(self) -> dict:
        return {"score": self.score, "wasted_bytes": self.wasted_bytes,
                "reclaimable_bytes": self.reclaimable_bytes,
                "inefficient_count": self.inefficient_count,
                "inefficient_files": [f.as_json() for f in self.files()]}


def _leaves(fs: MergedFS, li: int) -> dict[str, int]:
    """One layer's leaf entries as dive sees them (a tree per layer: a name written twice
    in one layer is one node): path → size; directories are not leaves (an empty
    directory is, but adds 0 bytes and so changes no figure); whiteouts map onto the path
    they delete, with the bytes of a deleted directory's subtree, 0 for a file."""
    index = fs.tar_layers[li]
    kinds, paths = index.kinds, index.paths
    leaves = dict(zip(paths, index.sizes, strict=True))  # sizes are 0 for everything but files
    # the last entry of a name decides what it is (only differs with duplicate names)
    last = dict(zip(paths, range(len(paths)), strict=True)) if len(leaves) != len(paths) else None
    row = kinds.find(DIR)
    while row >= 0:  # bytearray.find: the (few) directory rows, found in C
        if last is None or last[paths[row]] == row:
            leaves.pop(paths[row], None)
        row = kinds.find(DIR, row + 1)
    removed = fs.removed[li] if li < len(fs.removed) else {}
    for path in index.whiteouts:
        nbytes, is_dir = removed.get(path, (0, False))
        leaves[path] = nbytes if is_dir else 0
    return leaves


def efficiency(fs: MergedFS, *, top: int = 200) -> Efficiency:
    """See the module docstring. Only paths written by 2+ layers are visited one by one;
    for the rest, min = cumulative, so they enter both sums as their size."""
    layer_file_bytes = sum(sum(index.sizes) for index in fs.tar_layers)
    reclaimable = max(0, layer_file_bytes - fs.file_bytes)
    if len(fs.layers) <= 1:  # one tree: every path has one copy (score 1, nothing wasted)
        return Efficiency(score=1.0, wasted_bytes=0, reclaimable_bytes=reclaimable)
    per_layer = [_leaves(fs, li) for li in range(len(fs.layers))]
    total = sum(sum(leaves.values()) for leaves in per_layer)
    seen: set[str] = set()
    multi: set[str] = set()
    for leaves in per_layer:
        keys = leaves.keys()
        multi |= seen & keys
        seen |= keys
    written: dict[str, list[int]] = {}  # path → the layers that wrote it
    cumulative: dict[str, int] = {}
    minimum: dict[str, int] = {}
    for li, leaves in enumerate(per_layer):
        for path in (multi & leaves.keys()) if multi else ():
            size = leaves[path]
            if path in written:
                written[path].append(li)
                cumulative[path] += size
                minimum[path] = min(minimum[path], size)
            else:
                written[path], cumulative[path], minimum[path] = [li], size, size
    excess = sum(cumulative[p] - minimum[p] for p in written)
    score = (total - excess) / total if total else 1.0
    wasted = [(p, len(li), cumulative[p]) for p, li in written.items()]
    wasted.sort(key=lambda t: (-t[2], t[0]))
    return Efficiency(
        score=score,
        wasted_bytes=sum(t[2] for t in wasted),
        reclaimable_bytes=reclaimable,
        inefficient=wasted[:top],
        inefficient_layers=[written[t[0]] for t in wasted[:top]],
        inefficient_count=len(wasted),
    )
