"""Read files of an OCI layout or a `docker save` tarball in place: a directory or a tar.

A ``Store`` answers "does NAME exist, how big is it, give me its bytes / a stream of them".
``DirStore`` reads a directory; ``TarStore`` reads a tar without extracting it: one pass
over the headers builds ``name → (offset, size)``, and every later read is a byte range of
the file, so layers stream straight from the archive (registry.md §7.4). Symlinks and
hardlinks between members (skopeo's docker-archive writes them for repeated layers) are
followed. A compressed outer archive (``docker save | gzip``) or a non-seekable stream is
spooled once to a temporary file under the cache directory and removed by ``close()``.

Names are relative, ``/``-separated and normalised (``./a//b`` → ``a/b``).
"""

from __future__ import annotations

import io
import os
import posixpath
import stat
import threading
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast

from inspector import cache
from inspector.errors import FormatError, ImageNotFound
from inspector.sources.streams import CHUNK, open_decompressed, sniff

#: JSON documents (manifests, configs, index.json, manifest.json) larger than this are
#: refused before reading: c/image caps them at 4 MiB (CVE-2020-1702; registry.md §8.6).
JSON_LIMIT = 4 << 20
#: symlink hops followed between archive members before giving up (loops)
MAX_LINK_HOPS = 8


def normalize(name: str) -> str:
    """``./blobs//sha256/x`` → ``blobs/sha256/x``; ``""`` for the root."""
    name = posixpath.normpath("/" + name.replace("\\", "/")).lstrip("/")
    return "" if name == "." else name


if TYPE_CHECKING:
    import tarfile


class Store:
    """Files of a layout or archive. ``where`` names it in messages."""

    where: str = ""

    def exists(self, name: str) -> bool:
        raise NotImplementedError

    def size(self, name: str) -> int:
        raise NotImplementedError

    def open(self, name: str) -> BinaryIO:
        """A stream of the file's bytes; ``ImageNotFound`` when it is missing."""
        raise NotImplementedError

    def names(self) -> list[str]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def read(self, name: str, *, limit: int = JSON_LIMIT, what: str | None = None) -> bytes:
        """The whole file; refuses files over ``limit`` bytes without reading them."""
        size = self.size(name)
        if size > limit:
            raise FormatError(f"{self.where}: {what or name} is {size} bytes, more than the "
                              f"{limit} allowed", hint="this is not a plausible image document", where=self.where)
        with self.open(name) as f:
            return f.read(size + 1)

    def head(self, name: str, n: int = 16) -> bytes:
        with self.open(name) as f:
            return f.read(n)

    def missing(self, name: str) -> ImageNotFound:
        return ImageNotFound(f"{self.where}: {name} is missing",
                             hint="the layout or archive is incomplete; re-export the image", where=self.where)


