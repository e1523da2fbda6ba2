"""A registry layer's table of contents, read with HTTP Range requests (zstd:chunked).

``RemoteToc`` is what a registry ``Layer`` carries in ``toc`` when its annotations announce
a zstd:chunked TOC. ``inspector.index.from_toc`` builds the layer's index from it with:

- ``entries()``: one ranged GET of the compressed TOC (two when only the footer says where
  it is), verified against the annotation's checksum, inflated within its announced size,
  its shape validated (``chunked.parse_toc``); ``prefetch()`` starts that in a thread as
  soon as the manifest is read (``image.open_registry_image``), so the TOC arrives while
  the config is fetched and the analysis starts, and ``entries()`` takes its result;
- ``read_files(wanted)``: the content of a few files (package databases) or its first
  bytes (executables), each fetched as the byte ranges of its zstd frames — many ranges
  in one request (``multipart/byteranges``), near ones merged, requests in parallel —
  inflated and verified against the file's digest (whole files) or its frames' digests.

A registry that answers a Range with ``200`` (the whole blob), a TOC that fails its digest
or is malformed raise ``TocError``: the caller then falls back to the full streamed pull.
``fetched``/``requests`` count what was transferred (the benchmark and the loading screen).
"""

from __future__ import annotations

import bisect
import hashlib
import io
import re
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future

from inspector.sources.registry.chunked import (
    TAIL,
    Chunk,
    TocEntry,
    TocError,
    TocPlace,
    from_footer,
    parse_toc,
)
from inspector.sources.registry.client import RegistryClient
from inspector.sources.registry.pace import read_body
from inspector.sources.registry.tocstream import TocStream
from inspector.sources.waits import result

#: ranges asked for in one request (a ~2.5 kB Range header: below nginx's 8 kB line limit)
RANGES_PER_REQUEST = 128
#: ranged requests in flight at once (each carries up to ``RANGES_PER_REQUEST`` ranges)
PARALLEL_REQUESTS = 4
#: ranges closer than this are merged into one (the gap is fetched and dropped): a
#: multipart part's headers cost ~100 bytes; on debian-12-slim 512 fetches 2.65 MB in 5
#: requests, 4096 2.79 MB (more gap than saved headers), 0 2.66 MB in 10
MERGE_GAP = 512
_CONTENT_RANGE = re.compile(rb"bytes (\d+)-(\d+)/(\d+|\*)", re.I)


class BrokenToc:
    """A TOC announcement that cannot be used: ``entries`` raises why."""

    digest = ""
    fetched = requests = 0
    on_fetch: Callable[[int], object] | None = None

    def __init__(self, error: TocError) -> None:
        self.error = error

    def prefetch(self) -> None:
        pass

    def entries(self) -> list[TocEntry]:
        raise self.error

    def read_files(self, wanted: list) -> list[bytes]:
        raise self.error


#: TOC reads started by ``prefetch`` and not yet taken by every layer that asked, by TOC
#: digest, shared by the images of the process (compare, audit: images sharing a layer
#: read its TOC once); weak: a read is forgotten once no layer holds it
_reads: weakref.WeakValueDictionary[str, Future[list[TocEntry]]] = weakref.WeakValueDictionary()
_reads_lock = threading.Lock()


def forget() -> None:
    """Share no TOC read started before (tests: each starts as a new process would)."""
    with _reads_lock:
        _reads.clear()


#: bytes one ``read_files`` call inflates for one file at most (a whole Go binary, a
#: viewer's first frames): past it the layer is read whole, streamed, as a full pull
MAX_READ = 256 << 20

