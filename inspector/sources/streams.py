"""Byte streams: verify while reading, decompress by magic bytes, count for progress.

Every reader here is a plain file-like object with ``read(n)`` and ``close()``; they stack:
``open_decompressed(verifying(raw, digest, size))``. A verifying reader checks size and
digest when it reaches EOF, so callers must read to the end (the indexer drains the stream
past the tar end marker so that verification always runs).
"""

from __future__ import annotations

import hashlib
import io
import struct
from collections.abc import Callable
from typing import BinaryIO

from inspector.errors import CompressionError, DigestMismatch, IntegrityError, SizeMismatch

#: what a reader reads from: a file object or a raw stream (e.g. another reader)
Readable = BinaryIO | io.RawIOBase

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: zstd skippable frames (0x184D2A50–0x184D2A5F, little endian) may precede the data frame
ZSTD_SKIPPABLE_PREFIX = (b"\x50", b"\x51", b"\x52", b"\x53", b"\x54", b"\x55", b"\x56", b"\x57",
                         b"\x58", b"\x59", b"\x5a", b"\x5b", b"\x5c", b"\x5d", b"\x5e", b"\x5f")
XZ_MAGIC = b"\xfd7zXZ\x00"
BZIP2_MAGIC = b"BZh"
_U32 = struct.Struct("<I").unpack_from
_ZSTD_MAGIC_U32 = 0xFD2FB528
_SKIPPABLE_U32 = 0x184D2A50  # the low 4 bits vary
#: leading bytes that identify every format above
SNIFF_BYTES = 8

#: read size for compressed input; large enough that hashing/inflation release the GIL
CHUNK = 1 << 20
#: largest decompressed piece handed on (bounds memory and the walker's buffer copies)
OUT_CHUNK = 1 << 20


class _Wrapper(io.RawIOBase):
    """Base for our stacked readers: ``readinto`` on top of ``read``."""

    def __init__(self, inner: Readable) -> None:
        super().__init__()
        self.inner = inner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # pragma: no cover - tarfile uses read()
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            super().close()

    def _corrupt(self, message: str, exc: Exception | None) -> CompressionError:
        """The error for undecodable input. If the bytes below are being verified, read
        them to the end first: a digest mismatch is the real cause (a damaged download or
        cache file) and is raised instead, so the verifying reader can act on it."""
        if isinstance(self.inner, VerifyingReader):
            try:
                while self.inner.read(CHUNK):
                    pass
            except IntegrityError as integrity:
                raise integrity from exc
        return CompressionError(message, hint="the blob is incomplete or corrupt; re-download it")


class VerifyingReader(_Wrapper):
    """Hashes everything read; at EOF checks the total size and the digest.

    ``size`` may be ``None`` when unknown. Reading past ``size`` is an error as soon as it
    happens (a body longer than its descriptor is never trusted)."""

    def __init__(self, inner: BinaryIO, digest: str, size: int | None, *, what: str,
                 on_bytes: Callable[[int], None] | None = None) -> None:
        super().__init__(inner)
        algo, _, self.expected_hex = digest.partition(":")
        try:
            self.hasher: hashlib._Hash | None = hashlib.new(algo)
            self.algorithm = self.hasher.name
        except ValueError as exc:
            raise DigestMismatch(f"{what}: unsupported digest algorithm {algo!r}") from exc
        self.digest = digest
        self.size = size
        self.what = what
        self.count = 0
        self.on_bytes = on_bytes
        self.verified = False

    def read(self, n: int = -1) -> bytes:
        data = self.inner.read(n if n is not None and n >= 0 else CHUNK * 64)
        if data:
            if self.hasher is not None:
                self.hasher.update(data)
            self.count += len(data)
            if self.on_bytes:
                self.on_bytes(len(data))
            if self.size is not None and self.count > self.size:
                raise SizeMismatch(f"{self.what}: more than the {self.size} bytes its descriptor states")
        elif n != 0 and not self.verified:
            self._check()
        return data

    def _check(self) -> None:
        if self.size is not None and self.count != self.size:
            raise SizeMismatch(
                f"{self.what}: truncated, got {self.count} of {self.size} bytes",
                hint="the blob is incomplete; re-download or re-export the image",
            )
        if self.hasher is not None:  # (handed off: ``finish`` checks the digest)
            self.finish(self.hasher.hexdigest())

    def hand_off(self):
        """Stop hashing in ``read`` and return the hash of what was read so far: the
        caller hashes the rest (on a thread of its own, while the next chunk is read) and
        calls ``finish`` with the digest once the reader reached its end. The size is
        still checked here. Only for this class: subclasses act when ``_check`` verifies."""
        if type(self) is not VerifyingReader:
            raise TypeError(f"{type(self).__name__} verifies in _check; it cannot hand off")
        hasher, self.hasher = self.hasher, None
        return hasher

    def finish(self, got: str) -> None:
        """Check the content's hex digest ``got`` against the expected one."""
        if got != self.expected_hex:
            raise DigestMismatch(
                f"{self.what}: content hashes to {self.algorithm}:{got}, expected {self.digest}",
                hint="the blob is corrupt; re-download or re-export the image",
            )
        self.verified = True


