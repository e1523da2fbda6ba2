"""Compact, columnar storage for one layer's tar entries (no object per file).

A ``LayerIndex`` holds parallel columns indexed by row: ``paths`` (normalised absolute
``str``; bytes that are not UTF-8 are kept as surrogate escapes), ``kinds`` (one byte, see
``KIND_NAMES``), ``sizes`` (bytes; for hardlinks 0 — the merged view gives them the linked
file's size), ``modes`` (permission bits with setuid/setgid/sticky), ``uids``, ``gids``.
(mtimes are not kept: nothing downstream shows them.) Sparse columns are dicts keyed by row: ``targets`` (symlink target as written;
hardlink target as a normalised absolute path) and ``heads`` (first bytes of executable
regular files: ELF/shebang detection). Whiteouts and opaque markers are not rows: they are
listed in ``whiteouts`` (the path they delete) and ``opaque`` (the directory they empty).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

FILE, HARDLINK, SYMLINK, CHAR, BLOCK, DIR, FIFO = range(7)
KIND_NAMES = ("file", "hardlink", "symlink", "char", "block", "dir", "fifo")


@dataclass
class LayerIndex:
    diff_id: str = ""
    digest: str = ""  # blob digest it was read from (informational; the cache key is diff_id)
    compressed_size: int = 0
    uncompressed_size: int = 0  # bytes of the tar stream
    paths: list[str] = field(default_factory=list)
    kinds: bytearray = field(default_factory=bytearray)
    sizes: array = field(default_factory=lambda: array("q"))
    modes: array = field(default_factory=lambda: array("I"))
    uids: array = field(default_factory=lambda: array("I"))
    gids: array = field(default_factory=lambda: array("I"))
    targets: dict[int, str] = field(default_factory=dict)
    heads: dict[int, bytes] = field(default_factory=dict)
    whiteouts: list[str] = field(default_factory=list)
    opaque: list[str] = field(default_factory=list)
    #: small files' content captured while walking (package DBs, /etc/passwd, METADATA…)
    captured: dict[str, bytes] = field(default_factory=dict)
    #: Go build info (bytes from the ``\xff Go buildinf:`` magic on) per executable path
    go_buildinfo: dict[str, bytes] = field(default_factory=dict)
    #: members that were skipped, with the reason (``..`` components, absolute escapes…)
    flagged: list[tuple[str, str]] = field(default_factory=list)
    #: set when the index was built from the layer's table of contents (``from_toc``):
    #: the TOC's digest. The diff_id was then not verified (only the whole blob can be).
    toc_digest: str = ""

    @property
    def verified(self) -> str:
        """What vouches for this index: ``"diff_id"`` (the whole tar was hashed) or
        ``"toc"`` (the TOC's digest; the blob was never read whole)."""
        return "toc" if self.toc_digest else "diff_id"

    @property
    def cache_key(self) -> str:
        """The key caches file this index (and the analyses built on it) under: the
        diff_id, or for a TOC-built index ``toc:<TOC digest>`` — never a diff_id that was
        not verified."""
        return f"toc:{self.toc_digest}" if self.toc_digest else self.diff_id

    def __len__(self) -> int:
        return len(self.paths)

    def add(self, path: str, kind: int, size: int, mode: int, uid: int, gid: int) -> int:
        row = len(self.paths)
        self.paths.append(path)
        self.kinds.append(kind)
        self.sizes.append(size)
        self.modes.append(mode)
        self.uids.append(uid)
        self.gids.append(gid)
        return row

    @property
    def file_bytes(self) -> int:
        """Bytes of regular files in this layer (hardlinks count 0)."""
        kinds, sizes = self.kinds, self.sizes
        return sum(sizes[i] for i in range(len(kinds)) if kinds[i] == FILE)
