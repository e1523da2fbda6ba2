"""Load an image in a thread worker: open it, analyse it, post progress batched by time.

The core's progress callback runs on the indexing threads; ``ProgressBatcher`` keeps the
latest state per layer and posts one ``LoadProgress`` at most every ``PROGRESS_INTERVAL``.
Cancellation is the core's: a per-load ``threading.Event`` the screen sets on Esc.
"""

from __future__ import annotations

import dataclasses
import gc
import threading
import time
from collections.abc import Callable

from textual.message import Message

from inspector.analysis import Analysis, LayerMemo, analyze, open_image
from inspector.errors import Cancelled, InspectorError
from inspector.index.progress import LayerProgress
from inspector.options import Options
from inspector.tui.messages import AnalysisFailed, AnalysisReady, LayerState, LoadProgress

#: seconds between progress messages for one image
PROGRESS_INTERVAL = 0.1


class ProgressBatcher:
    """Collects per-layer progress from any thread; posts a snapshot at most every
    ``interval`` seconds (and always on ``flush``)."""

    def __init__(self, reference: str, post: Callable[[Message], object],
                 interval: float = PROGRESS_INTERVAL) -> None:
        self.reference = reference
        self.post = post
        self.interval = interval
        self.stage = "opening"
        self.layers: list[LayerState] = []
        self._lock = threading.Lock()
        self._last = 0.0

    def start(self, sizes: list[int], tocs: list[bool] | None = None) -> None:
        """The image is open: its layers' compressed sizes (bytes, base-first) and which
        will be listed from a table of contents."""
        with self._lock:
            self.layers = [LayerState(size, toc=toc)
                           for size, toc in zip(sizes, tocs or [False] * len(sizes), strict=True)]
            self.stage = "indexing"
        self.flush()

    def __call__(self, p: LayerProgress) -> None:
        with self._lock:
            if p.index < len(self.layers):
                self.layers[p.index] = LayerState(p.compressed_total, p.compressed_done,
                                                  p.uncompressed_done, p.state, p.toc)
            now = time.monotonic()
            # a layer's end always shows (the last one's "done" was dropped when it came
            # within the interval, and the panel then stopped short of the totals)
            if now - self._last < self.interval and p.state not in ("done", "cached"):
                return
            self._last = now
            snapshot = [dataclasses.replace(s) for s in self.layers]
        self.post(LoadProgress(self.reference, self.stage, snapshot))

    def flush(self, stage: str | None = None) -> None:
        with self._lock:
            if stage:
                self.stage = stage
            snapshot = [dataclasses.replace(s) for s in self.layers]
            self._last = time.monotonic()
        self.post(LoadProgress(self.reference, self.stage, snapshot))


def load_blocking(reference: str, options: Options, memo: LayerMemo,
                  post: Callable[[Message], object]) -> Analysis | None:
    """Open and analyse ``reference`` on the calling (worker) thread; the outcome is posted
    as ``AnalysisReady`` or ``AnalysisFailed`` (never raised: the app stays up)."""
    progress = ProgressBatcher(reference, post)
    progress.flush()
    try:
        image = open_image(reference, options, listing=True, memo=memo)
        progress.start([layer.compressed_size for layer in image.layers],
                       [layer.toc is not None and not options.full for layer in image.layers])
        analysis = analyze(image, options, progress=progress, memo=memo)
    except Cancelled:
        post(AnalysisFailed(reference, f"{reference}: loading cancelled", cancelled=True))
        return None
    except InspectorError as exc:
        post(AnalysisFailed(reference, str(exc)))
        return None
    except Exception as exc:  # a bug must not take the app down: show it, keep going
        post(AnalysisFailed(reference, f"{reference}: {type(exc).__name__}: {exc}"))
        return None
    # the analysis lives as long as the app: keep the cyclic GC from re-scanning its large
    # heap on random key presses (60–100 ms pauses on 150k-entry images); refcounting
    # still frees it when an image is removed
    gc.freeze()
    post(AnalysisReady(reference, analysis))
    return analysis


def fresh_options(options: Options) -> Options:
    """``options`` with its own cancel event, so cancelling one load stops only that one."""
    return dataclasses.replace(options, cancel=threading.Event())