def verifying(inner: BinaryIO, digest: str, size: int | None, *, what: str,
              on_bytes: Callable[[int], None] | None = None) -> VerifyingReader:
    """Wrap ``inner`` so size and digest are checked at EOF (see ``VerifyingReader``)."""
    return VerifyingReader(inner, digest, size, what=what, on_bytes=on_bytes)


class _GzipReader(_Wrapper):
    """Multi-member gzip via ISA-L (``isal_zlib``), which releases the GIL while inflating.
    Output comes in pieces of at most ``OUT_CHUNK`` bytes however well the data compresses
    (a 1 MiB read of a 30:1 layer must not become one 30 MiB string)."""

    def __init__(self, inner: Readable, first: bytes, what: str) -> None:
        super().__init__(inner)
        self.what = what
        self.pending = first
        from isal import isal_zlib  # only gzip layers need it (not a warm start)

        self.zlib = isal_zlib
        self._error: type[Exception] = isal_zlib.error  # type: ignore[assignment]  # a class
        self.d = isal_zlib.decompressobj(16 + isal_zlib.MAX_WBITS)
        self.eof = False

    def _next_input(self) -> bytes:
        """Compressed bytes to feed next; starts a new decompressor at a member boundary;
        ``b""`` at the end of the stream."""
        d = self.d
        if d.unconsumed_tail:
            return d.unconsumed_tail
        if d.eof:  # a member ended: another may follow (multi-member gzip, eStargz)
            rest = d.unused_data.lstrip(b"\x00")  # or trailing zero padding
            while not rest:
                more = self.pending or self.inner.read(CHUNK)
                self.pending = b""
                if not more:
                    return b""
                rest = more.lstrip(b"\x00")
            self.d = self.zlib.decompressobj(16 + self.zlib.MAX_WBITS)
            return rest
        data = self.pending or self.inner.read(CHUNK)
        self.pending = b""
        if not data:
            raise CompressionError(f"{self.what}: truncated gzip stream",
                                   hint="the blob is incomplete or corrupt")
        return data

    def read(self, n: int = -1) -> bytes:
        try:
            while not self.eof:
                data = self._next_input()
                if not data:
                    self.eof = True
                    break
                out = self.d.decompress(data, OUT_CHUNK)
                if out:
                    return out
        except self._error as exc:
            raise self._corrupt(f"{self.what}: corrupt gzip data ({exc})", exc) from exc
        return b""


class _ZstdFrames:
    """Follows zstd frame boundaries through the compressed bytes (frame and block headers
    only; block contents are skipped), so that input ending inside a frame is reported as
    truncated: zstandard's stream reader ends silently there, and a cut layer would
    otherwise surface as a diff_id mismatch against the empty tar (RFC 8878 §3.1).
    One loop over positions per piece: zstd:chunked has a frame per file (~300k frames,
    3 headers each, for 150k files), so per-header calls would cost more than decoding."""

    def __init__(self) -> None:
        self.rest = b""  # an incomplete header at the end of the last piece
        self.skip = 0  # bytes to pass over (frame header rest, block contents, checksums)
        self.in_frame = False  # a block header comes next (else a frame's magic)
        self.checksum = False
        self.lost = False  # not a frame sequence we follow: the decoder reports it

    @property
    def complete(self) -> bool:
        """The input so far ends exactly at a frame boundary."""
        return self.lost or not (self.in_frame or self.rest or self.skip)

    def feed(self, data: bytes) -> None:
        n = len(data)
        if self.lost or self.skip >= n:
            self.skip -= 0 if self.lost else n
            return
        pos, self.skip = self.skip, 0
        if self.rest:  # (then skip was 0)
            data, self.rest = self.rest + data, b""
            n = len(data)
        in_frame, checksum = self.in_frame, self.checksum
        while pos < n:
            if in_frame:  # block header: last-block bit, type (2 bits), size (21 bits)
                if pos + 3 > n:
                    break
                value = data[pos] | data[pos + 1] << 8 | data[pos + 2] << 16
                kind = value >> 1 & 3
                if kind == 3:  # reserved block type: the decoder fails on it
                    self.lost = True
                    return
                pos += 4 if kind == 1 else 3 + (value >> 3)  # RLE blocks hold one byte
                if value & 1:  # last block: an optional checksum, then the next frame
                    in_frame = False
                    pos += 4 if checksum else 0
                continue
            if pos + 5 > n:
                break
            magic = _U32(data, pos)[0]
            if magic == _ZSTD_MAGIC_U32:  # then the frame header descriptor
                fhd = data[pos + 4]
                single = fhd >> 5 & 1
                checksum = bool(fhd & 4)
                pos += 5 + (1 - single) + (0, 1, 2, 4)[fhd & 3] \
                    + (single, 2, 4, 8)[fhd >> 6]  # window, dictionary id, content size
                in_frame = True
            elif magic & 0xFFFFFFF0 == _SKIPPABLE_U32:
                if pos + 8 > n:
                    break
                pos += 8 + _U32(data, pos + 4)[0]
            else:
                self.lost = True
                return
        if pos < n:
            self.rest = data[pos:]
        else:
            self.skip = pos - n
        self.in_frame, self.checksum = in_frame, checksum


