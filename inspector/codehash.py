"""Digests of the code that produced a cached result.

Caches are keyed by content (diff_ids) and by the code that computed the entry: a walker
fix or a new cataloger must not be answered from an entry an older build wrote. Hashing
the source files themselves (a few hundred kB, once per process, about a millisecond)
makes that automatic — no version number to remember to bump.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent

#: the C accelerator and its loader: ``Scanner`` writes index rows, ``prefix_sums``,
#: ``parents`` and ``classify_rows`` compute the analysis, ``render_rows`` and
#: ``json_strings`` the export rows, so each of the three keys names them
ACCEL_CODE = ("index/_tarscan.c", "index/tarscan.py")
#: what a layer index depends on (the capture table is read from the catalogers; a TOC-built
#: index fetches executables' first bytes by the classification rules' bin_dirs)
INDEX_CODE = ("index/tarwalk.py", "index/tarfields.py", "index/capture.py", "index/from_toc.py",
              "classify/rules.toml",
              "sources/registry/chunked.py", "sources/registry/toc.py",
              "sources/registry/estargz.py",
              "index/entries.py", "index/cache.py", "catalog", *ACCEL_CODE)
#: what packages, categories, findings and efficiency depend on (besides the index): the
#: merge and its packed entry (``packed.py``: ``layer << SHIFT | row``, decoded by the merge,
#: the classification and the export rows; never in a layer index, whose rows the C and the
#: pure walker write alike whichever ``tarscan`` picks)
ANALYSIS_CODE = ("catalog", "classify", "index/merge.py", "index/layerstep.py", "index/packed.py",
                 "index/hardlinks.py", "index/linkheads.py", "index/efficiency.py",
                 "analysis_cache.py", *ACCEL_CODE)
#: what the rendered export rows and the document's cached tail (packages with their CPEs
#: and provenance, the base/own sides: ``provenance.py``) depend on
EXPORT_CODE = ("report/export.py", "report/export_cache.py", "provenance.py", *ACCEL_CODE)


#: the source files a directory part contributes (the C too: a directory holding it)
SUFFIXES = (".py", ".toml", ".c")


def _sources(directory: str, out: list[str]) -> None:
    """The ``SUFFIXES`` files under ``directory``, recursively (``os.scandir``: no
    ``Path`` objects, no ``__pycache__``)."""
    with os.scandir(directory) as it:
        for entry in it:
            if entry.is_dir():
                if entry.name != "__pycache__":
                    _sources(entry.path, out)
            elif entry.name.endswith(SUFFIXES):
                out.append(entry.path)


@cache
def _part(part: str) -> bytes:
    """Each file of ``part`` as its path relative to the package and the sha256 of its
    bytes. Once per process: the caches' parts overlap (the export's include the
    analysis', which include the index's)."""
    root = str(PACKAGE)
    path = os.path.join(root, part)
    files: list[str] = []
    if os.path.isdir(path):
        _sources(path, files)
        files.sort()
    else:
        files.append(path)
    out = []
    for file in files:
        try:
            with open(file, "rb") as f:
                digest = hashlib.sha256(f.read()).digest()
        except OSError:
            digest = b"missing"
        out.append(os.path.relpath(file, root).encode() + b"\0" + digest)
    return b"".join(out)


@cache
def source_digest(parts: tuple[str, ...]) -> str:
    """sha256 (hex, 16 chars) over the named files and directories (their ``SUFFIXES``
    files), relative to the package, each part once, in a fixed order. Computed lazily,
    when a cache entry is first read or written."""
    return hashlib.sha256(b"".join(map(_part, dict.fromkeys(parts)))).hexdigest()[:16]


def forget() -> None:
    """Drop this process's digests (tests that change the sources under it)."""
    source_digest.cache_clear()
    _part.cache_clear()
