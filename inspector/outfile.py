"""``-o FILE``: where a headless report goes, written so that a failure leaves nothing.

The report is written to a temporary file next to ``FILE`` and renamed over it only when
complete, so a full disk, a crash or an error while analysing leaves neither a 0-byte nor
a half-written report (and keeps an older one intact). The temporary file is created
before the analysis starts, so an unwritable place fails at once, not after minutes of
work. ``FILE`` naming the input image (the archive, or a file inside the layout) is
refused before anything is written. Devices and FIFOs (``/dev/null``, ``/dev/stdout``)
are written directly: there is nothing to rename over.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from typing import TextIO

from inspector.errors import InspectorError, OutputError


def input_paths(references: Sequence[str]) -> list[str]:
    """The local files or directories the references read (real paths)."""
    from inspector.reference import split_path_tag, split_transport

    paths = []
    for ref in references:
        try:
            t = split_transport(ref)
        except InspectorError:
            continue
        if t.transport == "path":
            paths.append(t.rest)
        elif t.transport in ("oci", "oci-archive", "docker-archive"):
            paths.append(split_path_tag(t.rest)[0])
        elif t.transport == "sample":
            from inspector.sources.samples import layout_dir

            paths.append(str(layout_dir()))
    return [os.path.realpath(p) for p in paths if os.path.exists(p)]


def _check_not_input(path: str, target: str, references: Sequence[str]) -> None:
    for src in input_paths(references):
        if target == src or (os.path.isdir(src) and target.startswith(src.rstrip("/") + "/")):
            raise OutputError(f"-o {path}: that is the input image ({src}); writing there would "
                              "destroy it", hint="choose another output file", where=path)


@contextlib.contextmanager
def output(path: str | None, references: Sequence[str] = ()) -> Iterator[TextIO]:
    """A text stream for the report: stdout without ``path`` (or ``-``), else ``path``
    written atomically. ``OutputError`` for any write failure."""
    if not path or path == "-":
        yield sys.stdout
        return
    target = os.path.realpath(path)
    _check_not_input(path, target, references)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}", where=path) from exc
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(f"cannot write {path}: it is a directory", where=path)
    if st is not None and not stat.S_ISREG(st.st_mode):
        with _direct(path) as out:
            yield out
        return
    with _atomic(path, target, st) as out:
        yield out


@contextlib.contextmanager
def _direct(path: str) -> Iterator[TextIO]:
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as out:
            yield out
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}", where=path) from exc


@contextlib.contextmanager
def _atomic(path: str, target: str, st: os.stat_result | None) -> Iterator[TextIO]:
    directory, name = os.path.split(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}", where=path) from exc
    try:
        os.fchmod(fd, stat.S_IMODE(st.st_mode) if st else 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            yield out
        os.replace(tmp, target)
    except OSError as exc:
        _unlink(tmp)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}", where=path) from exc
    except BaseException:
        _unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


class PendingFile:
    """``output()`` without a ``with`` block, for callers that ``write`` then ``close``:
    ``close()`` puts the file in place; a failed ``write`` removes it and raises
    ``OutputError`` (and the ``close()`` that follows does nothing)."""

    def __init__(self, path: str, references: Sequence[str]) -> None:
        self._context = output(path, references)
        self._stream = self._context.__enter__()
        self._open = True

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BaseException as exc:
            self._open = False
            self._context.__exit__(type(exc), exc, exc.__traceback__)
            raise

    def close(self) -> None:
        if self._open:
            self._open = False
            self._context.__exit__(None, None, None)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def open_output(path: str | None, references: Sequence[str] = ()) -> tuple[TextIO, bool]:
    """``(stream, must_close)``: stdout for no ``path``, else a ``PendingFile``."""
    if not path or path == "-":
        return sys.stdout, False
    # a PendingFile is a TextIO by delegation (__getattr__), which the type checker cannot see
    return PendingFile(path, references), True  # type: ignore[return-value]