class RemoteToc:
    def __init__(self, client: RegistryClient, digest: str, size: int, place: TocPlace, *,
                 what: str) -> None:
        self.client, self.blob, self.size, self.place, self.what = client, digest, size, place, what
        self.fetched = 0  # bytes received
        self.requests = 0
        #: called with ``fetched`` after each request (the loading screen's progress)
        self.on_fetch: Callable[[int], object] | None = None
        self._lock = threading.Lock()
        self._ahead: Future[list[TocEntry]] | None = None  # prefetch()'s, until taken
        self._borrowed = False  # _ahead is another layer's read of the same TOC

    @property
    def digest(self) -> str:
        """The TOC's digest (the checksum of the compressed TOC): the cache key."""
        return self.place.checksum

    # -- the TOC ----------------------------------------------------------------------
    def prefetch(self) -> None:
        """Start reading the TOC (fetch, verify, parse) on a helper thread of the client
        (the one whose connection ``RegistryClient.warm`` opened, for the first): the next
        ``entries()`` takes its outcome, entries or error, once; later calls read the TOC
        again (the caller keeps entries: ``toc_files``). A read of the same TOC digest
        another layer of the process started and that is not yet taken by all is shared
        (``_reads``): one download for a layer two images of a run hold."""
        with self._lock:
            if self._ahead is not None:
                return
            key = self.digest
            with _reads_lock:
                ahead = _reads.get(key) if key else None
                self._borrowed = ahead is not None
                if ahead is None:  # its error, if any, is raised by entries()
                    ahead = self.client.submit(self.read_toc)
                    if key:
                        _reads[key] = ahead
            self._ahead = ahead

    def entries(self) -> list[TocEntry]:
        """The TOC's entries in order (raises ``TocError`` when it cannot be used)."""
        with self._lock:
            ahead, self._ahead = self._ahead, None
        if ahead is None:
            return self.read_toc()
        try:
            listed = result(ahead)
        except Exception:
            if not self._borrowed:
                raise
            # another image's read failed: this layer reads it, and fails, as its own
            # (the error names this layer; a fault of that read alone is not this one's)
            return self.read_toc()
        if self.on_fetch is not None:  # its requests ran before anyone listened
            self.on_fetch(self.fetched)
        return listed

    def read_toc(self) -> list[TocEntry]:
        place = self.place
        if place.offset is None:
            start = max(0, self.size - TAIL)
            place = self.place = from_footer(place, self.ranges([(start, self.size)])[0],
                                             self.size, self.what)
        assert place.offset is not None
        stream = TocStream(place, self.size, self.what)  # parsed while it downloads
        compressed = self.ranges([(place.offset, place.offset + place.length)],
                                 on_chunk=stream.feed)[0]
        got = "sha256:" + hashlib.sha256(compressed).hexdigest()
        if got != place.checksum:
            raise TocError(f"{self.what}: zstd:chunked TOC hashes to {got[:19]}…, the "
                           f"annotation says {place.checksum[:19]}…")
        listed = stream.finish()
        if listed is not None:
            return listed
        # not in the streamed shape, or malformed: read whole, the error names the fault
        data = inflate(compressed, place.uncompressed, self.what, "TOC")
        return parse_toc(data, self.size, self.what, place.offset)

    # -- file contents ----------------------------------------------------------------
    def read_files(self, wanted: list[tuple[TocEntry, int]]) -> list[bytes]:
        """For each ``(entry, upto)``: the file's first bytes, at least ``upto`` of them (or
        all): its frames from the first up to the one holding byte ``upto - 1``, each
        inflated and checked against its chunk digest when it has one; a whole file is
        checked against the file's digest."""
        frames = self._frames(wanted)
        flat = sorted({(c.start, c.end) for chunks in frames for c in chunks})
        return self._whole(wanted, frames, dict(zip(flat, self.ranges(flat), strict=True)))

    def _frames(self, wanted: list[tuple[TocEntry, int]]) -> list[list[Chunk]]:
        """``read_files``' frames of each file (refused past ``MAX_READ``)."""
        frames: list[list[Chunk]] = []
        for entry, upto in wanted:
            chunks = entry.chunks or []
            n, done = 0, 0
            while n < len(chunks) and done < upto:
                done += chunks[n].size
                n += 1
            if done > MAX_READ:  # the sizes are the TOC's word: a frame may be a bomb
                raise TocError(f"{self.what}: {entry.name[:80]!r} would inflate to {done:,} "
                               f"bytes, more than a ranged read holds ({MAX_READ:,})")
            frames.append(chunks[:n])
        return frames

    def _whole(self, wanted: list[tuple[TocEntry, int]], frames: list[list[Chunk]],
               got: dict[tuple[int, int], bytes]) -> list[bytes]:
        """``read_files``' outcome from the bytes of the frames (``got``), each checked."""
        out = []
        for (entry, _), chunks in zip(wanted, frames, strict=True):
            parts = []
            for c in chunks:
                data = self.inflate(got[(c.start, c.end)], c.size, repr(entry.name[:80])) \
                    if not c.loose else inflate(got[(c.start, c.end)], c.size, self.what,
                                                repr(entry.name[:80]), prefix=True)
                if len(data) != c.size or (c.digest and _sha(data) != c.digest):
                    raise TocError(f"{self.what}: a chunk of {entry.name[:80]!r} does not match "
                                   "its TOC digest")
                parts.append(data)
            data = b"".join(parts)
            if len(chunks) == len(entry.chunks or ()) and entry.digest and \
                    _sha(data) != entry.digest:
                raise TocError(f"{self.what}: {entry.name[:80]!r} does not match its TOC digest")
            out.append(data)
        return out

    def inflate(self, data: bytes, size: int, name: str) -> bytes:
        """One frame of a file's content (a zstd frame here)."""
        return inflate(data, size, self.what, name)

    # -- ranged GETs --------------------------------------------------------------------
    def ranges(self, wanted: list[tuple[int, int]], *,
               on_chunk: Callable[[bytes], object] | None = None) -> list[bytes]:
        """The bytes of each ``(start, end)`` (end exclusive), near ones fetched together.
        ``on_chunk``: sees the body's pieces as they arrive (one request only)."""
        merged: list[list[int]] = []
        for start, end in sorted(set(wanted)):
            if not 0 <= start < end <= self.size:
                raise TocError(f"{self.what}: range {start}-{end} outside the blob")
            if merged and start <= merged[-1][1] + MERGE_GAP:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        batches = [[(s, e) for s, e in merged[i:i + RANGES_PER_REQUEST]]
                   for i in range(0, len(merged), RANGES_PER_REQUEST)]
        spans: dict[tuple[int, int], bytes] = {}
        if len(batches) > 1:  # latency, not bandwidth, bounds many small requests
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=min(PARALLEL_REQUESTS, len(batches)),
                                    thread_name_prefix="toc-ranges") as pool:
                for got in pool.map(self._get, batches):
                    spans.update(got)
        elif batches:
            spans.update(self._get(batches[0], on_chunk))
        starts = [s for s, _ in merged]
        out = []
        for start, end in wanted:
            s, e = merged[bisect.bisect_right(starts, start) - 1]
            out.append(spans[(s, e)][start - s:end - s])
        return out

    def _get(self, batch: list[tuple[int, int]],
             on_chunk: Callable[[bytes], object] | None = None) -> dict[tuple[int, int], bytes]:
        header = "bytes=" + ",".join(f"{s}-{e - 1}" for s, e in batch)
        limit = sum(e - s for s, e in batch) + 1024 * len(batch) + 4096
        resp = self.client.request("GET", self.client.url(f"blobs/{self.blob}"),
                                   headers={"Range": header, "Accept-Encoding": "identity"},
                                   stream=True, what=self.what)
        with resp:
            if resp.status_code != 206:
                raise TocError(f"{self.what}: the registry answered HTTP {resp.status_code} to a "
                               "Range request (ranges not supported)")
            body = read_body(resp, limit, window=self.client.options.timeout, what=self.what,
                             on_chunk=on_chunk)
            ctype = resp.headers.get("Content-Type", "")
            crange = resp.headers.get("Content-Range", "")
        with self._lock:  # requests run in parallel: the counts only grow
            self.fetched += len(body)
            self.requests += 1
            if self.on_fetch is not None:
                self.on_fetch(self.fetched)
        if len(body) > limit:
            raise TocError(f"{self.what}: the registry sent more than the ranges asked for")
        if ctype.lower().startswith("multipart/byteranges"):
            parts = _multipart(body, ctype, self.what)
        else:
            parts = [(crange.encode(), body)]
        got: dict[tuple[int, int], bytes] = {}
        for crange_b, data in parts:
            m = _CONTENT_RANGE.search(crange_b)
            if not m or int(m.group(2)) - int(m.group(1)) + 1 != len(data):
                raise TocError(f"{self.what}: the registry's ranged answer is malformed")
            got[(int(m.group(1)), int(m.group(2)) + 1)] = data
        if set(got) != set(batch):
            raise TocError(f"{self.what}: the registry answered other ranges than asked for")
        return got


