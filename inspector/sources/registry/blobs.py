"""Blob downloads that stream straight into the caller while they verify, cache and resume.

``open_blob`` returns a ``streams.VerifyingReader`` for the blob's digest (so the indexer
does not hash it twice). Under it, ``_HttpBody`` reads the raw bytes (``Accept-Encoding:
identity``, never HTTP-decoded) and, when the connection breaks, re-requests the
**registry** URL (not a CDN redirect, whose signature may have expired) with
``Range: bytes=N-``: a ``206`` whose ``Content-Range`` starts at N continues; a ``200`` (or
a mismatched range) restarts and skips the N bytes already delivered — the digest checked
at EOF covers every byte either way. Verified bytes are teed into the blob cache and made
visible there only after the digest matched.
"""

from __future__ import annotations

import re
import threading

import requests

from inspector.errors import Cancelled, DigestMismatch, ImageNotFound, SizeMismatch, TransportError
from inspector.sources.registry.blobcache import BlobCache, CacheWriter
from inspector.sources.registry.client import BACKOFF_SECONDS, RegistryClient, _sleep
from inspector.sources.registry.pace import BROKEN, Pace, Stalled
from inspector.sources.streams import CHUNK, VerifyingReader

#: reconnects per blob before giving up (each after a short backoff)
MAX_RESUMES = 5
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


class _HttpBody:
    """The raw bytes of one blob from the registry, reconnecting with ``Range``."""

    def __init__(self, client: RegistryClient, digest: str, size: int | None, what: str) -> None:
        self.client, self.digest, self.size, self.what = client, digest, size, what
        self.offset = 0  # bytes handed to the reader so far
        self.stream_pos = 0  # blob position of the current response's next byte
        self.resp: requests.Response | None = None
        self.resumes = 0
        self.cancel: threading.Event = client.options.cancel
        self.ranges_sent = 0  # for tests
        self.pace = Pace(client.options.timeout, what=what)

    def _get(self, headers: dict) -> requests.Response:
        resp = self.client.request("GET", self.client.url(f"blobs/{self.digest}"), headers=headers,
                                   stream=True, what=self.what)
        if resp.status_code == 404:
            resp.close()
            raise ImageNotFound(f"{self.what} is missing from {self.client.ref.host}/{self.client.ref.path}",
                                hint="the image is incomplete on the registry; try another tag",
                                where=self.what, status=404)
        return resp

    def _open(self) -> requests.Response:
        """Send the GET (with Range when resuming); sets and returns ``self.resp``."""
        headers = {"Accept-Encoding": "identity"}
        if self.offset:
            headers["Range"] = f"bytes={self.offset}-"
            self.ranges_sent += 1
        resp = self._get(headers)
        if resp.status_code == 206 and self.offset:
            m = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
            if m and int(m.group(1)) == self.offset and (
                    self.size is None or m.group(3) in ("*", str(self.size))):
                self.resp, self.stream_pos = resp, self.offset
                return resp
            resp.close()  # not the range we asked for: start over without Range
            resp = self._get({"Accept-Encoding": "identity"})
        if resp.status_code != 200:
            resp.close()
            raise TransportError(f"{self.client.ref.host} answered HTTP {resp.status_code} "
                                 f"for {self.what}", where=self.what, status=resp.status_code)
        length = resp.headers.get("Content-Length", "")
        encoding = resp.headers.get("Content-Encoding", "identity") or "identity"
        if length.isdigit() and self.size is not None and int(length) != self.size \
                and encoding == "identity":
            resp.close()
            raise SizeMismatch(f"{self.what}: the registry sends {length} bytes, "
                               f"the manifest says {self.size}", where=self.what)
        # a 200 restarts from byte 0; what was already delivered is skipped below
        self.resp, self.stream_pos = resp, 0
        return resp

    def read(self, n: int = -1) -> bytes:
        n = CHUNK if n is None or n < 0 else n
        while True:
            if self.cancel.is_set():
                raise Cancelled()
            resp = self.resp
            if resp is None:
                resp = self._open()
            try:
                data = self.pace.read(resp.raw, n, decode_content=False)
            except (Stalled, *BROKEN) as exc:  # slow, idle or cut: resume with Range
                self._reconnect(exc)
                continue
            if not data:
                if self.size is not None and self.offset < self.size:
                    self._reconnect(None)  # closed early without an error
                    continue
                return b""
            start = self.stream_pos
            self.stream_pos += len(data)
            if start < self.offset:  # replayed bytes after a restart
                data = data[self.offset - start:]
                if not data:
                    continue
            self.offset += len(data)
            return data

    def _reconnect(self, exc: Exception | None) -> None:
        self.close()
        self.pace = Pace(self.client.options.timeout, what=self.what)
        self.resumes += 1
        if self.resumes > MAX_RESUMES:
            why = str(exc) if isinstance(exc, Stalled) else "the connection kept breaking"
            raise TransportError(f"download of {self.what} from {self.client.ref.host} failed "
                                 f"after {MAX_RESUMES} retries at byte {self.offset}: {why}",
                                 hint="check your network and retry; --timeout sets the patience",
                                 where=self.what) from exc
        _sleep(BACKOFF_SECONDS * self.resumes, self.cancel)

    def close(self) -> None:
        if self.resp is not None:
            self.resp.close()
            self.resp = None


