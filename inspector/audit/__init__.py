"""``inspector audit``: every image of a fleet, each shared layer indexed once.

The work is a graph (``graph.py``): one task per distinct layer (keyed by diff_id, however
many images share it), one task per image (merge, catalog, classify: ``analyze`` fed with
the layer tasks' indexes), then one report (``report.py``). ``run.audit`` plans it and
hands it to an engine:

    inline   in this process, one task after another (tests, ``--workers 1``)
    local    a process pool sized to the machine (the default: no setup)
    dask     an existing Dask distributed cluster (``--scheduler ADDRESS``; ``cluster.py``)

The three give identical rows; they differ only in where the tasks run. Inputs
(``inputs.py``): references, ``--from FILE``, or a registry's ``/v2/_catalog``.
"""

from __future__ import annotations

from inspector.audit.graph import AuditResult, LayerRef, Plan, plan_images
from inspector.audit.report import Row, render
from inspector.audit.run import audit

__all__ = ["AuditResult", "LayerRef", "Plan", "Row", "audit", "plan_images", "render"]
