"""The audit as a graph of tasks, and the engines that run it.

    plan_images(refs)      open each image for its manifest and config only (in threads:
                           registry round trips), pin registry tags to the digest read
    layer_task(...)        one per distinct diff_id: index the layer (or read its cached
                           index); the first image that has the layer is its source
    image_task(...)        one per image: ``analyze`` fed with its layers' indexes
                           (nothing is indexed twice), then the image's ``Row``

Task functions are module-level and take only picklable values (references, a dict of
options, ``LayerIndex`` objects), so the same graph runs inline, in a process pool or on a
Dask cluster. Expected failures come back as values (``LayerOutcome.error``,
``Row.error``), never as exceptions that would have to cross a process boundary: one
image's failure is its row, and the audit goes on.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from inspector.audit.report import Row, row_from_analysis
from inspector.errors import InspectorError
from inspector.index.entries import LayerIndex
from inspector.options import Options

#: images whose manifests are read at once while planning (network round trips)
PLAN_WORKERS = 8


@dataclass(frozen=True)
class LayerRef:
    diff_id: str
    digest: str
    compressed_size: int  # bytes


@dataclass
class Planned:
    """One image of the audit: what the report shows and where its tasks read it."""

    reference: str  # as the user (or the catalog) gave it
    pinned: str = ""  # what the tasks open: a registry tag pinned to the digest read
    manifest_digest: str = ""
    layers: list[LayerRef] = field(default_factory=list)
    error: str | None = None


@dataclass
class Plan:
    images: list[Planned]
    #: diff_id → (pinned reference, layer position) of the first image that has it
    sources: dict[str, tuple[str, int]] = field(default_factory=dict)

    @property
    def layer_references(self) -> int:
        return sum(len(p.layers) for p in self.images if p.error is None)


@dataclass
class LayerOutcome:
    diff_id: str
    index: LayerIndex | None = None
    cached: bool = False
    read_bytes: int = 0  # compressed bytes read to index it (0 when cached)
    error: str | None = None


@dataclass
class AuditResult:
    rows: list[Row]
    plan: Plan
    layer_tasks: int = 0  # distinct layers, each one task
    layers_indexed: int = 0  # of those, read and indexed (not from the cache)
    bytes_read: int = 0  # compressed bytes read by layer tasks
    bytes_saved: int = 0  # compressed bytes of layer references that no task re-read

    @property
    def failed(self) -> int:
        return sum(1 for r in self.rows if r.error)


# -- options across process boundaries -------------------------------------------------------
def portable(options: Options) -> dict:
    """``options`` as plain values (the cancel event stays behind)."""
    return {f.name: getattr(options, f.name) for f in dataclasses.fields(options)
            if f.name != "cancel"}


def _options(spec: dict) -> Options:
    return Options(**spec)


# -- planning -----------------------------------------------------------------------------
def _plan_one(reference: str, options: Options) -> Planned:
    from inspector.analysis import open_image

    try:
        image = open_image(reference, options)
    except InspectorError as exc:
        return Planned(reference, error=str(exc))
    try:
        pinned = reference
        if image.source == "registry" and "@" not in reference.rsplit("/", 1)[-1]:
            pinned = f"{reference}@{image.manifest_digest}"
        layers = [LayerRef(la.diff_id, la.digest, la.compressed_size) for la in image.layers]
        return Planned(reference, pinned, image.manifest_digest, layers)
    finally:
        image.close()


def plan_images(references: Sequence[str], options: Options) -> Plan:
    """Read every image's manifest and config (not its layers), in order."""
    with ThreadPoolExecutor(max_workers=max(1, min(PLAN_WORKERS, len(references))),
                            thread_name_prefix="audit-plan") as pool:
        images = list(pool.map(lambda ref: _plan_one(ref, options), references))
    plan = Plan(images)
    for planned in images:
        if planned.error is None:
            for position, layer in enumerate(planned.layers):
                plan.sources.setdefault(layer.diff_id, (planned.pinned, position))
    return plan


# -- the tasks ----------------------------------------------------------------------------
def layer_task(pinned: str, position: int, diff_id: str, spec: dict) -> LayerOutcome:
    """Index layer ``position`` of ``pinned`` (or read its cached index)."""
    from inspector.analysis import open_image
    from inspector.index.cache import IndexCache
    from inspector.index.indexer import index_layer

    options = _options(spec)
    cache = None if options.no_cache else IndexCache(options.resolved_cache_dir())
    cached = cache.get(diff_id) if cache else None
    if cached is not None:
        return LayerOutcome(diff_id, cached, cached=True)
    try:
        with open_image(pinned, options) as image:
            layer = image.layers[position]
            if layer.diff_id != diff_id:
                return LayerOutcome(diff_id, error=f"{pinned}: layer {position + 1} changed "
                                    "since the audit was planned; run it again")
            what = f"{pinned}: layer {position + 1} ({layer.digest[:19]})"
            toc = None if options.full else layer.toc
            if toc is not None and toc.digest:
                cached = cache.get(f"toc:{toc.digest}") if cache else None
                if cached is not None:
                    return LayerOutcome(diff_id, cached, cached=True)
                index = _from_toc(layer, toc, what)
                if index is not None:
                    if cache:
                        cache.put(index)
                    return LayerOutcome(diff_id, index, read_bytes=toc.fetched)
            index = index_layer(layer, position=position, cancel=options.cancel, what=what)
    except InspectorError as exc:
        return LayerOutcome(diff_id, error=str(exc))
    if cache:
        cache.put(index)
    return LayerOutcome(diff_id, index, read_bytes=index.compressed_size)


