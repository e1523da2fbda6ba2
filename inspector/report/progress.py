"""Headless progress on stderr: one line per image, redrawn in place, only on a terminal
and never with ``-q``. Bytes read (downloaded) or fetched by range (a table of contents)
of the image's compressed size, and bytes indexed. ``transferred`` is the phrase the TUI's
loading screen shows too."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, TextIO

from inspector.index.progress import LayerProgress
from inspector.report.sizes import human
from inspector.visible import visible

DONE = ("done", "cached")


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f}"


class LayerBytes(Protocol):
    """What ``transferred`` reads of a layer's progress (``LayerProgress``, the TUI's
    ``LayerState``)."""

    compressed_total: int
    compressed_done: int
    state: str
    toc: bool


def transferred(layers: Iterable[LayerBytes]) -> str:
    """How many bytes loading moved of the image's compressed size, one phrase:
    ``fetched 2.5 MB of 28.3 MB (table of contents)`` when layers are listed from their
    table of contents (HTTP ranges), ``read 12.0 MB of 28.3 MB`` for a full pull (from the
    registry or its blob cache); a layer found in the index cache moves nothing. ``""``
    before the sizes are known."""
    layers = list(layers)
    total = sum(p.compressed_total for p in layers)
    if not layers or not total:
        return ""
    cached = sum(1 for p in layers if p.state == "cached")
    tocs = sum(1 for p in layers if p.toc and p.state != "cached")
    moved = sum(p.compressed_done for p in layers if p.state != "cached")
    notes = []
    if tocs:
        notes.append("table of contents" if tocs == len(layers) - cached
                     else f"{tocs} of {len(layers)} layers by table of contents")
    if cached:
        notes.append(f"{cached} of {len(layers)} layers cached")
    return (f"{'fetched' if tocs else 'read'} {human(moved)} of {human(total)}"
            + (f" ({', '.join(notes)})" if notes else ""))


def finished(layers: Iterable[LayerBytes]) -> float:
    """The fraction of the image's compressed bytes whose layers are done (a layer listed
    from its table of contents counts whole once done: it never reads all its bytes)."""
    layers = list(layers)
    total = sum(p.compressed_total for p in layers)
    done = sum(p.compressed_total if p.state in DONE else p.compressed_done for p in layers)
    return min(1.0, done / total) if total else 0.0


class TerminalLine:
    """One line of ``stream`` (stderr) redrawn in place, only on a terminal, at most 10 times
    a second: ``due`` says whether to draw now (always for the ``final`` state), ``draw``
    writes, ``finish`` clears what was drawn. The loading line and ``fit --build``'s."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.last = 0.0
        self.drawn = False

    def due(self, *, final: bool = False) -> bool:
        if not self.enabled:
            return False
        now = time.monotonic()
        if now - self.last < 0.1 and not final:
            return False
        self.last = now
        return True

    def draw(self, text: str) -> None:
        self.drawn = True
        self.stream.write("\r" + text + "\x1b[K")
        self.stream.flush()

    def finish(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


class StderrProgress:
    """A callback for ``analysis.analyze(progress=...)``; thread-safe, redraws ≤ 10/s."""

    def __init__(self, label: str, total_layers: int, stream: TextIO | None = None, *,
                 sizes: Sequence[int] = ()) -> None:
        """``sizes``: the layers' compressed sizes (bytes, base-first) when known, so the
        line says "of" the whole image from the start."""
        self.line = TerminalLine(stream)
        self.stream, self.enabled = self.line.stream, self.line.enabled
        self.label = visible(label)  # a reference, maybe from a list file
        self.total_layers = total_layers
        self.layers: dict[tuple[object, int], LayerProgress] = {}  # (image key, layer index)
        self.lock = threading.Lock()
        self._expect(None, sizes)

    def _expect(self, key: object, sizes: Sequence[int]) -> None:
        for i, size in enumerate(sizes):
            self.layers.setdefault((key, i), LayerProgress(i, "", size))

    def __call__(self, p: LayerProgress, key: object = None) -> None:
        if not self.enabled:
            return
        with self.lock:
            self.layers[(key, p.index)] = LayerProgress(
                p.index, p.digest, p.compressed_total, p.compressed_done,
                p.uncompressed_done, p.state, p.toc)
            if self.line.due(final=p.state in DONE):
                self._draw()

    def for_image(self, key: object, layers: int,
                  sizes: Sequence[int] = ()) -> Callable[[LayerProgress], None]:
        """A callback for one of several images drawn on this one line (compare)."""
        with self.lock:
            self.total_layers += layers
            self._expect(key, sizes)
        return lambda p: self(p, key)

    def _draw(self) -> None:
        layers = list(self.layers.values())
        done = sum(1 for p in layers if p.state in DONE)
        indexed = sum(p.uncompressed_done for p in layers)
        width = 24
        fill = int(width * finished(layers))
        bar = "█" * fill + "░" * (width - fill)
        self.line.draw(f"{self.label[:40]}  {bar} layers {done}/{self.total_layers}  "
                       f"{transferred(layers)}  indexed {_mb(indexed)} MB")

    def finish(self) -> None:
        self.line.finish()
