"""The one on-disk cache: one directory convention, one atomic write, one framed format.

Layout under the cache root (``Options.resolved_cache_dir()``; every kind is a row of
``cache_kinds.KINDS``)::

    <root>/<kind>/v<N>-<code>/<name><suffix>   framed entries: index, analysis, export, daemon
    <root>/blobs/<algo>/<hex>                  registry blobs, content-addressed (their name
                                               is their digest; readers verify it)
    <root>/tmp/                                spools of compressed archives and docker saves

Keying rule, written once here: an entry's file name is derived from its key and its
directory from the format version and the digest of the code that computes it
(``codehash``), but neither name is trusted. Every framed entry carries its full key and
the code digest inside its checksummed body, and ``CacheDir.read`` checks both: an entry
copied over another image's entry, truncated, or flipped by one bit is discarded (and
rebuilt by the caller), never served.

Frame::

    magic (8) | body | header | header length (4) | body length (8) | crc32 (4)

``body`` is the caller's raw sections; ``header`` is one JSON object (``key``, ``code``,
``byteorder`` and the caller's fields); the CRC covers everything between the magic and
itself. Everything after the magic is written in order, so an entry is streamed: the
body piece by piece as the caller produces it (``CacheDir.writer``), the checksum
computed as it goes, then the header, which may hold what only the end of the body
tells (lengths). A reader maps the file and checks lengths and CRC before it trusts a
byte; the body it gets is a view of the mapping, not a copy.

Every write goes to a ``.tmp-*`` file in the entry's directory, held under an exclusive
``flock`` while it is written, then renamed into place; the temp file is removed on any
failure. Readers hold a shared ``flock`` while they open and map an entry, and eviction (``cache_admin``)
skips any file it cannot lock exclusively. A cache that cannot be used — read-only, full,
not a directory — only costs speed: it degrades to "no cache" with one warning line.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import mmap
import os
import re
import struct
import sys
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from inspector import cache_admin
from inspector.cache_kinds import KINDS, TMP_PREFIX
from inspector.cache_kinds import SPOOL_DIR as SPOOL_DIR  # the spools' directory, for their users

if TYPE_CHECKING:
    from inspector.options import Options

#: the frame's footer: header length, body length, then the CRC32 of all after the magic
_LENGTHS = struct.Struct("<IQ")
_CRC = struct.Struct("<I")
_FOOTER = _LENGTHS.size + _CRC.size
_DIGEST_KEY = re.compile(r"^([a-z0-9]+):([a-f0-9]{32,128})$")

_warned: set[str] = set()
_warn_lock = threading.Lock()
#: roots found unusable (or full) in this process: nothing more is written there
_disabled: set[str] = set()
#: roots checked, swept and trimmed to the cap in this process
_started: set[str] = set()
_start_lock = threading.Lock()


#: where warnings go instead of stderr (the TUI sets it to show a notification)
on_warning: Callable[[str], None] | None = None


def warn(root: Path, reason: str) -> None:
    """One line on stderr per cache root and reason: the run goes on without the cache."""
    message = f"cache {root}: {reason}; continuing without the cache"
    with _warn_lock:
        if message in _warned:
            return
        _warned.add(message)
    if on_warning is not None:
        on_warning(message)
    else:
        from inspector.errors import print_line

        print_line(f"warning: {message}")


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def disable(root: Path, exc: OSError) -> None:
    """Stop writing under ``root`` for the rest of the process (full or read-only)."""
    _disabled.add(str(root))
    warn(root, _reason(exc))


def usable(root: Path) -> bool:
    """Whether ``root`` can hold the cache: it is (or can be made) a writable directory.
    The first call per root also sweeps stale temp files and enforces the size cap
    (``cache_admin.start``). A root that cannot be used is warned about once."""
    key = str(root)
    if key in _disabled:
        return False
    if key in _started:
        return True
    with _start_lock:
        if key in _started:
            return True
        try:
            root.mkdir(parents=True, exist_ok=True)
            if not os.access(root, os.W_OK | os.X_OK):
                import tempfile

                with tempfile.TemporaryFile(dir=root):  # raises with the real reason
                    raise PermissionError(13, "not writable")
        except OSError as exc:
            if isinstance(exc, FileExistsError | NotADirectoryError):
                exc = NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
            disable(root, exc)
            return False
        _started.add(key)
    cache_admin.start(root)
    return True


def usable_dir(options: Options) -> Path | None:
    """The cache root of ``options`` when caching is on and the directory can be used
    (else ``None``, after one warning line: the run goes on without the cache)."""
    if options.no_cache:
        return None
    root = options.resolved_cache_dir()
    return root if usable(root) else None


def entry_name(key: str) -> str:
    """The file name of ``key``: ``algo-hex`` for a digest, else the sha256 of the key."""
    m = _DIGEST_KEY.match(key)
    if m:
        return f"{m.group(1)}-{m.group(2)}"
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


def lock_shared(f: BinaryIO) -> None:
    """Mark ``f`` as being read: eviction skips it (best effort, advisory)."""
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        pass  # an evictor holds it this instant; the open file stays readable anyway


def temp_file(directory: Path, *, prefix: str = TMP_PREFIX, suffix: str = "") -> tuple[BinaryIO, Path]:
    """A new file in ``directory``, opened ``w+b`` and exclusively locked so that the
    sweep of stale temp files leaves it alone while this process lives."""
    for attempt in range(3):  # a concurrent prune may remove the empty directory meanwhile
        directory.mkdir(parents=True, exist_ok=True)
        try:
            import tempfile  # (with shutil and random: not for a run that writes nothing)

            fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=directory)
            break
        except FileNotFoundError:
            if attempt == 2:
                raise
    f = os.fdopen(fd, "w+b")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:
        pass
    return f, Path(name)


def atomic_write(path: Path, chunks: Iterable[bytes]) -> None:
    """Write ``chunks`` to ``path`` through a locked temp file and a rename (no fsync:
    every reader verifies). The temp file is removed on any failure; ``OSError`` is
    raised for the caller to turn into a warning."""
    f, tmp = temp_file(path.parent)
    try:
        with f:
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.replace(tmp, path)
    except BaseException:
        discard(f, tmp)
        raise


def discard(f: BinaryIO, path: Path) -> None:
    """Close and remove a temp file after a failure (its close may fail too: a full disk)."""
    try:
        f.close()
    except OSError:
        pass
    try:
        path.unlink()
    except OSError:
        pass


def _tail(header: dict, blen: int, crc: int) -> bytes:
    """The header, its length, the body's length and the checksum of all that follows
    the magic (``crc`` covers the body so far)."""
    head = json.dumps(header, ensure_ascii=True, separators=(",", ":")).encode()
    lengths = _LENGTHS.pack(len(head), blen)
    crc = zlib.crc32(lengths, zlib.crc32(head, crc))
    return head + lengths + _CRC.pack(crc)


def frame(magic: bytes, header: dict, sections: Iterable[bytes]) -> list[bytes]:
    """The chunks of a framed entry (see the module docstring); ``sections`` are bytes."""
    out, crc, blen = [magic], 0, 0
    for s in sections:
        crc = zlib.crc32(s, crc)
        blen += len(s)
        out.append(s)
    out.append(_tail(header, blen, crc))
    return out


def unframe(magic: bytes, data) -> tuple[dict, memoryview] | None:
    """``(header, body)`` of a framed entry held in ``data`` (any buffer: bytes, an
    mmap); ``body`` is a view into it, not a copy. ``None`` when magic, lengths or
    checksum do not match."""
    view = memoryview(data)
    size = len(view)
    if size < len(magic) + _FOOTER or view[:len(magic)] != magic:
        return None
    hlen, blen = _LENGTHS.unpack_from(view, size - _FOOTER)
    if size != len(magic) + blen + hlen + _FOOTER:
        return None
    if zlib.crc32(view[len(magic):size - _CRC.size]) != _CRC.unpack_from(view, size - _CRC.size)[0]:
        return None
    body_end = len(magic) + blen
    try:
        header = json.loads(bytes(view[body_end:body_end + hlen]))
    except ValueError:
        return None
    if not isinstance(header, dict):
        return None
    return header, view[len(magic):body_end]


class EntryWriter:
    """The body of one entry being written: ``write`` appends bytes (the checksum is
    computed as they go); ``header`` may be filled in until the entry is committed,
    since it is written after the body. A cache file that cannot be written (a full
    disk) stops the entry, never the caller: further writes are dropped."""

    def __init__(self, f: BinaryIO, tmp: Path, magic: bytes, header: dict) -> None:
        self.header: dict = {}
        self._fixed = header
        self.failed: OSError | None = None
        self.length = 0  # bytes of body so far
        self._f, self._tmp, self._crc = f, tmp, 0
        self._write(magic)

    def _write(self, data) -> None:
        if self.failed is not None:
            return
        try:
            self._f.write(data)
        except OSError as exc:
            self.failed = exc
            discard(self._f, self._tmp)

    def write(self, data) -> int:
        """Append ``data`` (bytes-like) to the body; returns its length (``io`` style)."""
        self._crc = zlib.crc32(data, self._crc)
        n = len(data) if not isinstance(data, memoryview) else data.nbytes
        self.length += n
        self._write(data)
        return n

    def _commit(self, path: Path) -> None:
        self._write(_tail({**self.header, **self._fixed}, self.length, self._crc))
        if self.failed is not None:
            raise self.failed
        try:
            with self._f:
                self._f.flush()
                os.replace(self._tmp, path)
        except OSError:
            discard(self._f, self._tmp)
            raise


class CacheDir:
    """One kind of framed entry: ``<root>/<kind>/v<version>-<code digest>/``.

    ``code`` names the sources the entries are computed by (``codehash.source_digest``);
    ``read`` returns ``None`` for anything missing, damaged, or written for another key,
    another code digest or another byte order — and removes what it rejected. (A plain
    class, not a dataclass: creating one costs every process ~0.5 ms of import.)"""

    def __init__(self, root: Path, kind: str, version: int, magic: bytes,
                 code: tuple[str, ...] = (), suffix: str = "") -> None:
        self.root, self.kind, self.version, self.magic = root, kind, version, magic
        self.code, self.suffix = code, suffix

    @classmethod
    def of(cls, root: Path, kind: str) -> CacheDir:
        """The registered kind ``kind`` (``cache_kinds.KINDS``) under ``root``."""
        k = KINDS[kind]
        return cls(Path(root), k.name, k.version, k.magic, k.code, k.suffix)

    @cached_property
    def code_digest(self) -> str:
        from inspector.codehash import source_digest

        return source_digest(self.code) if self.code else "0"

    @property
    def dir(self) -> Path:
        return Path(self.root) / self.kind / f"v{self.version}-{self.code_digest}"

    def path(self, key: str) -> Path:
        return self.dir / f"{entry_name(key)}{self.suffix}"

    def has(self, key: str) -> bool:
        """Whether an entry file exists, without reading it (``read`` still checks it)."""
        return bool(key) and self.path(key).is_file()

    def read(self, key: str) -> tuple[dict, memoryview] | None:
        """``(header, body)`` of ``key``'s entry; ``body`` is a read-only view of the
        file mapped in memory (no copy), valid as long as the caller holds it (a
        replaced or evicted entry is renamed over or unlinked, never changed in place)."""
        path = self.path(key)
        try:
            with open(path, "rb") as f:
                lock_shared(f)
                size = os.fstat(f.fileno()).st_size
                data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        except (OSError, ValueError):
            return None
        got = unframe(self.magic, data)
        if got is None or got[0].get("key") != key or got[0].get("code") != self.code_digest \
                or got[0].get("byteorder") != sys.byteorder:
            self.discard(key)
            return None
        try:
            os.utime(path)  # least recently *used*: eviction reads mtimes
        except OSError:
            pass
        return got

    @contextmanager
    def writer(self, key: str) -> Iterator[EntryWriter | None]:
        """Stream one entry: ``with store.writer(key) as entry:`` then ``entry.write``
        the body piece by piece and fill ``entry.header``; it is committed (renamed into
        place) when the block ends, and removed with its temp file if the block raises.
        ``None`` when the cache cannot be used; a cache that fails meanwhile only costs
        speed (one warning), the caller's block goes on."""
        root = Path(self.root)
        if not usable(root):
            yield None
            return
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            f, tmp = temp_file(self.dir)
        except OSError as exc:
            disable(root, exc)
            yield None
            return
        entry = EntryWriter(f, tmp, self.magic,
                            {"key": key, "code": self.code_digest, "byteorder": sys.byteorder})
        try:
            yield entry
        except BaseException:
            discard(f, tmp)
            raise
        try:
            entry._commit(self.path(key))
        except OSError as exc:
            disable(root, exc)
            return
        cache_admin.added(root, entry.length)  # the cap holds between start-up checks too

    def write(self, key: str, header: dict, sections: Iterable[bytes]) -> None:
        """Store an entry; a cache that cannot be written only costs speed (one warning)."""
        with self.writer(key) as entry:
            if entry is None:
                return
            for section in sections:
                entry.write(section)
            entry.header.update(header)

    def discard(self, key: str) -> None:
        """Remove a rejected entry (the caller's parser found it unusable)."""
        try:
            self.path(key).unlink()
        except OSError:
            pass


def spool_dirs(tmp_dir: Path) -> list[Path]:
    """Where a spool (``<cache root>/tmp``) may go, best first: ``tmp_dir`` when its cache
    root can be used, then the system temp directory."""
    import tempfile

    dirs = [tmp_dir] if usable(tmp_dir.parent) else []
    system = Path(tempfile.gettempdir())
    return dirs if system in dirs else [*dirs, system]


def spool_error(directory: Path, exc: OSError, where: str):
    """The one-line error when no directory could take a spool."""
    from inspector.errors import CacheError

    return CacheError(f"{where}: cannot spool the decompressed archive to {directory}: {_reason(exc)}",
                      hint="free some space or point --cache-dir (or TMPDIR) at a larger disk")