class DirStore(Store):
    """Files of a directory. Only regular files inside it are read: a name that is (or
    resolves through a symlink to) something outside the directory, a FIFO, a device or a
    directory is refused without touching it, and messages never tell its size."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.real_root = os.path.realpath(root)
        self.where = str(root)

    def _path(self, name: str) -> str | None:
        """The real path of ``name`` if it is a regular file inside the directory; ``None``
        when nothing is there; ``FormatError`` when something else is."""
        path = os.path.join(self.real_root, normalize(name))
        if not os.path.lexists(path):
            return None
        real = os.path.realpath(path)
        if os.path.commonpath([real, self.real_root]) != self.real_root:
            raise FormatError(f"{self.where}: {normalize(name)} points outside the directory",
                              hint="the layout is hostile or damaged; re-export the image",
                              where=self.where)
        try:
            mode = os.stat(real).st_mode
        except FileNotFoundError:  # a dangling symlink
            return None
        if not stat.S_ISREG(mode):
            raise self._not_regular(name)
        return real

    def _not_regular(self, name: str) -> FormatError:
        return FormatError(f"{self.where}: {normalize(name)} is not a regular file",
                           hint="blobs must be plain files; re-export the image", where=self.where)

    def exists(self, name: str) -> bool:
        return self._path(name) is not None

    def size(self, name: str) -> int:
        path = self._path(name)
        if path is None:
            raise self.missing(name)
        return os.stat(path).st_size

    def open(self, name: str) -> BinaryIO:
        path = self._path(name)
        if path is None:
            raise self.missing(name)
        try:  # no symlink and no blocking open: the file may have changed since _path
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError as exc:
            raise self.missing(name) from exc
        except OSError as exc:
            raise self._not_regular(name) from exc
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise self._not_regular(name)
        return os.fdopen(fd, "rb")

    def names(self) -> list[str]:
        found = []
        for p in self.root.rglob("*"):
            name = p.relative_to(self.root).as_posix()
            try:
                if self._path(name) is not None:
                    found.append(name)
            except FormatError:
                continue
        return sorted(found)


class _Range(io.RawIOBase):
    """``size`` bytes of a file starting at ``offset``; reads through ``pread``."""

    def __init__(self, pread, offset: int, size: int, on_close=None, *, where: str = "archive") -> None:
        super().__init__()
        self.pread, self.pos, self.end, self.on_close = pread, offset, offset + size, on_close
        self.where = where

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        left = self.end - self.pos
        n = left if n is None or n < 0 else min(n, left)
        if n <= 0:
            return b""
        data = self.pread(n, self.pos)
        if not data:
            raise FormatError(f"{self.where}: truncated while reading a member",
                              hint="the archive is incomplete; re-export the image", where=self.where)
        self.pos += len(data)
        return data

    def readinto(self, buffer) -> int:  # pragma: no cover - our readers use read()
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed and self.on_close:
            self.on_close()
        super().close()


class TarStore(Store):
    """Members of an uncompressed tar read by offset. With ``path`` every stream opens its
    own handle (parallel layer reads need no lock); with only ``fileobj`` reads share it
    under a lock."""

    def __init__(self, fileobj: BinaryIO, *, where: str, path: str | None = None,
                 cleanup: list[str] | None = None) -> None:
        self.where = where
        self.path = path
        self.fileobj = fileobj
        self.lock = threading.Lock()
        self.cleanup = cleanup or []
        import tarfile  # only archives need it (layout directories do not)

        self.members: dict[str, tarfile.TarInfo] = {}
        try:
            with tarfile.open(fileobj=fileobj, mode="r:") as tar:
                for info in tar:
                    if info.size < 0:  # a hostile PAX size: tarfile would read backwards
                        raise tarfile.TarError(f"member {info.name[:200]!r} has a negative size")
                    name = normalize(info.name)
                    if name:
                        self.members[name] = info
        except (tarfile.TarError, ValueError, OverflowError, RecursionError) as exc:
            # tarfile lets int conversions of hostile headers escape as ValueError/OverflowError
            self.close()
            raise FormatError(f"{where}: not a readable tar archive ({exc})",
                              hint="give an OCI layout, an oci-archive or a docker save tarball", where=where) from exc

    def _resolve(self, name: str) -> tarfile.TarInfo | None:
        name = normalize(name)
        for _ in range(MAX_LINK_HOPS):
            info = self.members.get(name)
            if info is None or info.isfile():
                return info
            if info.issym():
                target = info.linkname
                name = normalize(target if target.startswith("/") else
                                 posixpath.join(posixpath.dirname(name), target))
            elif info.islnk():
                name = normalize(info.linkname)
            else:
                return None
        raise FormatError(f"{self.where}: {name} is a symlink loop", where=self.where)

    def exists(self, name: str) -> bool:
        return self._resolve(name) is not None

    def size(self, name: str) -> int:
        info = self._resolve(name)
        if info is None:
            raise self.missing(name)
        return info.size

    def _pread_shared(self, n: int, offset: int) -> bytes:
        with self.lock:
            self.fileobj.seek(offset)
            return self.fileobj.read(n)

    def open(self, name: str) -> BinaryIO:
        info = self._resolve(name)
        if info is None:
            raise self.missing(name)
        # a _Range is a raw binary stream: what every reader of a Store needs of a BinaryIO
        if self.path is None:
            return cast(BinaryIO, _Range(self._pread_shared, info.offset_data, info.size,
                                         where=self.where))
        f = open(self.path, "rb")
        fd = f.fileno()
        return cast(BinaryIO, _Range(lambda n, off: os.pread(fd, n, off), info.offset_data,
                                     info.size, on_close=f.close, where=self.where))

    def names(self) -> list[str]:
        return sorted(n for n in self.members if self._resolve(n) is not None)

    def close(self) -> None:
        try:
            self.fileobj.close()
        finally:
            for p in self.cleanup:
                try:
                    os.unlink(p)
                except FileNotFoundError:
                    pass


def _spool(open_stream, tmp_dir: Path, *, where: str, again: bool) -> tuple[BinaryIO, str]:
    """Copy ``open_stream()`` (decompressed by magic bytes) to a new temp file; returns
    it, open, and its path. The file is locked while this process lives (the sweep of
    leftovers skips it). It goes under ``tmp_dir`` (the cache's spool dir) or, when the
    cache cannot be used or fills up and the source can be read ``again``, the system
    temp dir."""
    dirs = cache.spool_dirs(tmp_dir)
    for n, directory in enumerate(dirs):
        last = n == len(dirs) - 1 or not again
        try:
            out, path = cache.temp_file(directory, prefix="archive-", suffix=".tar")
        except OSError as exc:
            if last:
                raise cache.spool_error(directory, exc, where) from exc
            cache.disable(directory.parent, exc)
            continue
        try:
            _copy(open_decompressed(open_stream(), what=where), out)
            out.seek(0)
            return out, str(path)
        except OSError as exc:  # a read error of the source is not ours: _copy says which
            cache.discard(out, path)
            if not isinstance(exc, SpoolWriteError):
                raise
            if last:
                raise cache.spool_error(directory, exc, where) from exc
            cache.disable(directory.parent, exc)
        except BaseException:
            cache.discard(out, path)
            raise
    raise AssertionError("unreachable")  # pragma: no cover


class SpoolWriteError(OSError):
    """Writing the spool failed (the cache's disk), not reading the source."""


def _copy(plain: io.RawIOBase | BinaryIO, out: BinaryIO) -> None:
    """``shutil.copyfileobj`` that tells write errors apart (``SpoolWriteError``)."""
    while chunk := plain.read(CHUNK):
        try:
            out.write(chunk)
        except OSError as exc:
            raise SpoolWriteError(exc.errno, exc.strerror) from exc
    try:
        out.flush()
    except OSError as exc:
        raise SpoolWriteError(exc.errno, exc.strerror) from exc


def _open_archive(path: str) -> BinaryIO:
    """Open an archive named on the command line. A FIFO or pipe (``/dev/stdin``, ``-``)
    is opened without blocking (no writer: it reads as empty at once); devices are refused."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError as exc:
        raise ImageNotFound(f"{path}: no such file", hint="check the path", where=path) from exc
    except OSError as exc:
        raise ImageNotFound(f"{path}: cannot open ({exc.strerror})", where=path) from exc
    mode = os.fstat(fd).st_mode
    if stat.S_ISDIR(mode):
        os.close(fd)
        raise FormatError(f"{path}: is a directory, expected an archive",
                          hint="use oci:DIR for an OCI layout directory", where=path)
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        os.close(fd)
        hint = ("pipe an archive in: cat image.tar | inspector export -"
                if os.isatty(0) and path in ("/dev/stdin", "/proc/self/fd/0") else
                "give an image archive file")
        raise FormatError(f"{path}: is a device, not an archive", hint=hint, where=path)
    os.set_blocking(fd, True)  # a pipe with a writer now blocks for data, as it should
    return os.fdopen(fd, "rb")


def open_tar(path: str, tmp_dir: Path) -> TarStore:
    """A ``TarStore`` over the file at ``path``; a gzip/zstd-compressed archive, or a pipe,
    is spooled once, decompressed, to ``tmp_dir`` (removed when the store is closed)."""
    f = _open_archive(path)
    if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
        with f:  # a pipe is never seekable: always spooled, then done with
            return open_tar_fileobj(f, tmp_dir, where=path)
    kind = sniff(f.read(8))
    f.seek(0)
    if kind == "tar":
        return TarStore(f, where=path, path=path)
    f.close()
    spooled, tmp = _spool(lambda: open(path, "rb"), tmp_dir, where=path, again=True)
    return TarStore(spooled, where=path, path=tmp, cleanup=[tmp])


def open_tar_fileobj(fileobj: BinaryIO, tmp_dir: Path, *, where: str) -> TarStore:
    """A ``TarStore`` over a file object. A seekable, uncompressed one is read in place;
    anything else (a pipe, an HTTP body, a compressed stream) is spooled once."""
    seekable = False
    try:
        seekable = fileobj.seekable()
    except (AttributeError, OSError):
        pass
    if seekable:
        start = fileobj.tell()
        kind = sniff(fileobj.read(8))
        fileobj.seek(start)
        if kind == "tar":
            return TarStore(fileobj, where=where)
    spooled, tmp = _spool(lambda: fileobj, tmp_dir, where=where, again=False)
    return TarStore(spooled, where=where, path=tmp, cleanup=[tmp])
