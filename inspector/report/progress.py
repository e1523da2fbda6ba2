"""Headless progress on stderr: one line per image, redrawn in place, only on a terminal
and never with ``-q``. Per layer bytes read (downloaded) and indexed."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from inspector.index.progress import LayerProgress
from inspector.visible import visible


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f}"


class StderrProgress:
    """A callback for ``analysis.analyze(progress=...)``; thread-safe, redraws ≤ 10/s."""

    def __init__(self, label: str, total_layers: int, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.label = visible(label)  # a reference, maybe from a list file
        self.total_layers = total_layers
        self.layers: dict[tuple[object, int], LayerProgress] = {}  # (image key, layer index)
        self.lock = threading.Lock()
        self.last = 0.0

    def __call__(self, p: LayerProgress, key: object = None) -> None:
        if not self.enabled:
            return
        with self.lock:
            self.layers[(key, p.index)] = LayerProgress(
                p.index, p.digest, p.compressed_total, p.compressed_done,
                p.uncompressed_done, p.state)
            now = time.monotonic()
            if now - self.last < 0.1 and p.state not in ("done", "cached"):
                return
            self.last = now
            self._draw()

    def for_image(self, key: object, layers: int) -> Callable[[LayerProgress], None]:
        """A callback for one of several images drawn on this one line (compare)."""
        with self.lock:
            self.total_layers += layers
        return lambda p: self(p, key)

    def _draw(self) -> None:
        done = sum(1 for p in self.layers.values() if p.state in ("done", "cached"))
        read = sum(p.compressed_done for p in self.layers.values())
        total = sum(p.compressed_total for p in self.layers.values()) or 1
        indexed = sum(p.uncompressed_done for p in self.layers.values())
        width = 24
        fill = int(width * min(1.0, read / total))
        bar = "█" * fill + "░" * (width - fill)
        line = (f"\r{self.label[:40]}  {bar} layers {done}/{self.total_layers}  "
                f"read {_mb(read)} MB  indexed {_mb(indexed)} MB")
        self.stream.write(line + "\x1b[K")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self.layers:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
