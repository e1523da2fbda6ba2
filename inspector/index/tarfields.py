"""Tar header fields and member names: numeric fields (octal or GNU base-256, PAX decimal),
range-checked; NUL-terminated strings; GNU sparse maps; and the normalisation of member
names into absolute clean paths (with the names that must never be followed flagged).

Every parser here raises ``FieldError`` (not a user-facing error: the walker turns it into
a ``TarError`` naming the layer and the member) for a value that is negative, not a
number, or beyond what the format and the index's columns hold. A hostile size must never
move the walker backwards, and a hostile id must never overflow an array.
"""

from __future__ import annotations

import re
from collections.abc import Callable

#: sizes (stored and apparent) are kept as signed 64-bit; larger ones are refused
MAX_SIZE = (1 << 63) - 1
#: uids, gids and modes are kept as unsigned 32-bit (as Linux holds them)
MAX_ID = (1 << 32) - 1
#: a PAX time: optional sign, seconds, optional fraction (POSIX allows times before 1970)
_PAX_TIME = re.compile(rb"-?[0-9]{1,20}(\.[0-9]{0,19})?")
_OCTAL_DIGITS = b"01234567"
#: an extended header (PAX/GNU long name) larger than this is rejected, not buffered
MAX_EXT_HEADER = 1 << 20
#: PAX times checked (never used: they must still be numbers)
_PAX_TIMES = (b"mtime", b"atime", b"ctime")
#: distinct size (and mtime/device) fields the walker remembers: small files repeat them
SIZE_CACHE_MAX = 1 << 16
_SPACES = 8 * 32  # the checksum field counts as eight spaces


class FieldError(ValueError):
    """A numeric field the format does not allow (the walker adds layer and member)."""


def _nts(b: bytes) -> bytes:
    i = b.find(b"\x00")
    return b if i < 0 else b[:i]


def _num(field: bytes, what: str, limit: int = MAX_SIZE) -> int:
    """A numeric header field: octal text, or GNU base-256 when the high bit is set.
    Negative, non-octal and over-``limit`` values raise ``FieldError``."""
    if field[:1] in (b"\x80", b"\xff"):
        if field[0] == 0xFF:
            raise FieldError(f"negative {what} (base-256 field {field.hex()})")
        n = int.from_bytes(field[1:], "big")
    else:
        s = field.split(b"\x00", 1)[0].strip()
        if not s:
            return 0
        if s.translate(None, _OCTAL_DIGITS):  # int(s, 8) would take "-1", "+7", "0o7", "1_0"
            raise FieldError(f"{what} field {field!r} is not an octal number")
        n = int(s, 8)
    if n > limit:
        raise FieldError(f"{what} {n} is beyond the format's limit ({limit})")
    return n


def check_time(field: bytes) -> None:
    """A header mtime: octal or base-256 (negative allowed: times before 1970)."""
    if field[:1] in (b"\x80", b"\xff"):
        return
    s = field.split(b"\x00", 1)[0].strip()
    if s.translate(None, _OCTAL_DIGITS):
        raise FieldError(f"mtime field {field!r} is not an octal number")


# ---- the walker's header fields, each parsed once per distinct value (caches) ----------
def _owner(field: bytes, cache: dict[bytes, tuple[int, int, int]]) -> tuple[int, int, int]:
    """mode (permission bits), uid, gid from the 24-byte mode+uid+gid field."""
    owner = cache[field] = (_num(field[:8], "mode", MAX_ID) & 0o7777,
                            _num(field[8:16], "uid", MAX_ID), _num(field[16:], "gid", MAX_ID))
    return owner


def _checksum_target(field: bytes, cache: dict[bytes, int]) -> int:
    """For a checksum field, the value ``adler32(header) & 0xFFFF`` has when the header
    is intact: 1 + (stored - 8 spaces + the field's own bytes), mod 65521; -1 if the
    field is unreadable (the slow path then reports it)."""
    try:
        stored = int(field.translate(None, b"\x00"), 8)
    except ValueError:
        stored = -1
    want = cache[field] = (1 + stored - _SPACES + sum(field)) % 65521 if stored >= 0 else -1
    return want


def _size(field: bytes, cache: dict[bytes, int]) -> int:
    size = _num(field, "size")
    if len(cache) < SIZE_CACHE_MAX:
        cache[field] = size
    return size


def _check_fields(mtime: bytes, dev: bytes, seen: set[bytes]) -> None:
    """The numeric fields nothing reads (mtime, device numbers) must still be numbers."""
    check_time(mtime)
    _num(dev[:8], "devmajor", MAX_ID)
    _num(dev[8:], "devminor", MAX_ID)
    if len(seen) < SIZE_CACHE_MAX:
        seen.add(mtime)
        seen.add(dev)


