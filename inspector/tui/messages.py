"""App-wide messages: what the loading workers tell the screens."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from inspector.analysis import Analysis


@dataclass
class LayerState:
    """One layer's progress, as shown while loading. Sizes in bytes."""

    compressed_total: int
    compressed_done: int = 0
    uncompressed_done: int = 0
    state: str = "waiting"
    toc: bool = False  # listed from its table of contents: compressed_done was fetched by range


@dataclass
class LoadProgress(Message):
    """Progress of one image's loading (a snapshot; newer ones replace older ones)."""

    reference: str
    stage: str
    layers: list[LayerState]

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LoadProgress) and message.reference == self.reference


@dataclass
class AnalysisReady(Message):
    """An image is analysed."""

    reference: str
    analysis: Analysis


@dataclass
class AnalysisFailed(Message):
    """Loading an image failed or was cancelled; ``error`` is the one-line message."""

    reference: str
    error: str
    cancelled: bool = False


@dataclass
class DrillDown(Message):
    """Open the Files tab filtered by ``term`` (``category:shell``, ``package:bash``): a
    claim's evidence, from a category or package row."""

    term: str
