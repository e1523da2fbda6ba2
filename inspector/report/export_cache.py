"""A cache of the rendered ``files`` array of ``export``, keyed like the analysis cache
(the image's diff_id chain) plus the code that renders it.

Rendering a row is a few microseconds of Python; on a 150k-entry image that is most of a
warm export. The array is a pure function of the key, so it is stored once as a framed
entry (``inspector.cache``: full key and code digest inside the checksummed body) whose
body is zstd-compressed with a content checksum; a damaged or foreign entry is rendered
again, never trusted, and a warm export copies it out.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TextIO

import zstandard

from inspector.analysis import Analysis
from inspector.analysis_cache import analysis_key, code_parts
from inspector.cache import CacheDir

VERSION = 2
MAGIC = b"INSPEXP2"
LEVEL = 3


def _store(cache_dir: Path) -> CacheDir:
    from inspector.codehash import EXPORT_CODE

    return CacheDir(Path(cache_dir), "export", VERSION, MAGIC, code_parts() + EXPORT_CODE, ".json.zst")


def _read(store: CacheDir, key: str) -> str | None:
    got = store.read(key)
    if got is None:
        return None
    try:
        text = zstandard.ZstdDecompressor().decompress(bytes(got[1])).decode("ascii")
        if len(text) == got[0].get("length"):
            return text
    except (zstandard.ZstdError, UnicodeDecodeError):
        pass
    store.discard(key)  # damaged: render again
    return None


def write_files_cached(analysis: Analysis, out: TextIO, cache_dir: Path | None,
                       render) -> None:
    """Write the files array to ``out``: from the cache when it holds it, else rendered
    by ``render(analysis, out)`` and stored."""
    diff_ids = [index.diff_id for index in analysis.layers]
    if cache_dir is None or not all(diff_ids):
        render(analysis, out)
        return
    store, key = _store(cache_dir), analysis_key(diff_ids)
    text = _read(store, key)
    if text is not None:
        out.write(text)
        return
    buffer = io.StringIO()
    render(analysis, buffer)
    text = buffer.getvalue()
    out.write(text)
    blob = zstandard.ZstdCompressor(level=LEVEL, write_checksum=True,
                                    write_content_size=True).compress(text.encode("ascii"))
    store.write(key, {"version": VERSION, "length": len(text)}, [blob])