def pax_int(value: bytes, what: str, limit: int = MAX_SIZE) -> int:
    """A PAX decimal value (``size``, ``uid``, ``gid``, sparse sizes)."""
    if not value.isdigit():  # bytes.isdigit: ASCII digits only, so no sign, space or "_"
        kind = "negative" if value[:1] == b"-" and value[1:].isdigit() else "not a decimal number"
        raise FieldError(f"PAX {what}={value[:40]!r} is {kind}")
    if len(value) > 20 or int(value) > limit:
        raise FieldError(f"PAX {what}={value[:40]!r} is beyond the format's limit ({limit})")
    return int(value)


def check_pax_time(value: bytes, what: str) -> None:
    if not _PAX_TIME.fullmatch(value):
        raise FieldError(f"PAX {what}={value[:40]!r} is not a time")


def check_sparse_map(pairs: list[tuple[int, int]], realsize: int) -> None:
    """Sparse ``(offset, numbytes)`` pairs lie inside the file's apparent size."""
    for offset, numbytes in pairs:
        if offset + numbytes > realsize:
            raise FieldError(f"sparse map entry {offset}+{numbytes} lies beyond the file's "
                             f"size {realsize}")


def gnu_sparse_entries(block: bytes, start: int, count: int) -> list[tuple[int, int]]:
    """Old GNU sparse entries (12-byte offset, 12-byte numbytes) from ``block[start:]``;
    an all-empty entry ends the list."""
    pairs = []
    for i in range(start, start + 24 * count, 24):
        if not block[i]:
            break
        pairs.append((_num(block[i:i + 12], "sparse offset"),
                      _num(block[i + 12:i + 24], "sparse numbytes")))
    return pairs


def pax_sparse_map(value: bytes) -> list[tuple[int, int]]:
    """``GNU.sparse.map`` (format 0.1): ``offset,numbytes,offset,numbytes…``."""
    items = value.split(b",") if value else []
    if len(items) % 2:
        raise FieldError(f"PAX GNU.sparse.map has an odd number of values ({len(items)})")
    nums = [pax_int(v, "GNU.sparse.map") for v in items]
    return list(zip(nums[::2], nums[1::2], strict=True))


def normalize(name: str) -> tuple[str | None, str | None]:
    """A member name as an absolute, clean path: ``./a//b/`` → ``/a/b``.

    Returns ``(path, None)``, ``(None, None)`` for the root itself, or ``(None, reason)``
    for a name that must not be followed (a ``..`` component: it may escape the root).
    A backslash is an ordinary character on Linux (``system-systemd\\x2dcryptsetup.slice``)."""
    if name.startswith("./"):
        name = name[2:]
    n = name.strip("/")
    if "//" in n or "/." in n or n.startswith("."):
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


