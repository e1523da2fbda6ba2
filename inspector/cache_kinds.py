"""Every kind of file under a cache root, as data: the registry ``cache`` and
``cache_admin`` both read.

A framed kind (``inspector.cache.CacheDir.of(root, name)``) lives in
``<root>/<name>/v<version>-<code digest>/``: its row names the format version, the magic
its frames start with, the sources its entries are computed by (``codehash`` parts: the
directory changes when they do) and the file suffix. ``blobs`` (content-addressed
registry blobs) and ``tmp`` (spools) are not framed. ``evict`` is the eviction priority:
over the cap, lower numbers go first (the big kinds), the per-layer indexes last.

The registry is data rather than something each consumer registers when imported: a
prune must know every kind's current directory (anything else under that kind is another
version's, never read again) in a process that never imported the consumer, without
importing it. Adding a kind is one row here; its module asks ``CacheDir.of`` for it.
"""

from __future__ import annotations

from pathlib import Path

from inspector.codehash import ANALYSIS_CODE, EXPORT_CODE, INDEX_CODE, source_digest

#: prefix of every temporary file the cache writes (the sweep's pattern)
TMP_PREFIX = ".tmp-"
#: the directory of spools (decompressed archives, docker saves)
SPOOL_DIR = "tmp"


class Kind:
    """One row (a plain class: a named tuple or dataclass costs every process that uses a
    cache ~0.5 ms to create)."""

    __slots__ = ("name", "evict", "version", "magic", "code", "suffix", "temp")

    def __init__(self, name: str, evict: int, version: int = 0, magic: bytes = b"",
                 code: tuple[str, ...] = (), suffix: str = "", temp: bool = False) -> None:
        self.name = name  # the directory under the cache root
        self.evict = evict  # eviction priority: lower goes first when over the cap
        self.version = version  # format version of a framed kind (0: not framed)
        self.magic = magic  # the first bytes of each framed entry
        self.code = code  # ``codehash`` parts the entries are computed by
        self.suffix = suffix  # file name suffix of an entry
        self.temp = temp  # every file is a spool (swept once stale)

    @property
    def framed(self) -> bool:
        return self.version > 0

    @property
    def code_digest(self) -> str:
        return source_digest(self.code) if self.code else "0"

    def dir(self, root: Path | str) -> Path:
        """Where this code reads and writes the kind's entries."""
        return Path(root) / self.name / f"v{self.version}-{self.code_digest}"


_ANALYSIS = (*INDEX_CODE, *ANALYSIS_CODE)
#: the one registry, in eviction order
KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind(SPOOL_DIR, 0, temp=True),
    Kind("blobs", 0),
    # rendered export files arrays by diff_id chain, and the document's tail (packages,
    # base/own sides) by diff_id chain and base length (``report.export_cache``)
    Kind("export", 1, 2, b"INSPEXP2", (*_ANALYSIS, *EXPORT_CODE), ".json.zst"),
    # what an engine's ``docker save`` said, by image Id (``sources.engine_record``)
    Kind("daemon", 2, 2, b"INSPSKL2", (), ".skel"),
    # catalog, categories, efficiency, by diff_id chain (``analysis_cache``)
    Kind("analysis", 2, 2, b"INSPANL2", _ANALYSIS, ".bin"),
    # one layer index per diff_id (``index.cache``): what makes a reopen instant
    Kind("index", 3, 2, b"INSPIDX2", INDEX_CODE, ".idx"),
)}
