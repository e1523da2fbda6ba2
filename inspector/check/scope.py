"""``scope = "own"`` for a check rule: the rule measures only what the image's own layers
put there (``inspector.provenance``: a path is own when its final content comes from a
layer after the base, a package when the layer that added it is).

``own_view(analysis, base)`` is the analysis as the measures read it (``measures.py``
reads ``classification``, ``fs``, ``catalog``, ``compressed_size`` and ``efficiency``),
restricted to the own layers, so every scoped rule keeps its one measure. Rules whose
figure is not about layers (the config's user, dive's ratios) take no scope
(``RuleDef.scoped``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from inspector.classify import CategoryTotal, Findings

if TYPE_CHECKING:
    from inspector.analysis import Analysis
    from inspector.provenance import Base

SCOPES = ("image", "own")


@dataclass
class _Classification:
    totals: dict[str, CategoryTotal]
    findings: Findings
    files: int

    def count(self) -> int:
        return self.files


@dataclass
class _FS:
    paths: list[str]
    file_bytes: int

    def sorted_paths(self) -> list[str]:
        return self.paths


@dataclass
class _Catalog:
    packages: list = field(default_factory=list)


@dataclass
class _Efficiency:
    wasted_bytes: int
    inefficient: list[tuple[str, int, int]]


@dataclass
class OwnView:
    """The analysis restricted to its own layers (what ``measures`` reads)."""

    reference: str
    base: Base | None
    classification: _Classification
    fs: _FS
    catalog: _Catalog
    compressed_size: int
    efficiency: _Efficiency
    layers: list = field(default_factory=list)

    def describe(self) -> str:
        """``own: layer 2 above sample:debian-12-slim`` for a verdict's message."""
        if self.base is None:
            return "own: no base found, the whole image"
        n, total = self.base.layers, self.base.layers + len(self.layers)
        span = ("no layers" if total == n else f"layer {total}" if total == n + 1
                else f"layers {n + 1}-{total}")
        return f"own: {span} above {self.base.reference}"


def own_view(analysis: Analysis, base: Base | None) -> OwnView:
    from inspector.provenance import own_paths, split

    n = base.layers if base else 0
    fs = analysis.fs
    own = own_paths(fs, n)
    own_set = set(own)
    figures = split(analysis, base).own
    cls = analysis.classification
    totals = {}
    for name, total in cls.totals.items():
        mine = [p for p in total.paths if p in own_set]
        totals[name] = CategoryTotal(figures.categories.get(name, {}).get("files", 0),
                                     figures.categories.get(name, {}).get("bytes", 0), mine)
    passwd = fs.find("/etc/passwd")
    findings = Findings(**{name: ([*items] if passwd is not None and passwd[0] >= n else [])
                           if name == "login_users" else [p for p in items if p in own_set]
                           for name, items in cls.findings.items()})
    eff = analysis.efficiency
    inefficient = [t for t, layers in zip(eff.inefficient, eff.inefficient_layers, strict=False)
                   if any(li >= n for li in layers)]
    return OwnView(
        reference=analysis.reference, base=base,
        classification=_Classification(totals, findings, figures.files),
        fs=_FS(own, figures.bytes),
        catalog=_Catalog([p for p in analysis.catalog.packages
                          if p.layer is not None and p.layer >= n]),
        compressed_size=sum(layer.compressed_size for layer in analysis.image.layers[n:]),
        efficiency=_Efficiency(figures.wasted_bytes, inefficient),
        layers=list(analysis.layers[n:]))


def own_vulns(vulns: Any, base: Base | None) -> Any:
    """The overlay with only the findings that land on an own layer (counts recounted)."""
    if vulns is None:
        return None
    from inspector.vulns.model import Counts

    n = base.layers if base else 0
    landed = [x for x in vulns.landed if x.layer is not None and x.layer >= n]
    counts = Counts()
    for item in landed:
        counts.add(item.finding)
    return replace(vulns, landed=landed, counts=counts, unmatched=0)
