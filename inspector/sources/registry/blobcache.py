"""Digest-addressed cache of verified blobs: ``CACHE/blobs/<algo>/<hex>``.

A file appears under its final name only after its bytes hashed to that name: writes go to
a temporary file in the same directory and are renamed once the digest verified, so a file
under a digest name is always complete when it appears; a crash leaves at most a ``.tmp-*``
file, which is never read (only exact digest names are). There is no fsync (it cost more
than the download on loopback): readers verify cached blobs again as they read them and
delete one that no longer matches (``blobs.CachedBlobReader``), so nothing corrupt is
ever trusted.
"""

from __future__ import annotations

import hashlib
import os
import queue
import re
import tempfile
import threading
from pathlib import Path
from typing import BinaryIO

_DIGEST = re.compile(r"^(sha256|sha512):([a-f0-9]{64}|[a-f0-9]{128})$")


class BlobCache:
    def __init__(self, root: Path, *, writable: bool = True) -> None:
        self.root = Path(root) / "blobs"
        self.writable = writable

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
            try:
                path.unlink()
            except OSError:
                pass
            return None
        return data

    def open(self, digest: str) -> BinaryIO | None:
        path = self.path(digest)
        if path is None:
            return None
        try:
            return open(path, "rb")
        except OSError:
            return None

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
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".tmp-{path.name[:16]}-", dir=path.parent)
        except OSError:
            return None
        return CacheWriter(os.fdopen(fd, "wb"), Path(tmp), path)


#: chunks (about 1 MiB each) queued for the writer thread before ``write`` blocks
WRITE_QUEUE = 16


class CacheWriter:
    """Collects bytes into a temporary file; ``commit()`` (only after verification) makes
    them visible under the digest name, ``abort()`` removes them.

    Writing a new file runs at a few hundred MB/s here (block allocation), as slow as the
    download and the inflation together, so a thread writes while the caller goes on
    hashing and indexing; ``commit``/``abort`` wait for it."""

    def __init__(self, file: BinaryIO, tmp: Path, final: Path) -> None:
        self.file, self.tmp, self.final = file, tmp, final
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
                except OSError:  # a full disk must not fail the download
                    self.failed = True

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
            self.file.close()
            os.replace(self.tmp, self.final)
        except OSError:
            self._remove()

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
