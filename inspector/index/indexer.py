"""Index one layer in one streaming pass, overlapping I/O, hashing and inflation.

Three threads, joined by small queues: a producer reads the blob, hashes it (digest) and
inflates it (ISA-L / zstd); a hasher hashes the inflated tar (diff_id); the calling thread
walks the tar headers. hashlib, isal and zstandard release the GIL on large buffers, so on
two cores inflating, hashing and walking overlap, whichever of them is the heaviest for
this layer. Both digests are checked when the stream ends — the walker drains past the tar
end marker so that this always happens.

An uncompressed blob *is* its tar: once its digest is verified, its diff_id is checked by
comparing the two (when both are sha256), not by hashing the same bytes a second time.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Callable

from inspector.errors import Cancelled, DigestMismatch
from inspector.index.entries import LayerIndex
from inspector.index.progress import LayerProgress
from inspector.sources.base import Layer
from inspector.sources.streams import PlainReader, VerifyingReader, open_decompressed, verifying

#: chunks in flight between the producer and the walker (each about 1 MiB)
QUEUE_DEPTH = 8
#: progress is reported at most this often (seconds) per layer
PROGRESS_INTERVAL = 0.1


_END = object()


class _Hasher:
    """sha256 of a chunk stream on its own thread (the diff_id of an inflated tar; the
    digest of an uncompressed blob, continuing ``start``, the hash of what was sniffed)."""

    def __init__(self, start=None) -> None:
        self.hash = hashlib.sha256() if start is None else start
        self.chunks: queue.Queue = queue.Queue(QUEUE_DEPTH)
        self.thread = threading.Thread(target=self._run, name="diff-id", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        update, get = self.hash.update, self.chunks.get
        while (chunk := get()) is not None:
            update(chunk)

    def finish(self) -> str:
        """The hex digest of everything handed over (waits for the thread)."""
        self.stop()
        return self.hash.hexdigest()

    def stop(self) -> None:
        if self.thread.is_alive():
            self.chunks.put(None)  # the thread drains the queue, so this never blocks long
            self.thread.join()


#: tar's record size: writers pad the archive to a multiple of it
TAR_RECORD = 10240


def _record_padded(hasher: _Hasher, size: int, got: str) -> str:
    """The diff_id of the tar as its writer padded it. zstd:chunked writers (skopeo 1.9's
    containers/storage) drop the zero padding after the end-of-archive marker, so the
    config's diff_id is that of the tar padded to a whole record: hash those zeros too."""
    pad = -size % TAR_RECORD
    if not pad:
        return got
    padded = hasher.hash.copy()
    padded.update(bytes(pad))
    return "sha256:" + padded.hexdigest()


def index_layer(layer: Layer, *, position: int = 0,
                on_progress: Callable[[LayerProgress], None] | None = None,
                cancel: threading.Event | None = None, what: str | None = None) -> LayerIndex:
    """Stream ``layer`` once and return its ``LayerIndex``.

    Verifies the blob against ``layer.digest``/``compressed_size`` and the tar against
    ``layer.diff_id``; raises ``DigestMismatch``/``SizeMismatch``/``CompressionError``/
    ``TarError`` naming the layer. ``on_progress`` is called from worker threads."""
    return _LayerRun(layer, position, on_progress, cancel,
                     what or f"layer {position + 1} ({layer.digest[:19]})").run()