def _multipart(body: bytes, ctype: str, what: str) -> list[tuple[bytes, bytes]]:
    m = re.search(r'boundary="?([^";]+)"?', ctype)
    if not m:
        raise TocError(f"{what}: multipart answer without a boundary")
    delim = b"--" + m.group(1).encode()
    parts = []
    for piece in body.split(delim)[1:]:
        if piece.startswith(b"--"):
            break
        head, sep, data = piece.partition(b"\r\n\r\n")
        if not sep or not data.endswith(b"\r\n"):
            raise TocError(f"{what}: malformed multipart answer")
        crange = next((line for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-range:")), b"")
        parts.append((crange, data[:-2]))
    return parts


def inflate(data: bytes, size: int, what: str, name: str, *, prefix: bool = False) -> bytes:
    """``data`` (one or more zstd frames) inflated, refusing more than ``size`` bytes
    (``prefix``: the first ``size`` bytes, whatever follows them: a loose chunk)."""
    import zstandard

    try:
        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data),
                                                             read_across_frames=True)
        out = reader.read(size + 1)
        rest = out
        while rest and len(out) <= size:
            rest = reader.read(size + 1 - len(out))
            out += rest
    except zstandard.ZstdError as exc:
        raise TocError(f"{what}: zstd:chunked {name} does not inflate ({exc})") from None
    if prefix and len(out) >= size:
        return out[:size]
    if len(out) > size:
        raise TocError(f"{what}: zstd:chunked {name} inflates past its announced {size} bytes")
    return out


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()
