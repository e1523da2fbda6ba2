"""Digests of the code that produced a cached result.

Caches are keyed by content (diff_ids) and by the code that computed the entry: a walker
fix or a new cataloger must not be answered from an entry an older build wrote. Hashing
the source files themselves (a few hundred kB, once per process, about a millisecond)
makes that automatic — no version number to remember to bump.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent

#: what a layer index depends on (the capture table is read from the catalogers)
INDEX_CODE = ("index/tarwalk.py", "index/tarfields.py", "index/capture.py",
              "index/entries.py", "index/cache.py", "catalog")
#: what packages, categories, findings and efficiency depend on (besides the index)
ANALYSIS_CODE = ("catalog", "classify", "index/merge.py", "index/layerstep.py", "index/efficiency.py",
                 "analysis_cache.py")
#: what the rendered export rows depend on
EXPORT_CODE = ("report/export.py", "report/export_cache.py")


@cache
def source_digest(parts: tuple[str, ...]) -> str:
    """sha256 (hex, 16 chars) over the named files and directories (``*.py`` and
    ``*.toml`` in them), relative to the package, in a fixed order."""
    h = hashlib.sha256()
    for part in parts:
        path = PACKAGE / part
        files = sorted(p for p in path.rglob("*") if p.suffix in (".py", ".toml")) \
            if path.is_dir() else [path]
        for file in files:
            h.update(str(file.relative_to(PACKAGE)).encode() + b"\0")
            try:
                h.update(file.read_bytes())
            except OSError:
                h.update(b"missing")
    return h.hexdigest()[:16]
