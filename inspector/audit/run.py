"""The audit's entry point: plan the graph (``graph.py``), run it on the engine asked for
(inline or a local process pool: ``graph.run_executor``; a Dask cluster: ``cluster.run_dask``)
and sum up. It sits above both engines, so neither imports the other's caller (``cluster``
imports ``graph``; nothing in ``graph`` imports ``cluster``)."""

from __future__ import annotations

from collections.abc import Sequence

from inspector.audit.graph import (
    AuditResult,
    InlineExecutor,
    Plan,
    Progress,
    local_executor,
    plan_images,
    portable,
    run_executor,
)
from inspector.audit.report import Row
from inspector.options import Options


def audit(references: Sequence[str], options: Options | None = None, *,
          engine: str = "local", workers: int | None = None, scheduler: str | None = None,
          progress: Progress | None = None, rules: str | None = None,
          fit: bool = False, cluster_timeout: float = 60.0) -> AuditResult:
    """Audit ``references``; ``engine`` is ``inline``, ``local`` or ``dask`` (with
    ``scheduler``; ``cluster_timeout``: seconds to wait for it to answer, and for a live
    worker whenever there is none, see ``cluster.run_dask``). Each row says which ``inspector check`` rules fail (``rules``: a
    rules file, ``None`` for the defaults) and, with ``fit``, the smallest distroless base
    the application runs on. Rows come back in the order of ``references``."""
    from inspector.check.config import load

    options = options or Options()
    load(rules)  # a bad rules file fails here, once, before any work (RulesError)
    plan = plan_images(references, options)
    spec = portable(options)
    extras = {"rules": rules, "fit": fit}
    if engine == "dask":
        if not scheduler:
            raise ValueError("the dask engine needs a scheduler address")
        from inspector.audit.cluster import run_dask

        rows, layer_stats = run_dask(plan, spec, scheduler, progress, extras,
                                     patience=cluster_timeout)
    else:
        executor = InlineExecutor() if engine == "inline" else local_executor(workers)
        with executor:
            rows, layer_stats = run_executor(plan, spec, executor, progress, extras)
    return _summarise(rows, plan, layer_stats)


def _summarise(rows: list[Row], plan: Plan, layer_stats: dict[str, tuple]) -> AuditResult:
    sizes = {la.diff_id: la.compressed_size for p in plan.images for la in p.layers}
    result = AuditResult(rows, plan, layer_tasks=len(plan.sources))
    for cached, read, _error in layer_stats.values():
        result.layers_indexed += not cached
        result.bytes_read += read
    references = sum(la.compressed_size for p in plan.images if p.error is None
                     for la in p.layers)
    result.bytes_saved = references - sum(sizes[d] for d in plan.sources)
    users: dict[str, int] = {}
    for p in plan.images:
        if p.error is None:
            for d in {la.diff_id for la in p.layers}:
                users[d] = users.get(d, 0) + 1
    for row, p in zip(rows, plan.images, strict=True):
        if p.error is None:
            row.shared_layers = sum(1 for la in p.layers if users[la.diff_id] > 1)
    return result