class BlobStream(VerifyingReader):
    """A verifying reader for one registry blob that tees into the cache and commits there
    only once size and digest are verified at EOF."""

    def __init__(self, body, digest: str, size: int | None, *, what: str,
                 writer: CacheWriter | None) -> None:
        super().__init__(body, digest, size, what=what)
        self.writer = writer

    def read(self, n: int = -1) -> bytes:
        try:
            data = super().read(n)
        except BaseException:
            if self.writer:
                self.writer.abort()
            raise
        if data and self.writer:
            try:
                self.writer.write(data)
            except OSError:  # a full disk must not fail the download
                self.writer.abort()
                self.writer = None
        return data

    def _check(self) -> None:
        super()._check()
        if self.writer:
            self.writer.commit()

    def close(self) -> None:
        if self.writer and not self.verified:
            self.writer.abort()
        super().close()


class CachedBlobReader(VerifyingReader):
    """A blob from the digest-addressed cache, verified again as it is read (cache files
    are renamed into place without an fsync, so after a crash one could hold anything);
    a cached file that no longer matches its name is deleted, then reported."""

    def __init__(self, file, digest: str, size: int | None, *, what: str, evict=None) -> None:
        super().__init__(file, digest, size, what=what)
        self.evict = evict

    def _check(self) -> None:
        try:
            super()._check()
        except (DigestMismatch, SizeMismatch):
            if self.evict is not None:
                self.evict(self.digest)
            raise


def open_blob(client: RegistryClient, cache: BlobCache, digest: str, size: int | None, *,
              what: str) -> VerifyingReader:
    """A streaming, verifying reader for ``digest`` (from the cache when it is there)."""
    cached = cache.open(digest)
    if cached is not None:
        return CachedBlobReader(cached, digest, size, what=f"{what} (cached)",
                                evict=cache.evict)
    body = _HttpBody(client, digest, size, what)
    return BlobStream(body, digest, size, what=what, writer=cache.writer(digest))


def read_small_blob(client: RegistryClient, cache: BlobCache, digest: str, size: int | None, *,
                    limit: int, what: str) -> bytes:
    """A whole small blob (config), verified, capped at ``limit`` bytes."""
    data = cache.get_bytes(digest, limit)
    if data is not None:
        return data
    if size is not None and size > limit:
        raise SizeMismatch(f"{what} is {size} bytes, more than the {limit} we read")
    with open_blob(client, cache, digest, size, what=what) as stream:
        chunks, total = [], 0
        while chunk := stream.read(CHUNK):
            total += len(chunk)
            if total > limit:
                raise SizeMismatch(f"{what} is larger than {limit} bytes")
            chunks.append(chunk)
    return b"".join(chunks)
