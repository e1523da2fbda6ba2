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
deleted files. Hardlinks count 0 (their data is counted once, at the file).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from inspector.index.entries import DIR, FILE
from inspector.index.merge import MergedFS


@dataclass
class Efficiency:
    score: float
    wasted_bytes: int
    reclaimable_bytes: int
    #: paths written by 2+ layers, largest cumulative first: (path, copies, cumulative bytes)
    inefficient: list[tuple[str, int, int]] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"score": self.score, "wasted_bytes": self.wasted_bytes,
                "reclaimable_bytes": self.reclaimable_bytes}


def efficiency(fs: MergedFS, *, top: int = 200) -> Efficiency:
    counts: dict[str, int] = {}
    cumulative: dict[str, int] = {}
    minimum: dict[str, int] = {}
    layer_file_bytes = 0
    for li, index in enumerate(fs.layers):
        kinds, sizes = index.kinds, index.sizes
        entries = [(path, sizes[row] if kinds[row] == FILE else 0)
                   for row, path in enumerate(index.paths) if kinds[row] != DIR]
        layer_file_bytes += sum(sizes[row] for row in range(len(kinds)) if kinds[row] == FILE)
        removed = fs.removed[li] if li < len(fs.removed) else {}
        for path in index.whiteouts:
            nbytes, is_dir = removed.get(path, (0, False))
            entries.append((path, nbytes if is_dir else 0))
        for path, size in entries:
            n = counts.get(path)
            if n is None:
                counts[path] = 1
                cumulative[path] = size
                minimum[path] = size
            else:
                counts[path] = n + 1
                cumulative[path] += size
                if size < minimum[path]:
                    minimum[path] = size
    total = sum(cumulative.values())
    score = sum(minimum.values()) / total if total else 1.0
    wasted = [(p, n, cumulative[p]) for p, n in counts.items() if n >= 2]
    wasted.sort(key=lambda t: (-t[2], t[0]))
    return Efficiency(
        score=score,
        wasted_bytes=sum(t[2] for t in wasted),
        reclaimable_bytes=max(0, layer_file_bytes - fs.file_bytes),
        inefficient=wasted[:top],
    )
