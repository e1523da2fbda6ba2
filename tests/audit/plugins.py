"""Dask worker plugins for the audit tests (shipped to workers by value)."""

from __future__ import annotations

import os

from distributed import WorkerPlugin


class KillOnFirstLayerTask(WorkerPlugin):
    """The first worker to start an audit layer task dies at once (``os._exit``), as a
    worker lost to the OOM killer would; ``marker`` makes it happen once per cluster."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def transition(self, key, start, finish, **kwargs) -> None:
        if finish == "executing" and str(key).startswith("audit-layer-"):
            try:
                fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return
            os.close(fd)
            os._exit(1)
