"""Keeping the cache in bounds: the sweep of stale temp files, the size cap, and what
``inspector cache info|prune|clear`` do.

The cap (``Options.cache_max``, default ``DEFAULT_MAX``) is enforced when a process first
uses a cache root — unless another process did within ``CHECK_INTERVAL`` with the same
cap and found the cache at most half full (the ``STAMP`` file) — and again whenever a
process has added more than ``RECHECK`` bytes (or a quarter of the cap) since.
Eviction removes the least recently used entries of the big kinds first (blobs and
stale spools, then rendered exports, then analyses and engine records) and the small
per-layer indexes last, since they are what makes a reopen instant at ~1 kB per thousand
files: the order is each kind's ``evict`` in the registry (``cache_kinds.KINDS``), which
also says which directory of a framed kind this code reads. A file some process holds a
lock on (a reader's shared ``flock``, a writer's or a spool's exclusive one) is never
removed. This module imports the registry and ``options`` only, none of the caches' users.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

from inspector.cache_kinds import KINDS as REGISTRY
from inspector.cache_kinds import TMP_PREFIX
from inspector.options import CACHE_CAPS

#: default size cap of a cache root, bytes (5 GiB)
DEFAULT_MAX = 5 << 30
#: a temp file older than this, seconds, that no live process locks is a leftover
STALE_AGE = 300
#: bytes added by this process after which the cap is checked again
RECHECK = 256 << 20
#: seconds during which a root's full check (sweep and cap) is not repeated by the next
#: processes, as long as the cap is the same and the cache was at most half of it: the
#: check lists every file (20k entries: ~30 ms), too much for every short run
CHECK_INTERVAL = 600
#: the file under a cache root whose mtime says when its last full check ran; it holds
#: the bytes the cache held after it and the cap it was checked against
STAMP = ".checked"
#: eviction order: the big kinds first, the per-layer indexes last (registry ``evict``)
TIERS = tuple(tuple(k.name for k in REGISTRY.values() if k.evict == level)
              for level in sorted({k.evict for k in REGISTRY.values()}))
KINDS = tuple(k for tier in TIERS for k in tier)
#: kinds stored as ``inspector.cache`` framed entries (versioned directories)
FRAMED = tuple(k.name for k in REGISTRY.values() if k.framed)

_added: dict[str, int] = {}
_lock = threading.Lock()
_evict_lock = threading.Lock()


def cap(root: Path) -> int:
    """The size cap of ``root``: what ``Options.resolved_cache_dir`` resolved it with in
    this process, else ``DEFAULT_MAX``."""
    limit = CACHE_CAPS.get(str(root))
    return DEFAULT_MAX if limit is None else limit


class Entry:
    """One file under the cache root (a plain class: a dataclass costs every process
    ~0.5 ms to create, and this module is imported by every process using a cache)."""

    def __init__(self, where: str, kind: str, size: int, mtime: float, temp: bool) -> None:
        self.where = where  # the file's path (a str: a cache holds tens of thousands)
        self.kind = kind
        self.size = size  # bytes on disk
        self.mtime = mtime
        self.temp = temp  # a temp file or a spool (swept once stale)

    def __repr__(self) -> str:
        return f"Entry({self.where!r}, {self.kind!r}, size={self.size})"

    @property
    def path(self) -> Path:
        return Path(self.where)


def entries(root: Path) -> list[Entry]:
    """Every file under the cache root's known kinds (nothing else there is touched).
    ``os.scandir``: one ``lstat`` per file, no ``Path`` objects (20k entries: ~30 ms)."""
    out: list[Entry] = []
    for kind in KINDS:
        _scan(os.path.join(root, kind), kind, out)
    return out


def _scan(directory: str, kind: str, out: list[Entry]) -> None:
    try:
        it = os.scandir(directory)
    except OSError:
        return
    spools = REGISTRY[kind].temp
    with it:
        for d in it:
            try:
                if d.is_dir(follow_symlinks=False):
                    _scan(d.path, kind, out)
                    continue
                st = d.stat(follow_symlinks=False)
            except OSError:
                continue
            out.append(Entry(d.path, kind, st.st_blocks * 512 or st.st_size, st.st_mtime,
                             spools or d.name.startswith(TMP_PREFIX)))


def _remove_unlocked(path: str | Path) -> bool:
    """Unlink ``path`` unless a live process holds a lock on it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return True  # another evictor was first: the space is free all the same
    except OSError:
        try:  # a symlink or an unreadable file: not ours to keep
            os.unlink(path)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing releases the lock


