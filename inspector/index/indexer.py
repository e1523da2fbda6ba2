"""Index one layer in one streaming pass, overlapping I/O, hashing and inflation.

A producer thread reads the blob, hashes it (digest), inflates it (ISA-L / zstd), hashes
the tar (diff_id) and hands chunks over a small queue; the calling thread walks the tar
headers. hashlib, isal and zstandard release the GIL on large buffers, so on two cores the
walker runs while the next chunk is read, hashed and inflated. Both digests are checked when
the stream ends — the walker drains past the tar end marker so that this always happens.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from inspector.errors import Cancelled, DigestMismatch, InspectorError, LayerError
from inspector.index.entries import LayerIndex
from inspector.index.tarwalk import walk_tar
from inspector.sources.base import Layer
from inspector.sources.streams import VerifyingReader, open_decompressed, verifying

#: chunks in flight between the producer and the walker (each about 1 MiB)
QUEUE_DEPTH = 8
#: progress is reported at most this often (seconds) per layer
PROGRESS_INTERVAL = 0.1


@dataclass
class LayerProgress:
    """Where one layer's indexing stands. Sizes in bytes."""

    index: int  # layer position, base-first
    digest: str
    compressed_total: int
    compressed_done: int = 0  # blob bytes read (downloaded, for a registry)
    uncompressed_done: int = 0  # tar bytes indexed
    state: str = "waiting"  # waiting|reading|cached|done|failed


_END = object()


def index_layer(layer: Layer, *, position: int = 0,
                on_progress: Callable[[LayerProgress], None] | None = None,
                cancel: threading.Event | None = None, what: str | None = None) -> LayerIndex:
    """Stream ``layer`` once and return its ``LayerIndex``.

    Verifies the blob against ``layer.digest``/``compressed_size`` and the tar against
    ``layer.diff_id``; raises ``DigestMismatch``/``SizeMismatch``/``CompressionError``/
    ``TarError`` naming the layer. ``on_progress`` is called from worker threads."""
    what = what or f"layer {position} ({layer.digest[:19]})"
    progress = LayerProgress(position, layer.digest, layer.compressed_size, state="reading")
    chunks: queue.Queue = queue.Queue(QUEUE_DEPTH)
    stop = threading.Event()
    tar_size = [0]
    last = [0.0]

    def report(force: bool = False) -> None:
        now = time.monotonic()
        if on_progress and (force or now - last[0] >= PROGRESS_INTERVAL):
            last[0] = now
            on_progress(progress)

    def count_compressed(n: int) -> None:
        progress.compressed_done += n

    def produce() -> None:
        raw = None
        try:
            raw = layer.open_compressed()
            if not (isinstance(raw, VerifyingReader) and raw.digest == layer.digest):
                raw = verifying(raw, layer.digest, layer.compressed_size, what=what,
                                on_bytes=count_compressed)
            else:
                raw.on_bytes = count_compressed
            tar = open_decompressed(raw, what=what)
            diff = hashlib.sha256()
            while True:
                if stop.is_set() or (cancel is not None and cancel.is_set()):
                    raise Cancelled()
                chunk = tar.read()
                if not chunk:
                    break
                diff.update(chunk)
                tar_size[0] += len(chunk)
                progress.uncompressed_done = tar_size[0]
                chunks.put(chunk)
                report()
            got = "sha256:" + diff.hexdigest()
            if layer.diff_id and got != layer.diff_id:
                raise DigestMismatch(
                    f"{what}: uncompressed tar hashes to {got}, config's diff_id is {layer.diff_id}",
                    hint="the image config and its layer disagree; the image is corrupt")
            chunks.put(_END)
        except BaseException as exc:  # handed to the walker thread, re-raised there
            chunks.put(exc)
        finally:
            if raw is not None:
                try:
                    raw.close()
                except Exception:
                    pass

    producer = threading.Thread(target=produce, name=f"layer-{position}", daemon=True)
    producer.start()

    def read() -> bytes:
        item = chunks.get()
        if item is _END:
            chunks.put(_END)  # idempotent EOF
            return b""
        if isinstance(item, BaseException):
            chunks.put(item)
            raise item
        return item

    index = LayerIndex(diff_id=layer.diff_id, digest=layer.digest,
                       compressed_size=layer.compressed_size)
    try:
        walk_tar(read, index, what=what,
                 cancelled=(cancel.is_set if cancel is not None else None))
    except BaseException:
        stop.set()
        while producer.is_alive():  # unblock a producer waiting on a full queue
            try:
                chunks.get(timeout=0.05)
            except queue.Empty:
                pass
        raise
    producer.join()
    index.uncompressed_size = tar_size[0]
    progress.state = "done"
    report(force=True)
    return index


def safe_index_layer(layer: Layer, **kwargs) -> LayerIndex:
    """``index_layer`` with unexpected failures turned into a ``LayerError`` naming it."""
    try:
        return index_layer(layer, **kwargs)
    except InspectorError:
        raise
    except OSError as exc:
        raise LayerError(f"layer {layer.digest[:19]}: cannot be read ({exc})") from exc
