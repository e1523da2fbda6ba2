"""Digest-addressed cache of verified blobs: ``CACHE/blobs/<algo>/<hex>`` (the one
content-addressed kind of ``inspector.cache``: a blob's name is its digest, verified on
every read, so it needs no frame).

A file appears under its final name only after its bytes hashed to that name: writes go to
a temporary file in the same directory and are renamed once the digest verified, so a file
under a digest name is always complete when it appears; a crash leaves at most a ``.tmp-*``
file, which is never read (only exact digest names are). There is no fsync (it cost more
than the download on loopback): readers verify cached blobs again as they read them and
delete one that no longer matches (``blobs.CachedBlobReader``), so nothing corrupt is
ever trusted. A layer whose cached blob fails to inflate or parse is re-verified
(``recheck``): a damaged blob is evicted and the layer read once more from the registry.
Readers hold a shared ``flock`` on the blob so the size cap's eviction skips it; writers
lock their temp file so the sweep of leftovers does too.
"""

from __future__ import annotations

import hashlib
import os
import queue
import re
import threading
from pathlib import Path
from typing import BinaryIO

from inspector import cache as cache_mod

_DIGEST = re.compile(r"^(sha256|sha512):([a-f0-9]{64}|[a-f0-9]{128})$")


class BlobCache:
    def __init__(self, root: Path, *, writable: bool = True) -> None:
        self.cache_root = Path(root)
        self.root = self.cache_root / "blobs"
        self.writable = writable and cache_mod.usable(self.cache_root)
        #: digests whose cached copy was found damaged and removed in this process
        self.evicted: set[str] = set()

    def path(self, digest: str) -> Path | None:
        """Where ``digest`` lives (``None`` for digests we would not trust as names)."""
        m = _DIGEST.match(digest)
        if not m:
            return None
        return self.root / m.group(1) / m.group(2)

    def get_bytes(self, digest: str, limit: int) -> bytes | None:
        path = self.path(digest)
        if path is None:
            return None
        try:
            if path.stat().st_size > limit:
                return None
            data = path.read_bytes()
        except OSError:
            return None
        algo, _, expected = digest.partition(":")
        if hashlib.new(algo, data).hexdigest() != expected:  # damaged: never trusted
            self.evict(digest)
            return None
        try:
            os.utime(path)  # least recently used: eviction reads mtimes
        except OSError:
            pass
        return data

    def open(self, digest: str) -> BinaryIO | None:
        """The cached blob, locked shared (eviction skips it while it is read)."""
        path = self.path(digest)
        if path is None:
            return None
        try:
            f = open(path, "rb")
        except OSError:
            return None
        cache_mod.lock_shared(f)
        try:
            os.utime(f.fileno())  # least recently used: eviction reads mtimes
        except OSError:
            pass
        return f

    def evict(self, digest: str) -> None:
        """Remove a cached blob found damaged."""
        path = self.path(digest)
        self.evicted.add(digest)
        if path is not None:
            try:
                path.unlink()
            except OSError:
                pass

    def recheck(self, digest: str) -> bool:
        """After a read of ``digest`` failed (bad gzip, bad tar): whether its cached copy
        was damaged — found so while streaming, or now by hashing it again — and is gone,
        so that reading it once more goes to the registry."""
        if digest in self.evicted:
            self.evicted.discard(digest)
            return True
        path = self.path(digest)
        if path is None:
            return False
        algo, _, expected = digest.partition(":")
        h = hashlib.new(algo)
        try:
            with open(path, "rb") as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
        except OSError:
            return False
        if h.hexdigest() == expected:
            return False  # the cache is sound: the image itself is broken
        self.evict(digest)
        self.evicted.discard(digest)
        return True

    def put_bytes(self, digest: str, data: bytes) -> None:
        """Store already-verified ``data``; cache trouble is never fatal."""
        writer = self.writer(digest)
        if writer is None:
            return
        try:
            writer.write(data)
            writer.commit()
        except OSError:
            writer.abort()

    def writer(self, digest: str) -> CacheWriter | None:
        if not self.writable:
            return None
        path = self.path(digest)
        if path is None:
            return None
        try:
            f, tmp = cache_mod.temp_file(path.parent, prefix=f"{cache_mod.TMP_PREFIX}{path.name[:16]}-")
        except OSError as exc:
            cache_mod.disable(self.cache_root, exc)
            self.writable = False
            return None
        return CacheWriter(f, tmp, path, self.cache_root)


#: chunks (about 1 MiB each) queued for the writer thread before ``write`` blocks
WRITE_QUEUE = 16


class CacheWriter:
    """Collects bytes into a temporary file; ``commit()`` (only after verification) makes
    them visible under the digest name, ``abort()`` removes them.

    Writing a new file runs at a few hundred MB/s here (block allocation), as slow as the
    download and the inflation together, so a thread writes while the caller goes on
    hashing and indexing; ``commit``/``abort`` wait for it."""

    def __init__(self, file: BinaryIO, tmp: Path, final: Path, cache_root: Path) -> None:
        self.file, self.tmp, self.final, self.cache_root = file, tmp, final, cache_root
        self.written = 0
        self.done = False
        self.failed = False
        self.queue: queue.Queue[bytes | None] = queue.Queue(WRITE_QUEUE)
        self.thread = threading.Thread(target=self._run, name="blob-cache-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (data := self.queue.get()) is not None:
            if not self.failed:
                try:
                    self.file.write(data)
                    self.written += len(data)
                except OSError as exc:  # a full disk must not fail the download
                    self.failed = True
                    cache_mod.disable(self.cache_root, exc)

    def write(self, data: bytes) -> None:
        self.queue.put(data)

    def _finish(self) -> None:
        self.queue.put(None)
        self.thread.join()

    def commit(self) -> None:
        if self.done:
            return
        self.done = True
        self._finish()
        if self.failed:
            self._remove()
            return
        try:
            self.file.flush()
            os.replace(self.tmp, self.final)
            self.file.close()  # the lock is held until the name is in place
        except OSError as exc:
            cache_mod.disable(self.cache_root, exc)
            self._remove()
            return
        from inspector import cache_admin

        cache_admin.added(self.cache_root, self.written)

    def abort(self) -> None:
        if self.done:
            return
        self.done = True
        self._finish()
        self._remove()

    def _remove(self) -> None:
        try:
            self.file.close()
        except OSError:
            pass
        try:
            self.tmp.unlink()
        except OSError:
            pass
