"""Reading a small text file the user names (a rules file, ``config.toml``, ``audit --from``)
without trusting what the path points to.

``Path.read_text`` on such a path reads ``/dev/zero`` until memory is gone and blocks for
ever on a FIFO with no writer. Here the file is opened with ``O_NONBLOCK`` (so opening a
FIFO returns at once), checked with ``fstat`` on the opened descriptor (so nothing can be
swapped in between the check and the read) to be a regular file, read up to a size cap,
and decoded as UTF-8 (a leading byte-order mark dropped) with an error that names the
file and the line. A NUL byte means a binary file, refused the same way.

Every failure raises the caller's ``InspectorError`` subclass (``error``), one line naming
the file. Stdlib only; part of the headless core (``docs/architecture.md``).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from inspector.errors import InputError, InspectorError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "deep_line", "expand", "key_at", "long_number_line",
           "read_text"]

#: the default cap (bytes): a rules or config file is a few kB; ``audit --from`` passes more
MAX_BYTES = 1 << 20
#: bracket nesting that counts as "too deep" when a parser gave up (``deep_line``)
MAX_DEPTH = 100
_BOM = b"\xef\xbb\xbf"
#: ``key =`` (TOML) or ``key:`` / ``- key:`` (YAML) at the start of a line
_KEY = re.compile(r"^[ \t]*(?:-[ \t]+)?[\"']?([^\s\"'=:#\[\]{},]+)[\"']?[ \t]*[=:]")
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def expand(path: str | os.PathLike[str], what: str = "file",
           error: type[InspectorError] = InputError) -> Path:
    """``path`` with a leading ``~`` or ``~user`` expanded; one clear line when the home
    directory or the user does not exist (``Path.expanduser`` raises ``RuntimeError``)."""
    try:
        return Path(path).expanduser()
    except RuntimeError:
        head = str(path).split("/", 1)[0]
        who = f"no user {head[1:]!r}" if head != "~" else "no home directory ($HOME unset)"
        raise error(f"cannot read {what} {str(path)!r}: cannot expand {head}: {who}",
                    where=str(path),
                    hint="give the path without ~ or with an existing user") from None


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def read_text(path: str | os.PathLike[str], what: str = "file", *, limit: int = MAX_BYTES,
              error: type[InspectorError] = InputError) -> str:
    """The text of the regular file at ``path`` (``~`` expanded), at most ``limit`` bytes,
    UTF-8 with a leading BOM dropped. ``error`` (one line: ``cannot read WHAT PATH:
    reason``) for
    anything else: a missing file, a directory, a FIFO, a device, a socket, a file over
    the cap, a binary file, text that is not UTF-8."""
    shown = str(path)

    def fail(reason: str, hint: str | None = None) -> InspectorError:
        return error(f"cannot read {what} {shown}: {reason}", where=shown, hint=hint)

    file = expand(path, what, error)
    try:
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise fail(exc.strerror or str(exc)) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            raise fail(f"it is {kind}, not a regular file", hint="give a regular file")
        chunks, size = [], 0
        while size <= limit:  # st_size is not trusted (/proc files say 0): read to the cap
            chunk = os.read(fd, min(1 << 16, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise fail(exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
    if size > limit:
        raise fail(f"it is larger than the {limit:,} bytes allowed", hint="is it the right file?")
    data = b"".join(chunks)
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # what some editors save by default
        raise fail("line 1: UTF-16 text, not UTF-8", hint="save it as UTF-8")
    nul = data.find(b"\0")
    if nul >= 0:
        raise fail(f"line {_line_at(data, nul)}: a NUL byte: a binary file, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[exc.start:exc.start + 1].hex()
        raise fail(f"line {_line_at(data, exc.start)}: not UTF-8 text (byte 0x{bad})",
                   hint="save it as UTF-8") from None


def key_at(text: str, line: int) -> str | None:
    """The key assigned on ``line`` (1-based) or, failing that, on the nearest line above."""
    lines = text.split("\n")  # as the parsers count lines (splitlines() also breaks at U+2028 …)
    for i in range(min(line, len(lines)) - 1, -1, -1):
        m = _KEY.match(lines[i])
        if m:
            return m.group(1)
    return None


def deep_line(text: str, limit: int = MAX_DEPTH) -> int | None:
    """The first line where ``[``/``{`` nesting passes ``limit`` (quoted text and ``#``
    comments skipped, roughly): where a parser that ran out of stack was."""
    depth, line, quote = 0, 1, ""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            if quote in ('"', "'"):
                quote = ""  # single-line strings end at the line (multi-line ones are rare)
        elif quote:
            if c == "\\" and quote == '"':
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        elif c in "[{":
            depth += 1
            if depth > limit:
                return line
        elif c in "]}":
            depth = max(0, depth - 1)
        i += 1
    return None


def long_number_line(text: str, digits: int = 4300) -> int | None:
    """The first line holding a run of more than ``digits`` digits (Python refuses to
    convert such a number: ``sys.get_int_max_str_digits``)."""
    m = re.search(rf"[0-9_]{{{digits + 1},}}", text)
    return text.count("\n", 0, m.start()) + 1 if m else None