class ExtendedHeaders:
    """What extended headers say about the next member: GNU long names (``L``/``K``), PAX
    records (``x``; ``g`` for every member after it), old GNU sparse headers (``S``).
    Mixed into ``TarWalker`` (it reads the stream with the walker's ``_take``/``_skip``),
    and kept out of its per-member loop: only members with ``extended`` set come here."""

    _take: Callable[[int], bytes]
    _skip: Callable[[int], None]
    member: bytes  # the current member's name, for error messages

    def __init__(self) -> None:
        self.long_name: bytes | None = None
        self.long_link: bytes | None = None
        self.pending: dict[bytes, bytes] = {}
        self.global_pax: dict[bytes, bytes] = {}
        self.extended = False  # any of the above applies to the next member

    def _extended(self, typeflag: bytes, size: int) -> None:
        """Consume an extended header member of ``size`` bytes."""
        padded = (size + 511) & ~511
        if typeflag == b"M":
            raise FieldError("multi-volume tar members are not supported")
        if typeflag == b"V":  # volume label
            self._skip(padded)
            return
        if size > MAX_EXT_HEADER:
            kind = "PAX header" if typeflag in (b"x", b"g") else "GNU long name"
            raise FieldError(f"{kind} of {size} bytes is too large (limit {MAX_EXT_HEADER})")
        data = self._take(size)
        self._skip(padded - size)
        if typeflag == b"x":
            self.pending.update(parse_pax(data))
        elif typeflag == b"g":
            self.global_pax.update(parse_pax(data))
        elif typeflag == b"L":
            self.long_name = _nts(data)
        else:
            self.long_link = _nts(data)
        self.extended = True

    def _apply_extended(self, header: bytes, pos: int, typeflag: bytes, raw_name: bytes,
                        raw_link: bytes, uid: int, gid: int, size: int):
        """The member's name, link, uid, gid, stored and apparent size and sparseness once
        pending extended headers (and an old GNU sparse header at ``header[pos:]``) apply."""
        stored = apparent = size
        sparse = typeflag == b"S"
        if sparse:
            apparent = self._old_gnu_sparse(header[pos:pos + 512])
        if self.long_name is not None:
            self.member = raw_name = self.long_name
        if self.long_link is not None:
            raw_link = self.long_link
        pax = {**self.global_pax, **self.pending} if self.global_pax else self.pending
        self.long_name = self.long_link = None
        self.pending = {}
        self.extended = bool(self.global_pax)
        if not pax:
            return raw_name, raw_link, uid, gid, stored, apparent, sparse
        self.member = raw_name = pax.get(b"path", raw_name)
        raw_link = pax.get(b"linkpath", raw_link)
        if b"size" in pax:
            stored = apparent = pax_int(pax[b"size"], "size")
        if b"uid" in pax:
            uid = pax_int(pax[b"uid"], "uid", MAX_ID)
        if b"gid" in pax:
            gid = pax_int(pax[b"gid"], "gid", MAX_ID)
        for key in _PAX_TIMES:
            if key in pax:
                check_pax_time(pax[key], key.decode())
        if b"GNU.sparse.name" in pax:
            raw_name = pax[b"GNU.sparse.name"]
            sparse = True
        if b"GNU.sparse.realsize" in pax:
            apparent = pax_int(pax[b"GNU.sparse.realsize"], "GNU.sparse.realsize")
            sparse = True
        elif b"GNU.sparse.size" in pax:
            apparent = pax_int(pax[b"GNU.sparse.size"], "GNU.sparse.size")
            sparse = True
        if sparse:
            check_pax_sparse(pax, apparent)
        return raw_name, raw_link, uid, gid, stored, apparent, sparse

    def _old_gnu_sparse(self, header: bytes) -> int:
        """An old GNU sparse member: check its map (in the header, then in extension
        blocks, each consumed); its apparent size."""
        realsize = _num(header[483:495], "realsize")
        check_sparse_map(gnu_sparse_entries(header, 386, 4), realsize)
        more = header[482]
        while more:  # each extension block is consumed: the walk still only moves forward
            block = self._take(512)
            check_sparse_map(gnu_sparse_entries(block, 0, 21), realsize)
            more = block[504]
        return realsize


def parse_pax(data: bytes) -> dict[bytes, bytes]:
    """PAX records ``"%d %s=%s\n" % (length, key, value)`` (lengths count every byte)."""
    records: dict[bytes, bytes] = {}
    pos, n = 0, len(data)
    while pos < n and data[pos] != 0:
        sp = data.find(b" ", pos, pos + 21)
        digits = data[pos:sp] if sp > pos else b""
        if not digits.isdigit():
            raise FieldError(f"malformed PAX record length at byte {pos}")
        end = pos + int(digits)
        if end > n or end <= sp + 1 or data[end - 1] != 0x0A:
            raise FieldError(f"malformed PAX record at byte {pos} (length {int(digits)})")
        key, eq, value = data[sp + 1:end - 1].partition(b"=")
        if not eq or not key:
            raise FieldError(f"malformed PAX record at byte {pos} (no key=value)")
        records[key] = value
        pos = end
    return records


def check_pax_sparse(pax: dict[bytes, bytes], realsize: int) -> None:
    """GNU sparse PAX keys (formats 0.0 and 0.1) must be in-range numbers. (Format 1.0
    keeps its map in the member's data, which is skipped, never materialised.)"""
    for key in (b"GNU.sparse.numblocks", b"GNU.sparse.major", b"GNU.sparse.minor"):
        if key in pax:
            pax_int(pax[key], key.decode(), MAX_ID)
    if b"GNU.sparse.offset" in pax or b"GNU.sparse.numbytes" in pax:
        pairs = [(pax_int(pax.get(b"GNU.sparse.offset", b"0"), "GNU.sparse.offset"),
                  pax_int(pax.get(b"GNU.sparse.numbytes", b"0"), "GNU.sparse.numbytes"))]
        check_sparse_map(pairs, realsize)
    if b"GNU.sparse.map" in pax:
        check_sparse_map(pax_sparse_map(pax[b"GNU.sparse.map"]), realsize)
