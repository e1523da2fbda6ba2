"""A cache of the rendered ``files`` array of ``export``, keyed like the analysis cache
(the image's diff_id chain) plus the code that renders it.

Rendering a row is a few microseconds of Python; on a 150k-entry image that is most of a
warm export. The array is a pure function of the key, so it is stored once as a framed
entry (``inspector.cache``: full key and code digest inside the checksummed body) whose
body is one zstd frame with a content checksum, streamed in while the array is rendered;
a damaged or foreign entry is rendered again, never trusted, and a warm export copies it
out a slice at a time (the frame's CRC is checked first).

The document's costly fields after the array — the packages (CPEs and provenance) and the
base/own sides — are a pure function of the same chain and of the base's length (how many
of the first layers are the base's: what the split depends on), so they have an entry of
their own, keyed by both (``tail_texts``): three JSON texts, stored as they are written.
A document with a scanner overlay (``--vulns``) is not cached (its sides count findings).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO, TextIO, cast

import zstandard

from inspector.analysis import Analysis
from inspector.analysis_cache import analysis_key
from inspector.cache import CacheDir
from inspector.cache_kinds import KINDS

#: format version: the registry's ``export`` row (``cache_kinds``)
VERSION = KINDS["export"].version
LEVEL = 3
#: bytes decompressed and written per step of a warm copy
SLICE = 1 << 20


def _store(cache_dir: Path) -> CacheDir:
    return CacheDir.of(Path(cache_dir), "export")


class _Tee:
    """Text written to ``out`` and, ASCII-encoded, to a zstd stream (counted)."""

    def __init__(self, out: TextIO, zstd) -> None:
        self.out, self.zstd, self.length = out, zstd, 0

    def write(self, text: str) -> None:
        self.out.write(text)
        self.zstd.write(text.encode("ascii"))
        self.length += len(text)


def _copy_out(store: CacheDir, key: str, out: TextIO) -> bool:
    """Write the cached array to ``out`` a slice at a time; ``False`` (nothing written)
    when there is no usable entry. The frame's CRC is checked over the compressed bytes
    before any of it is written: a damaged entry never leaves half an array in the output."""
    got = store.read(key)
    if got is None:
        return False
    header, body = got
    written = 0
    try:
        with zstandard.ZstdDecompressor().stream_reader(body, read_across_frames=False) as reader:
            while chunk := reader.read(SLICE):
                text = chunk.decode("ascii")
                out.write(text)
                written += len(text)
    except (zstandard.ZstdError, UnicodeDecodeError) as exc:
        store.discard(key)
        if written:  # a frame its checksum vouched for, yet not zstd: a writer's bug
            from inspector.errors import CacheError

            raise CacheError(f"cached export {store.path(key)}: {exc}",
                             hint="run the export again (the entry was removed)") from exc
        return False
    if written != header.get("length"):
        store.discard(key)
        if written:
            from inspector.errors import CacheError

            raise CacheError(f"cached export {store.path(key)}: {written} characters, "
                             f"expected {header.get('length')}",
                             hint="run the export again (the entry was removed)")
        return False
    return True


def write_files_cached(analysis: Analysis, out: TextIO, cache_dir: Path | None,
                       render) -> None:
    """Write the files array to ``out``: from the cache when it holds it, else rendered
    by ``render(analysis, out)`` and stored. Neither way holds the whole array: a cached
    one is decompressed a slice at a time, a rendered one goes to ``out`` and, through a
    zstd stream, to the cache entry as it is rendered."""
    diff_ids = [index.cache_key for index in analysis.layers]  # toc:… when TOC-built
    if cache_dir is None or not all(diff_ids):
        render(analysis, out)
        return
    store, key = _store(cache_dir), analysis_key(diff_ids)
    if _copy_out(store, key, out):
        return
    with store.writer(key) as entry:
        if entry is None:
            render(analysis, out)
            return
        zstd = zstandard.ZstdCompressor(level=LEVEL, write_checksum=True).stream_writer(
            cast(IO[bytes], entry), closefd=False)  # EntryWriter has write(): all it uses
        tee = _Tee(out, zstd)
        render(analysis, tee)
        zstd.close()  # the end of the frame (``closefd=False``: the entry stays open)
        entry.header.update({"version": VERSION, "length": tee.length})


#: the parts of a ``tail_texts`` entry, in order
TAIL_PARTS = ("packages", "own", "base")


def tail_key(diff_ids: list[str], base_layers: int) -> str:
    """The key of the document's tail: the diff_id chain and the base's length."""
    return f"{analysis_key(diff_ids)};tail;base_layers={base_layers}"


def tail_texts(analysis: Analysis, cache_dir: Path, base_layers: int,
               render: Callable[[], tuple[str, str, str]]) -> tuple[str, str, str]:
    """The packages array and the own and base sides as JSON text (ASCII): from the cache
    when it holds them for this chain and base length, else ``render()`` and stored."""
    diff_ids = [index.cache_key for index in analysis.layers]
    if not all(diff_ids):
        return render()
    store, key = _store(cache_dir), tail_key(diff_ids, base_layers)
    got = store.read(key)
    if got is not None:
        texts = _tail_of(*got)
        if texts is not None:
            return texts
        store.discard(key)
    texts = render()
    parts = [text.encode("ascii") for text in texts]
    store.write(key, {"version": VERSION, "tail": [len(p) for p in parts]}, parts)
    return texts


def _tail_of(header: dict, body: memoryview) -> tuple[str, str, str] | None:
    """The three texts of an entry; ``None`` when its header does not describe its body."""
    lengths = header.get("tail")
    if header.get("version") != VERSION or not isinstance(lengths, list) \
            or len(lengths) != len(TAIL_PARTS) or not all(type(n) is int and n >= 0 for n in lengths) \
            or sum(lengths) != len(body):
        return None
    try:
        raw = bytes(body).decode("ascii")
    except UnicodeDecodeError:
        return None
    a, b = lengths[0], lengths[0] + lengths[1]
    return raw[:a], raw[a:b], raw[b:]
