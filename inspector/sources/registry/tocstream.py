"""A zstd:chunked TOC inflated, parsed and folded while it downloads.

A 150k-file layer's TOC is 8 MB compressed (0.4 s at 20 MB/s) and 47 MB of JSON, whose
inflating, parsing and folding into entries cost about as much CPU again: done after the
download, the two add up; done on each piece as it arrives (``RemoteToc.read_toc`` hands
``feed`` to the ranged read), the CPU runs while the rest is on the wire.

Only the shape containers/storage writes is streamed: ``{"version":1,"entries":[`` then
the items, then ``]}``, one zstd frame. The JSON is cut after each ``},{"`` once a
``PIECE`` has arrived; a cut inside a string leaves that piece unparseable (it ends in
the string), so a piece that parses is exactly the items the whole document holds there.
Anything else — another shape, a piece that does not parse, an item the fold refuses, a
body that is not the TOC (a multipart answer) — and ``finish`` answers None: the caller
reads the TOC as before, from its bytes, and raises the error that names what is wrong.
The digest is checked on the whole before any of it is used; what is inflated is bounded
by the announced size, each call to the inflater by ``SLICE``.
"""

from __future__ import annotations

import hashlib
import json

from inspector.sources.registry.chunked import (
    MAX_ENTRIES,
    Folder,
    TocEntry,
    TocPlace,
    _derive_ends,
    close,
    fold_entries,
)

PREFIX = b'{"version":1,"entries":['
#: between two items (the cut is after its ``},``)
SEP = b'},{"'
#: JSON bytes gathered before a piece is parsed
PIECE = 1 << 20
#: compressed bytes inflated in one call: a zstd block inflates at most ~44,000-fold, so
#: one call makes at most ~22 MB before the announced size is checked
SLICE = 512
FMT = "zstd:chunked"


class _GiveUp(Exception):
    """The stream is not one this module reads: the caller reads the TOC whole."""


class TocStream:
    def __init__(self, place: TocPlace, blob_size: int, what: str) -> None:
        import zstandard

        self.place, self.blob_size, self.what = place, blob_size, what
        self.sha = hashlib.sha256()
        self.inflater = zstandard.ZstdDecompressor().decompressobj()
        self.inflated = 0
        self.text = bytearray()  # JSON not parsed yet
        self.started = False  # PREFIX seen and dropped
        self.folder: Folder | None = None  # once the first frame says it names its end
        self.raw: list = []  # items not folded yet (all of them when no frame names its end)
        self.count = 0
        self.broken = False

    def feed(self, data: bytes) -> None:
        """The next bytes of the compressed TOC."""
        if self.broken:
            return
        try:
            self.sha.update(data)
            view = memoryview(data)
            for at in range(0, len(view), SLICE):
                out = self.inflater.decompress(view[at:at + SLICE])
                self.inflated += len(out)
                if self.inflated > self.place.uncompressed:
                    raise _GiveUp
                self.text += out
            if len(self.text) >= PIECE:
                self._parse(final=False)
        except Exception:  # noqa: BLE001 - whatever it is, the whole read says it
            self.broken, self.text, self.raw, self.folder = True, bytearray(), [], None

    def finish(self) -> list[TocEntry] | None:
        """The entries, as ``parse_toc`` makes them from the whole TOC, when the stream
        was that TOC (its digest the announced one) in the streamed shape; else None."""
        if self.broken or "sha256:" + self.sha.hexdigest() != self.place.checksum or \
                not self.inflater.eof:
            return None
        try:
            self._parse(final=True)
            if self.folder is not None:
                entries = self.folder.done()
            else:
                bound = self.place.offset or self.blob_size
                entries = fold_entries(self.raw, self.blob_size, self.what, FMT,
                                       _derive_ends(self.raw, bound))
            return close(entries, self.blob_size, self.what)
        except Exception:  # noqa: BLE001 - as in feed
            return None

    def _parse(self, *, final: bool) -> None:
        text = self.text
        if not self.started:
            if len(text) < len(PREFIX) and not final:
                return
            if not text.startswith(PREFIX):
                raise _GiveUp
            del text[:len(PREFIX)]
            self.started = True
        if final:
            if not text.endswith(b"]}"):
                raise _GiveUp
            piece = b"[" + text[:-1]  # the items, then "]"
            text.clear()
        else:
            cut = text.rfind(SEP)
            if cut < 0:
                return
            piece = b"[" + text[:cut + 1] + b"]"
            del text[:cut + 2]
        # a piece is PIECE and one read's inflating; a larger one came from a body that
        # inflates far more than a TOC does: its objects are counted before they are built
        # (as ``chunked.countable``; ``{}`` is 3 bytes of JSON, ~80 of Python)
        if len(piece) > 4 * PIECE and piece.count(b"{") + piece.count(b"[") > \
                2 * (MAX_ENTRIES - self.count) + 2:
            raise _GiveUp
        items = json.loads(piece)
        if type(items) is not list:
            raise _GiveUp
        self._add(items)

    def _add(self, items: list) -> None:
        self.count += len(items)
        if self.count > MAX_ENTRIES:
            raise _GiveUp
        if self.folder is not None:
            self.folder.add(items)
            return
        self.raw += items
        first = next((e for e in self.raw if type(e) is dict
                      and type(e.get("offset")) is int), None)
        if first is not None and "endOffset" in first:  # every frame names its end
            self.folder = Folder(self.blob_size, self.what, FMT)
            self.folder.add(self.raw)
            self.raw = []