class _Prefixed:
    """``first`` then the rest of ``inner`` (the sniffed bytes go back in front), each
    piece shown to ``frames``."""

    def __init__(self, first: bytes, inner: Readable, frames: _ZstdFrames) -> None:
        self.first, self.inner, self.frames = first, inner, frames

    def read(self, n: int = -1) -> bytes:
        if self.first:
            data, self.first = self.first, b""
        else:
            data = self.inner.read(n)
        self.frames.feed(data)
        return data


class _ZstdReader(_Wrapper):
    """zstd, across frames (and skippable frames), in bounded output pieces."""

    def __init__(self, inner: Readable, first: bytes, what: str) -> None:
        super().__init__(inner)
        self.what = what
        import zstandard  # only zstd layers need it

        self._error = zstandard.ZstdError
        self.frames = _ZstdFrames()
        source = _Prefixed(first, inner, self.frames)
        self.reader = zstandard.ZstdDecompressor().stream_reader(
            source,  # type: ignore[arg-type]  # it has read(), all stream_reader calls
            read_size=CHUNK, read_across_frames=True, closefd=False)

    def read(self, n: int = -1) -> bytes:
        """Up to ``OUT_CHUNK`` bytes, fewer only at the end: zstd:chunked writes a frame per
        file, and a piece per frame would send ~300k tiny pieces through the walker."""
        pieces: list[bytes] = []
        size = 0
        try:
            while size < OUT_CHUNK:
                piece = self.reader.read(OUT_CHUNK - size)
                if not piece:
                    break
                pieces.append(piece)
                size += len(piece)
        except self._error as exc:
            raise self._corrupt(f"{self.what}: corrupt zstd data ({exc})", exc) from exc
        out = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        if not out and not self.frames.complete:
            raise self._corrupt(f"{self.what}: truncated zstd stream (it ends inside a frame)",
                                None)
        return out


class PlainReader(_Wrapper):
    """An uncompressed blob: its bytes as they are (the tar itself)."""

    def __init__(self, inner: Readable, first: bytes) -> None:
        super().__init__(inner)
        self.pending = first

    def read(self, n: int = -1) -> bytes:
        if self.pending:
            data, self.pending = self.pending, b""
            return data
        return self.inner.read(CHUNK if n is None or n < 0 else max(n, CHUNK))


def sniff(first: bytes) -> str:
    """``gzip``, ``zstd``, ``xz``, ``bzip2`` or ``tar`` (anything else) from leading bytes."""
    if first.startswith(GZIP_MAGIC):
        return "gzip"
    if first.startswith(ZSTD_MAGIC) or (first[1:4] == b"\x2a\x4d\x18" and first[:1] in ZSTD_SKIPPABLE_PREFIX):
        return "zstd"
    if first.startswith(XZ_MAGIC):
        return "xz"
    if first.startswith(BZIP2_MAGIC):
        return "bzip2"
    return "tar"


def open_decompressed(raw: Readable, *, what: str) -> io.RawIOBase:
    """Decompress ``raw`` according to its magic bytes (never trusting the media type).

    ``read()`` returns chunks of arbitrary size (about a megabyte); ``b""`` at EOF, after the
    whole input has been consumed (so a verifying reader below has checked its digest).
    """
    first = raw.read(CHUNK)
    while first and len(first) < SNIFF_BYTES:  # a short read must not hide the magic
        more = raw.read(CHUNK)
        if not more:
            break
        first += more
    kind = sniff(first)
    if kind == "gzip":
        return _GzipReader(raw, first, what)
    if kind == "zstd":
        return _ZstdReader(raw, first, what)
    if kind in ("xz", "bzip2"):
        from inspector.errors import UnsupportedMediaType
        raw.close()
        raise UnsupportedMediaType(f"{what}: {kind}-compressed layers are not supported")
    return PlainReader(raw, first)
