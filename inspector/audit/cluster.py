"""The audit graph on a Dask distributed cluster (``--scheduler ADDRESS``).

Dask moves the layer indexes between workers and re-runs the tasks of a worker that dies,
but it waits for ever for a worker when there is none: a scheduler nobody joined, or
whose last worker died, keeps the tasks queued silently. So the driver watches: whenever
no worker is alive for ``patience`` seconds (``--cluster-timeout``), the audit fails with
one line; reaching the scheduler gets the same patience.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterable, Iterator
from typing import Any

from inspector.audit.graph import (
    Plan,
    Progress,
    Row,
    _failed_row,
    _result,
    image_task,
    layer_task,
    stats,
)
from inspector.errors import InspectorError

#: seconds between two looks at the cluster while nothing finishes
POLL_SECONDS = 1.0


class ClusterError(InspectorError):
    """The Dask cluster cannot run the audit (unreachable, or no live worker)."""


def run_dask(plan: Plan, spec: dict, scheduler: str, progress: Progress | None = None,
             extras: dict | None = None, *, patience: float = 60.0
             ) -> tuple[list[Row], dict[str, tuple]]:
    """Run the graph on the cluster at ``scheduler``; ``patience`` seconds to reach it and,
    whenever no worker is alive, for one to join."""
    from distributed import Client

    try:
        client = Client(scheduler, timeout=patience, set_as_default=False)
    except ValueError as exc:  # no port, an unknown scheme …
        raise ClusterError(f"--scheduler {scheduler!r} is not a Dask scheduler address: {exc}",
                           hint="e.g. tcp://host:8786") from exc
    except (OSError, TimeoutError) as exc:  # Dask's message repeats the address and time
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler} within "
                           f"{patience:g} s",
                           hint="check --scheduler ADDRESS (e.g. tcp://host:8786), or raise "
                                "--cluster-timeout") from exc
    with client:
        layer_futures = {
            diff_id: client.submit(layer_task, pinned, position, diff_id, spec,
                                   key=f"audit-layer-{diff_id}", pure=False, retries=2)
            for diff_id, (pinned, position) in plan.sources.items()}
        stat_futures = {client.submit(stats, f, key=f"audit-stats-{d}", pure=False): d
                        for d, f in layer_futures.items()}
        image_futures = {}
        rows: dict[int, Row] = {}
        for i, p in enumerate(plan.images):
            if p.error is not None:
                rows[i] = Row(p.reference, error=p.error)
                continue
            deps = [layer_futures[la.diff_id] for la in p.layers]
            image_futures[client.submit(image_task, p.reference, p.pinned, spec, extras or {},
                                        *deps,
                                        key=f"audit-image-{i}-{p.manifest_digest}",
                                        pure=False, retries=2)] = i
        layer_stats: dict[str, tuple] = {}
        n_layers, n_images = len(layer_futures), len(plan.images)
        for future in completed(client, [*stat_futures, *image_futures], scheduler, patience):
            if future in stat_futures:
                d = stat_futures[future]
                layer_stats[d] = _result(future, lambda message: (False, 0, message))
                if progress:
                    progress("layer", len(layer_stats), n_layers)
            else:
                i = image_futures[future]
                rows[i] = _result(future, _failed_row(plan.images[i].reference))
                if progress:
                    progress("image", len(rows), n_images)
    return [rows[i] for i in range(len(plan.images))], layer_stats


def completed(client, futures: Iterable[Any], scheduler: str, patience: float) -> Iterator[Any]:
    """``futures`` as they finish; ``ClusterError`` once no worker has been alive for
    ``patience`` seconds while some are still pending."""
    finished: queue.Queue = queue.Queue()
    pending = list(futures)
    for future in pending:
        future.add_done_callback(finished.put)  # called on Dask's thread, done or failed
    waiting = {id(f): f for f in pending}
    seen_worker = _live_workers(client) > 0
    alone_since: float | None = None
    last_look = time.monotonic()
    while waiting:
        try:
            ready = [finished.get(timeout=POLL_SECONDS)]
        except queue.Empty:
            # a done callback can be missed when a worker dies and the task is run again:
            # every quiet second, ask the futures themselves
            ready = [f for f in waiting.values() if f.done()]
        for future in ready:
            if waiting.pop(id(future), None) is not None:  # each future once
                yield future
        remaining = len(waiting)
        now = time.monotonic()
        if not remaining or now - last_look < POLL_SECONDS:
            continue
        last_look = now
        if _live_workers(client):
            seen_worker, alone_since = True, None
            continue
        alone_since = alone_since if alone_since is not None else now
        if now - alone_since >= patience:
            why = "its last worker left" if seen_worker else "no worker connected"
            raise ClusterError(f"the Dask scheduler at {scheduler} has had no live worker for "
                               f"{patience:g} s ({why}); {remaining} tasks still waiting",
                               hint="start workers (dask worker ADDRESS) or raise "
                                    "--cluster-timeout")


def _live_workers(client) -> int:
    """Workers the scheduler knows now (0 when it cannot be asked)."""
    try:
        return len(client.nthreads())
    except (OSError, TimeoutError):
        return 0
