"""N images → one side-by-side ``CompareResult`` (sizes, shared layers, categories,
packages, files, findings).

    result = compare_references(["sample:debian-12-slim", "sample:distroless-static"], options)
    result = compare_analyses([analysis_a, analysis_b])      # the TUI: already analysed

``compare_references`` analyses the images concurrently (one thread per image, one shared
``LayerMemo`` so a layer two images share is indexed once) and closes them afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from inspector.analysis import Analysis, LayerMemo, workers
from inspector.compare import diff
from inspector.compare.labels import labels_for, short_label
from inspector.compare.model import (
    CHANGE_REASONS,
    CategoryCell,
    CategoryRow,
    CompareResult,
    FileChange,
    FileDiff,
    FileRef,
    ImageSummary,
    LayerSummary,
    PackageDiff,
    PackageRef,
    PairVerdict,
    RunsAs,
    Security,
    SharedLayer,
    VersionChange,
)
from inspector.errors import Cancelled
from inspector.options import Options
from inspector.provenance import Base, detect_base, given_base, split
from inspector.sources.waits import result

__all__ = [
    "CHANGE_REASONS", "CategoryCell", "CategoryRow", "CompareResult", "FileChange",
    "FileDiff", "FileRef", "ImageSummary", "LayerSummary", "PackageDiff", "PackageRef",
    "PairVerdict", "RunsAs", "Security", "SharedLayer", "VersionChange", "compare_analyses", "compare_references", "labels_for",
    "short_label",
]

#: images analysed at once (each also indexes its layers in parallel)
IMAGE_WORKERS = 4

AnalyzeFn = Callable[[str, Options, LayerMemo], Analysis]


def compare_analyses(analyses: Sequence[Analysis], labels: Sequence[str] | None = None, *,
                     bases: Sequence[Base | None] | None = None) -> CompareResult:
    """Compare analysed images (in the given order; at least one). ``bases`` (per image,
    ``--base-image``): each image's base, else detected among the images compared and the
    bundled samples (``provenance.detect_base``); the figures are split on it."""
    if not analyses:
        raise ValueError("compare_analyses needs at least one analysis")
    labels = list(labels) if labels is not None else labels_for([a.reference for a in analyses])
    images, shared = diff.summarize(analyses, labels)
    if bases is None:
        bases = [detect_base(a, analyses) for a in analyses]
    for image, analysis, base in zip(images, analyses, bases, strict=True):
        image.base = split(analysis, base)
    tables = [diff.attrs(a.fs) for a in analyses]
    return CompareResult(
        images=images,
        categories=diff.categories(analyses, labels),
        packages=diff.packages(analyses),
        files=diff.files(analyses, tables),
        findings=diff.findings(analyses),
        shared_layers=shared,
        pairs=diff.pairs(tables),
        security=diff.security(analyses),
    )


def _default_analyze(reference: str, options: Options, memo: LayerMemo) -> Analysis:
    from inspector.analysis import analyze, open_image

    image = open_image(reference, options)
    try:
        return analyze(image, options, memo=memo)
    except BaseException:
        image.close()
        raise


def compare_references(refs: Sequence[str], options: Options | None = None,
                       analyze: AnalyzeFn | None = None,
                       base_image: str | None = None) -> CompareResult:
    """Open and analyse ``refs`` concurrently, compare them, close them.

    ``analyze(reference, options, memo)`` returns an ``Analysis`` (the CLI passes one that
    draws progress). The first failure cancels the others (``options.cancel``) and is
    raised once every image is closed. ``base_image`` (``--base-image``) is every image's
    base (refused for an image it does not start)."""
    options = options or Options()
    analyze = analyze or _default_analyze
    memo = LayerMemo()
    refs = list(refs)
    analyses, errors = [], []
    with workers(max(1, min(IMAGE_WORKERS, len(refs))), "compare", options.cancel) as pool:
        futures = [pool.submit(analyze, ref, options, memo) for ref in refs]
        for future in futures:
            try:
                analyses.append(result(future))
            except KeyboardInterrupt:
                for a in analyses:
                    a.image.close()
                raise  # not waiting for the others (analysis.workers)
            except BaseException as exc:  # noqa: BLE001 - re-raised below, after closing
                errors.append(exc)
                options.cancel.set()
    try:
        if errors:
            real = [e for e in errors if not isinstance(e, Cancelled)]
            raise (real or errors)[0]
        bases = None if not base_image else [given_base(a, base_image, options)
                                             for a in analyses]
        return compare_analyses(analyses, bases=bases)
    finally:
        for a in analyses:
            a.image.close()
