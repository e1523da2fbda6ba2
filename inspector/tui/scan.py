"""The scanner reports and base image the TUI was started with (``--vulns FILE`` per image,
``--vulns-any-image``, ``--base-image REF``), and laying them over a comparison: the
overlays (``inspector.vulns``) and the base split (``inspector.provenance``). The reports
are read and checked against their images by the CLI before the TUI starts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from inspector.errors import InspectorError

if TYPE_CHECKING:
    from inspector.analysis import Analysis
    from inspector.compare import CompareResult
    from inspector.options import Options
    from inspector.vulns import Overlay, Report


@dataclass
class ScanInput:
    #: a scanner report by image reference (the images named on the command line)
    reports: dict[str, Report] = field(default_factory=dict)
    any_image: bool = False
    base_image: str | None = None


def prepare(references: Sequence[str], paths: Sequence[str] | None, any_image: bool,
            base_image: str | None, options: Options) -> ScanInput:
    """The CLI's ``--vulns`` / ``--vulns-any-image`` / ``--base-image`` for the TUI: the
    reports read (one per image, in image order) and checked against their images."""
    from inspector.vulns import load_reports

    reports = load_reports(paths, len(references), "inspector")
    if reports:
        check_reports(references, reports, options, any_image)
    return ScanInput(dict(zip(references, reports or [], strict=False)), any_image,
                     base_image)


def check_reports(references: Sequence[str], reports: Sequence[Report], options: Options,
                  any_image: bool) -> None:
    """Before the TUI starts: each report must name its image (``vulns.check_image``, one
    line, exit 2). Only the images' manifests and configs are read, not their layers."""
    from types import SimpleNamespace

    from inspector.analysis import Analysis, open_image
    from inspector.vulns import check_image

    if any_image:
        return
    for reference, report in zip(references, reports, strict=True):
        image = open_image(reference, options)
        try:  # check_image reads the image's layers and digests and the reference
            check_image(report, cast(Analysis, SimpleNamespace(image=image,
                                                               reference=reference)))
        finally:
            image.close()


def lay_over(result: CompareResult, analyses: Sequence[Analysis], scan: ScanInput,
             options: Options) -> tuple[list[Overlay | None] | None, str | None]:
    """The overlays of the images compared (None for an image without a report; None when
    none has one), also set as ``result.vulns`` / ``vuln_pairs`` when every image has one
    (the reports need them all), and the base split from ``--base-image``; then what could
    not be laid over, in one line (else None)."""
    from inspector.vulns import overlay, pair_vulns

    problems = []
    if scan.base_image:
        from inspector.provenance import given_base, split

        for image, analysis in zip(result.images, analyses, strict=True):
            try:
                image.base = split(analysis, given_base(analysis, scan.base_image, options))
            except InspectorError as exc:
                problems.append(str(exc))
    if not scan.reports:
        return None, "; ".join(problems) or None
    overlays: list[Overlay | None] = []
    for analysis in analyses:
        report = report_for(analysis, scan)
        try:
            overlays.append(None if report is None else
                            overlay(report, analysis, any_image=scan.any_image))
        except InspectorError as exc:
            overlays.append(None)
            problems.append(str(exc))
    present = [ov for ov in overlays if ov is not None]
    if len(present) == len(overlays):
        result.vulns = present
        result.vuln_pairs = pair_vulns(present)
    return overlays, "; ".join(problems) or None


def report_for(analysis: Analysis, scan: ScanInput) -> Report | None:
    """The report of ``analysis``'s image: the one given for its reference, else (an image
    added with ``a``, or the same image under another name) the first that names its
    layers or digests (``vulns.check_image``). None when none does; with
    ``--vulns-any-image`` only the reference counts (any report would pass the check)."""
    report = scan.reports.get(analysis.reference)
    if report is not None or scan.any_image:
        return report
    from inspector.vulns import check_image

    for candidate in scan.reports.values():
        try:
            check_image(candidate, analysis)
        except InspectorError:
            continue
        return candidate
    return None


def image_overlay(analysis: Analysis, scan: ScanInput) -> tuple[Overlay | None, str | None]:
    """The report of one inspected image laid over it (None without one), and what went
    wrong laying it, in one line."""
    from inspector.vulns import overlay

    report = report_for(analysis, scan)
    if report is None:
        return None, None
    try:
        return overlay(report, analysis, any_image=scan.any_image), None
    except InspectorError as exc:
        return None, str(exc)


def package_counts(ov: Overlay | None) -> Counter[str]:
    """Findings per package name of one image's overlay (empty without one)."""
    counts: Counter[str] = Counter()
    if ov is not None:
        for index, items in ov.by_package().items():
            counts[ov.package_names.get(index, "")] += len(items)
    return counts