def sweep(root: Path, *, now: float | None = None, age: float = STALE_AGE,
          found: list[Entry] | None = None) -> int:
    """Remove temp files and spools older than ``age`` seconds that no live process
    locks (what a ``kill -9`` left behind). Returns the bytes freed."""
    now = time.time() if now is None else now
    freed = 0
    for e in entries(root) if found is None else found:
        if e.temp and now - e.mtime > age and _remove_unlocked(e.where):
            freed += e.size
            e.size = -1  # gone (``evict`` may run on the same list)
    return freed


def current_dirs(root: Path) -> set[Path]:
    """The directories of framed entries that this code reads; entries elsewhere under
    those kinds were written by another version and are never read again."""
    return {kind.dir(root) for kind in REGISTRY.values() if kind.framed}


def evict(root: Path, max_bytes: int, *, older_than: float | None = None,
          stale: bool = False, found: list[Entry] | None = None) -> int:
    """Bring the cache under ``max_bytes`` (and drop entries unused for ``older_than``
    seconds, and with ``stale`` every entry only another version reads), least recently
    used first, big kinds before indexes. Returns bytes freed. One eviction at a time per
    process (threads committing blobs together would each see the others' victims)."""
    with _evict_lock:
        return _evict(root, max_bytes, older_than, stale, found)


def _evict(root: Path, max_bytes: int, older_than: float | None, stale: bool,
           found: list[Entry] | None) -> int:
    now = time.time()
    every = [e for e in (entries(root) if found is None else found) if e.size >= 0]
    # files being written count once committed (``added``): evicting indexes to make room
    # for downloads in flight would only lose what makes the next open warm
    candidates = [e for e in every if not (e.temp and now - e.mtime <= STALE_AGE)]
    total = sum(e.size for e in candidates)
    freed = 0
    # over the cap, what no current code reads goes first, whatever its age
    keep = {str(d) for d in current_dirs(root)} if stale or total > max_bytes else None
    cutoff = None if older_than is None else now - older_than
    for e in candidates:
        gone = (cutoff is not None and e.mtime < cutoff) or (
            keep is not None and e.kind in FRAMED and os.path.dirname(e.where) not in keep)
        if gone and _remove_unlocked(e.where):
            freed += e.size
            e.size = -1
    for tier in TIERS:
        if total - freed <= max_bytes:
            break
        for e in sorted((e for e in candidates if e.kind in tier and e.size >= 0), key=lambda e: e.mtime):
            if total - freed <= max_bytes:
                break
            if _remove_unlocked(e.where):
                freed += e.size
                e.size = -1
    if stale:  # an explicit prune (a running writer recreates what it needs)
        _forget_check(root)
        if freed:
            _prune_empty_dirs(root)
    return freed


def _prune_empty_dirs(root: Path) -> None:
    for kind in KINDS:
        for dirpath, _dirs, _files in sorted(os.walk(Path(root) / kind), reverse=True):
            if Path(dirpath) != Path(root) / kind:
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass


def clear(root: Path) -> int:
    """Remove every entry no running process is using. Returns the bytes freed."""
    freed = sum(e.size for e in entries(root) if _remove_unlocked(e.where))
    _prune_empty_dirs(root)
    _forget_check(root)
    return freed


def start(root: Path) -> None:
    """The first use of a cache root in this process: sweep leftovers, enforce the cap
    (skipped when another process just did, see ``CHECK_INTERVAL``)."""
    limit = cap(root)
    if _recently_checked(root, limit):
        return
    try:
        found = entries(root)
        sweep(root, found=found)
        evict(root, limit, found=found)
    except OSError:
        return  # housekeeping only; the cache itself reports its own trouble
    _stamp(root, sum(e.size for e in found if e.size >= 0), limit)


def _recently_checked(root: Path, limit: int) -> bool:
    try:
        with open(os.path.join(root, STAMP), "rb") as f:
            when = os.fstat(f.fileno()).st_mtime
            total, checked = (int(x) for x in f.read(64).split())
    except (OSError, ValueError):
        return False
    return 0 <= time.time() - when < CHECK_INTERVAL and checked == limit and total <= limit // 2


def _forget_check(root: Path) -> None:
    """After a prune or clear: the stamp's total is wrong, the next process checks."""
    try:
        os.unlink(os.path.join(root, STAMP))
    except OSError:
        pass


def _stamp(root: Path, total: int, limit: int) -> None:
    try:
        with open(os.path.join(root, STAMP), "w") as f:
            f.write(f"{total} {limit}\n")
    except (OSError, ValueError):
        pass  # the next process checks again: it only costs time


def added(root: Path, nbytes: int) -> None:
    """Account ``nbytes`` newly written under ``root``; enforce the cap now and then."""
    key = str(root)
    with _lock:
        _added[key] = _added.get(key, 0) + nbytes
        due = _added[key] >= min(RECHECK, cap(root) // 4 or 1)
        if due:
            _added[key] = 0
    if due:
        try:
            evict(root, cap(root))
        except OSError:
            pass