class _LayerRun:
    """One layer being indexed: a producer thread (read, hash, inflate, hash) feeding the
    calling thread's tar walk through a bounded queue."""

    def __init__(self, layer: Layer, position: int,
                 on_progress: Callable[[LayerProgress], None] | None,
                 cancel: threading.Event | None, what: str) -> None:
        self.layer, self.what, self.cancel, self.on_progress = layer, what, cancel, on_progress
        self.progress = LayerProgress(position, layer.digest, layer.compressed_size,
                                      state="reading")
        self.chunks: queue.Queue = queue.Queue(QUEUE_DEPTH)
        self.stop = threading.Event()
        self.tar_size = 0
        self.last_report = 0.0

    def run(self) -> LayerIndex:
        layer = self.layer
        producer = threading.Thread(target=self.produce, name=f"layer-{self.progress.index}",
                                    daemon=True)
        producer.start()
        # the walker's modules (tarwalk → capture → the catalogers' registry, a few ms of
        # imports on the first layer) load while the producer reads and hashes
        from inspector.index.tarwalk import walk_tar

        index = LayerIndex(diff_id=layer.diff_id, digest=layer.digest,
                           compressed_size=layer.compressed_size)
        try:
            walk_tar(self.read, index, what=self.what,
                     cancelled=(self.cancel.is_set if self.cancel is not None else None))
        except BaseException:
            self.stop.set()
            while producer.is_alive():  # unblock a producer waiting on a full queue
                try:
                    self.chunks.get(timeout=0.05)
                except queue.Empty:
                    pass
            raise
        producer.join()
        index.uncompressed_size = self.tar_size
        self.progress.state = "done"
        self.report(force=True)
        return index

    def report(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.on_progress and (force or now - self.last_report >= PROGRESS_INTERVAL):
            self.last_report = now
            self.on_progress(self.progress)

    def count_compressed(self, n: int) -> None:
        self.progress.compressed_done += n

    def produce(self) -> None:
        """The producer thread: every chunk, or the exception that ended it, goes on the
        queue (re-raised in the walker's thread)."""
        raw = None
        try:
            raw = self.open_verified()
            self.pump(open_decompressed(raw, what=self.what), raw)
            self.chunks.put(_END)
        except BaseException as exc:  # handed to the walker thread, re-raised there
            self.chunks.put(exc)
        finally:
            if raw is not None:
                try:
                    raw.close()
                except Exception:
                    pass

    def open_verified(self) -> VerifyingReader:
        layer, what = self.layer, self.what
        raw = layer.open_compressed()
        if isinstance(raw, VerifyingReader) and raw.digest == layer.digest:
            raw.on_bytes = self.count_compressed
            return raw
        return verifying(raw, layer.digest, layer.compressed_size, what=what,
                         on_bytes=self.count_compressed)

    def pump(self, tar, raw: VerifyingReader) -> None:
        """Hand the tar stream's chunks on; hash them for the diff_id unless the blob was
        not compressed (its digest is then the tar's). An uncompressed blob read by a
        plain verifying reader is hashed on the hasher thread instead of in ``read``, so
        reading the next chunk and hashing this one overlap."""
        plain = isinstance(tar, PlainReader) and raw.algorithm == "sha256"
        skip = 0  # bytes at the start that the reader hashed itself (what it sniffed)
        if plain and type(raw) is VerifyingReader and raw.hasher is not None:
            skip = raw.count
            hasher: _Hasher | None = _Hasher(raw.hand_off())
        else:
            hasher = None if plain else _Hasher()
        cancel, stop, put, progress = self.cancel, self.stop, self.chunks.put, self.progress
        try:
            while True:
                if stop.is_set() or (cancel is not None and cancel.is_set()):
                    raise Cancelled()
                chunk = tar.read()
                if not chunk:
                    break
                if hasher is not None:
                    if skip >= len(chunk):
                        skip -= len(chunk)
                    else:
                        hasher.chunks.put(chunk[skip:] if skip else chunk)
                        skip = 0
                self.tar_size += len(chunk)
                progress.uncompressed_done = self.tar_size
                put(chunk)
                self.report()
            # at EOF the verifying reader below has checked the blob's size (and its
            # digest, unless it handed the hashing over)
            if hasher is None:
                got = raw.digest
            elif plain:
                raw.finish(hasher.finish())
                got = raw.digest
            else:
                got = "sha256:" + hasher.finish()
                if got != self.layer.diff_id and self.layer.media_type.endswith("+zstd"):
                    got = _record_padded(hasher, self.tar_size, got)
        finally:
            if hasher is not None:
                hasher.stop()
        if self.layer.diff_id and got != self.layer.diff_id:
            raise DigestMismatch(
                f"{self.what}: uncompressed tar hashes to {got}, config's diff_id is "
                f"{self.layer.diff_id}",
                hint="the image config and its layer disagree; the image is corrupt")

    def read(self) -> bytes:
        item = self.chunks.get()
        if item is _END:
            self.chunks.put(_END)  # idempotent EOF
            return b""
        if isinstance(item, BaseException):
            self.chunks.put(item)
            raise item
        return item
