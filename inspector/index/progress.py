"""Where one layer's indexing stands: the message the indexer sends to progress displays.

Its own module so that a display (the CLI's progress line, the TUI's loading panel) does not
import the walker and the capture table, which a run whose layers are all cached never needs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LayerProgress:
    """Where one layer's indexing stands. Sizes in bytes."""

    index: int  # layer position, base-first
    digest: str
    compressed_total: int
    compressed_done: int = 0  # blob bytes read (downloaded, for a registry)
    uncompressed_done: int = 0  # tar bytes indexed
    state: str = "waiting"  # waiting|reading|cached|done|failed
    #: listed from its table of contents (``Layer.toc``): ``compressed_done`` is the bytes
    #: fetched by range, not a pull of the blob
    toc: bool = False
