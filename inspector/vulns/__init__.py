"""Scanner overlay: the user's grype, trivy or CycloneDX report laid over an analysed
image. No vulnerability database is read: the scanner's output is the input, and its
name, version and database time go wherever its counts do.

    report = load_report("debian.grype.json")          # format told by content
    ov = overlay(report, analysis)                      # refuses another image's report
    ov = overlay(report, analysis, any_image=True)      # --vulns-any-image
    pair_vulns([ov_a, ov_b])                            # what image 2 drops / adds vs 1
    export_json(ov), image_json(ov), pair_json(p)       # the JSON contracts' parts

``read.py`` reads (size cap, strict JSON, typed fields), ``formats.py`` parses the three
formats into ``model.Report``, ``join.py`` checks the image and lands each finding on a
package, its files, category and layer. Headless: stdlib only, plus the core.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from inspector.errors import ReportError
from inspector.vulns.join import check_image, overlay, package_files
from inspector.vulns.model import (
    FIX_STATES,
    SEVERITIES,
    Counts,
    Landed,
    Overlay,
    PairVulns,
    Report,
    Scanner,
)

__all__ = ["FIX_STATES", "SEVERITIES", "Counts", "Landed", "Overlay", "PairVulns", "Report",
           "Scanner", "attach", "check_image", "export_json", "image_json", "load_report",
           "load_reports", "overlay", "package_files", "pair_json", "pair_vulns"]

def load_report(path: str) -> Report:
    """Read and parse one report (``ReportError``, one line, on anything wrong)."""
    from inspector.vulns.formats import PARSERS
    from inspector.vulns.read import HINT, detect, load_json, read_report_text

    doc = load_json(path, read_report_text(path))
    fmt = detect(doc)
    if fmt is None:
        raise ReportError(f"{path}: not a scanner report: no grype matches/descriptor, trivy "
                          f"SchemaVersion/Results or CycloneDX bomFormat ({HINT})", where=path)
    return PARSERS[fmt](doc, path)


def load_reports(paths: Sequence[str] | None, images: int, command: str) -> list[Report] | None:
    """The ``--vulns`` files of a command over ``images`` images: one per image, in image
    order (read before any image is opened, so a bad file fails fast)."""
    if not paths:
        return None
    if len(paths) != images:
        raise ReportError(f"{command}: --vulns given {len(paths)} time(s) for {images} "
                          "image(s): give one scanner report per image, in image order")
    return [load_report(p) for p in paths]


def attach(result, analyses: Sequence, reports: Sequence[Report],
           any_image: bool = False) -> None:
    """Lay ``reports`` over the compared ``analyses`` (image order) and set
    ``result.vulns`` and ``result.vuln_pairs`` (a ``CompareResult``)."""
    overlays = [overlay(r, a, any_image=any_image)
                for r, a in zip(reports, analyses, strict=True)]
    result.vulns = overlays
    result.vuln_pairs = pair_vulns(overlays)


def _key(ov: Overlay, item: Landed) -> tuple[str, str, str]:
    pkg = item.finding.package
    return item.finding.id, pkg.type, pkg.name or ov.name_of(item)


def _diff(a: Overlay, b: Overlay) -> tuple[Counts, list[str]]:
    """Findings of ``a`` with no finding of the same (id, type, package) in ``b``; their
    packages, most findings first."""
    keys = {_key(b, item) for item in b.landed}
    counts, names = Counts(), Counter[str]()
    for item in a.landed:
        if _key(a, item) not in keys:
            counts.add(item.finding)
            names[a.name_of(item)] += 1
    return counts, [name for name, _ in names.most_common()]


def pair_vulns(overlays: Sequence[Overlay | None]) -> list[PairVulns | None]:
    """Image i (1..N-1) against the first, in image order; None where either has no
    report."""
    base = overlays[0] if overlays else None
    out: list[PairVulns | None] = []
    for i, ov in enumerate(overlays[1:], 1):
        if base is None or ov is None:
            out.append(None)
            continue
        dropped, dropped_pkgs = _diff(base, ov)
        added, added_pkgs = _diff(ov, base)
        out.append(PairVulns(i, base.counts.total, dropped, added, dropped_pkgs, added_pkgs))
    return out


def image_json(ov: Overlay) -> dict:
    """``vulnerabilities`` of an image in ``inspector.compare/v1``."""
    per_pkg: Counter[str] = Counter(ov.name_of(item) for item in ov.landed if item.matched)
    per_layer: Counter[int] = Counter(item.layer for item in ov.landed if item.layer is not None)
    return {"scanner": ov.scanner.as_json(), **ov.counts.as_json(),
            "unmatched": ov.unmatched, "layer_disagreements": ov.layer_disagreements,
            "packages": dict(per_pkg.most_common()),
            "layers": [per_layer[i] for i in range(ov.layer_count)]}


def pair_json(p: PairVulns, which: str) -> dict:
    """``vulns_dropped`` / ``vulns_added`` of a pair."""
    counts, pkgs = (p.dropped, p.dropped_packages) if which == "dropped" else (
        p.added, p.added_packages)
    return {**counts.as_json(), "of": p.base_total if which == "dropped" else None,
            "packages": pkgs}


def export_json(ov: Overlay) -> dict:
    """``vulnerabilities`` in ``inspector.export/v1``: the scanner, the totals, and per
    package (its 0-based index in ``packages``) the vulnerability ids; then what landed
    nowhere."""
    per: dict[int, list[Landed]] = ov.by_package()
    return {
        "scanner": ov.scanner.as_json(),
        "totals": {**ov.counts.as_json(), "unmatched": ov.unmatched,
                   "layer_disagreements": ov.layer_disagreements},
        "packages": [{"package": i, "name": ov.package_names.get(i, ""),
                      "layer": items[0].layer, "category": items[0].category,
                      "ids": [x.finding.id for x in items],
                      "severities": [x.finding.severity for x in items]}
                     for i, items in sorted(per.items())],
        "unmatched": [{"id": x.finding.id, "type": x.finding.package.type,
                       "name": x.finding.package.name, "version": x.finding.package.version,
                       "purl": x.finding.package.purl, "severity": x.finding.severity}
                      for x in ov.landed if not x.matched],
    }
