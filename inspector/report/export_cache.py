"""A cache of the rendered ``files`` array of ``export``, keyed like the analysis cache
(the image's diff_id chain, the code version, the rules) plus this format's version.

Rendering a row is a few microseconds of Python; on a 150k-entry image that is most of a
warm export. The array is a pure function of the key, so it is stored once,
zstd-compressed with a content checksum (a damaged file fails to decompress and is
rendered again, never trusted), and a warm export copies it out.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import TextIO

import zstandard

from inspector.analysis import Analysis
from inspector.analysis_cache import analysis_key

VERSION = 1
LEVEL = 3


def _path(cache_dir: Path, analysis: Analysis) -> Path | None:
    diff_ids = [index.diff_id for index in analysis.layers]
    if not all(diff_ids):
        return None
    from inspector.codehash import EXPORT_CODE, source_digest

    return (Path(cache_dir) / "export" / f"v{VERSION}-{source_digest(EXPORT_CODE)}"
            / f"{analysis_key(diff_ids)}.json.zst")


def write_files_cached(analysis: Analysis, out: TextIO, cache_dir: Path | None,
                       render) -> None:
    """Write the files array to ``out``: from the cache when it holds it, else rendered
    by ``render(analysis, out)`` and stored."""
    path = _path(cache_dir, analysis) if cache_dir is not None else None
    if path is not None:
        try:
            data = zstandard.ZstdDecompressor().decompress(path.read_bytes())
            out.write(data.decode("ascii"))
            return
        except (OSError, zstandard.ZstdError, UnicodeDecodeError):
            pass  # absent or damaged: render again
    if path is None:
        render(analysis, out)
        return
    buffer = io.StringIO()
    render(analysis, buffer)
    text = buffer.getvalue()
    out.write(text)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        blob = zstandard.ZstdCompressor(level=LEVEL, write_checksum=True,
                                        write_content_size=True).compress(text.encode("ascii"))
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(blob)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass  # the cache only saves time