def _from_toc(layer, toc, what: str) -> LayerIndex | None:
    """``layer``'s index from its table of contents (as ``analysis.index_layers`` builds
    it: the blob is not read); None when the TOC cannot be used (the layer is pulled)."""
    from inspector.classify import default_rules
    from inspector.errors import FormatError
    from inspector.index.from_toc import index_from_toc

    try:
        return index_from_toc(layer, toc, what=what, bin_dirs=default_rules().bin_dirs)
    except FormatError:  # Range refused, digest or shape wrong: the full pull, as analyze
        return None


def image_task(reference: str, pinned: str, spec: dict, extras: dict,
               *outcomes: LayerOutcome) -> Row:
    """Analyse one image from its layers' indexes; its row (or why it has none).
    ``extras``: ``rules`` (a rules file for the check, ``None`` for the defaults) and
    ``fit`` (work out the smallest distroless base)."""
    from inspector.analysis import LayerMemo, analyze, open_image
    from inspector.check.config import load

    failed = [o.error for o in outcomes if o.error]
    if failed:
        return Row(reference, error=failed[0])
    memo = LayerMemo()
    for outcome in outcomes:
        assert outcome.index is not None  # an outcome without an error has its index
        # under its diff_id and the key analyze asks for (``toc:…`` for a TOC-built one)
        for key in {outcome.diff_id, outcome.index.cache_key}:
            memo._entries[key] = outcome.index  # noqa: SLF001 - pre-filled memo
    options = _options(spec)
    try:
        image = open_image(pinned, options)
    except InspectorError as exc:
        return Row(reference, error=str(exc))
    try:
        analysis = analyze(image, options, memo=memo)
        bases = _fit_bases(options, memo) if extras.get("fit") else None
        try:
            return row_from_analysis(reference, analysis, rules=load(extras.get("rules")),
                                     fit_bases=bases)
        finally:
            for base in bases or ():
                base.image.close()
    except InspectorError as exc:
        return Row(reference, error=str(exc))
    finally:
        image.close()


def _fit_bases(options: Options, memo) -> list:
    """The candidate bases of ``inspector fit`` (the bundled distroless samples)."""
    from inspector.analysis import analyze, open_image
    from inspector.fit.bases import SAMPLE_BASES

    bases = []
    try:
        for ref in SAMPLE_BASES:
            image = open_image(ref, options)
            try:
                bases.append(analyze(image, options, memo=memo))
            except BaseException:
                image.close()
                raise
    except BaseException:
        for base in bases:
            base.image.close()
        raise
    return bases


def stats(outcome: LayerOutcome) -> tuple[bool, int, str | None]:
    """A layer outcome without its index (what the driver needs to count)."""
    return outcome.cached, outcome.read_bytes, outcome.error


# -- engines --------------------------------------------------------------------------------
Progress = Callable[[str, int, int], None]  # (event "layer"|"image", done, total)


class InlineExecutor(Executor):
    """Runs each task when it is submitted (``--workers 1`` and tests)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller via the future
            future.set_exception(exc)
        return future


def local_executor(workers: int | None = None) -> Executor:
    """A process pool sized to the machine (spawned: no inherited threads or locks)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    workers = workers or os.cpu_count() or 1
    if workers <= 1:
        return InlineExecutor()
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def run_executor(plan: Plan, spec: dict, executor: Executor, progress: Progress | None = None,
                 extras: dict | None = None) -> tuple[list[Row], dict[str, tuple]]:
    """Run the graph on a ``concurrent.futures`` executor: image tasks start as soon as
    their layers are indexed. Returns the rows (plan order) and per-layer stats."""
    pending: dict[Future, str | int] = {}  # layer tasks → diff_id, image tasks → position
    for diff_id, (pinned, position) in plan.sources.items():
        pending[executor.submit(layer_task, pinned, position, diff_id, spec)] = diff_id
    waiting = {i: {la.diff_id for la in p.layers} for i, p in enumerate(plan.images)
               if p.error is None}
    outcomes: dict[str, LayerOutcome] = {}
    rows: dict[int, Row] = {i: Row(p.reference, error=p.error)
                            for i, p in enumerate(plan.images) if p.error is not None}
    n_layers, n_images = len(plan.sources), len(plan.images)

    def start_ready() -> None:
        for i in [i for i, need in waiting.items() if need <= outcomes.keys()]:
            del waiting[i]
            p = plan.images[i]
            args = [outcomes[la.diff_id] for la in p.layers]
            pending[executor.submit(image_task, p.reference, p.pinned, spec, extras or {},
                                    *args)] = i

    start_ready()  # images with no layers
    while pending:
        done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
        for future in done:
            key = pending.pop(future)
            if isinstance(key, str):  # a layer task
                outcomes[key] = _result(future, _failed_layer(key))
                if progress:
                    progress("layer", len(outcomes), n_layers)
            else:
                rows[key] = _result(future, _failed_row(plan.images[key].reference))
                if progress:
                    progress("image", len(rows), n_images)
        start_ready()
    return [rows[i] for i in range(n_images)], {d: stats(o) for d, o in outcomes.items()}


def _failed_layer(diff_id: str) -> Callable[[str], LayerOutcome]:
    return lambda message: LayerOutcome(diff_id, error=message)


def _failed_row(reference: str) -> Callable[[str], Row]:
    return lambda message: Row(reference, error=message)


def _result(future, failed: Callable[[str], Any]) -> Any:
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - a bug in one task must not end the audit
        return failed(f"internal error: {type(exc).__name__}: {exc} (please report this)")
