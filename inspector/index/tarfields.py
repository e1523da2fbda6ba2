"""Tar header fields and member names: numeric fields (octal or GNU base-256), NUL-terminated
strings, and the normalisation of member names into absolute clean paths (with the names
that must never be followed flagged instead)."""

from __future__ import annotations

from inspector.errors import TarError


def _nts(b: bytes) -> bytes:
    i = b.find(b"\x00")
    return b if i < 0 else b[:i]


def _num(field: bytes, what: str) -> int:
    """A numeric header field: octal text, or GNU base-256 when the high bit is set."""
    if field[:1] in (b"\x80", b"\xff"):
        n = int.from_bytes(field[1:], "big")
        if field[0] == 0xFF:
            n -= 256 ** (len(field) - 1)
        return n
    s = field.split(b"\x00", 1)[0].strip()
    if not s:
        return 0
    try:
        return int(s, 8)
    except ValueError as exc:
        raise TarError(f"invalid number {field!r} in tar header field {what}") from exc


def _decode(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def normalize(name: str) -> tuple[str | None, str | None]:
    """A member name as an absolute, clean path: ``./a//b/`` → ``/a/b``.

    Returns ``(path, None)``, ``(None, None)`` for the root itself, or ``(None, reason)``
    for a name that must not be followed (``..`` escaping the root, Windows paths)."""
    if name.startswith("./"):
        name = name[2:]
    n = name.strip("/")
    if "//" in n or "/." in n or n.startswith(".") or "\\" in n:
        if "\\" in n or (len(n) > 1 and n[1] == ":"):
            return None, "Windows-style path"
        parts = []
        for part in n.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                return None, "'..' component"
            parts.append(part)
        n = "/".join(parts)
    if not n:
        return None, None
    return "/" + n, None
