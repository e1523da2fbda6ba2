"""Tar archives written byte by byte, for inputs ``tarfile`` refuses to write: negative or
huge numbers, non-numeric fields, malformed PAX records, hostile sparse maps.

Every numeric field takes an ``int`` (written as zero-padded octal, like tar does) or
``bytes`` (written verbatim, NUL-padded to the field's width); ``base256(n, width)`` gives
GNU's binary form, negative numbers included. The header checksum is computed over the
final bytes unless ``chksum`` is given.
"""

from __future__ import annotations

BLOCK = 512
#: (offset, width) of each ustar header field
FIELDS = {
    "name": (0, 100), "mode": (100, 8), "uid": (108, 8), "gid": (116, 8), "size": (124, 12),
    "mtime": (136, 12), "chksum": (148, 8), "typeflag": (156, 1), "linkname": (157, 100),
    "magic": (257, 8), "uname": (265, 32), "gname": (297, 32), "devmajor": (329, 8),
    "devminor": (337, 8), "prefix": (345, 155),
}
NUMERIC = ("mode", "uid", "gid", "size", "mtime", "devmajor", "devminor")


def octal(n: int, width: int) -> bytes:
    """``n`` as zero-padded octal digits and a NUL (``width - 1`` digits)."""
    return format(n, "o").rjust(width - 1, "0").encode() + b"\x00"


def base256(n: int, width: int) -> bytes:
    """GNU base-256: a 0x80 marker byte then big-endian, or two's complement (0xFF…) when
    ``n`` is negative."""
    if n >= 0:
        return b"\x80" + n.to_bytes(width - 1, "big")
    return (n % (256 ** width)).to_bytes(width, "big")


def _field(value: int | bytes, width: int, numeric: bool) -> bytes:
    data = octal(value, width) if numeric and isinstance(value, int) else value
    assert isinstance(data, bytes) and len(data) <= width, (value, width)
    return data.ljust(width, b"\x00")


def header(name: bytes | str = b"f", *, typeflag: bytes = b"0", size: int | bytes = 0,
           mode: int | bytes = 0o644, uid: int | bytes = 0, gid: int | bytes = 0,
           mtime: int | bytes = 0, linkname: bytes = b"", magic: bytes = b"ustar\x0000",
           devmajor: int | bytes = 0, devminor: int | bytes = 0, prefix: bytes = b"",
           chksum: bytes | None = None, extra: dict[int, bytes] | None = None) -> bytes:
    """One 512-byte header; ``extra`` writes raw bytes at offsets (old GNU sparse areas)."""
    if isinstance(name, str):
        name = name.encode()
    values = {"name": name, "mode": mode, "uid": uid, "gid": gid, "size": size,
              "mtime": mtime, "typeflag": typeflag, "linkname": linkname, "magic": magic,
              "uname": b"", "gname": b"", "devmajor": devmajor, "devminor": devminor,
              "prefix": prefix}
    block = bytearray(BLOCK)
    for key, value in values.items():
        offset, width = FIELDS[key]
        block[offset:offset + width] = _field(value, width, key in NUMERIC)
    for offset, raw in (extra or {}).items():
        block[offset:offset + len(raw)] = raw
    if chksum is None:
        block[148:156] = b" " * 8
        chksum = format(sum(block), "06o").encode() + b"\x00 "
    block[148:156] = chksum.ljust(8, b"\x00")
    return bytes(block)


def padded(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % BLOCK)


def member(name: bytes | str = b"f", data: bytes = b"", **fields) -> bytes:
    """A header and its data; ``size`` defaults to ``len(data)``."""
    fields.setdefault("size", len(data))
    return header(name, **fields) + padded(data)


def pax_record(key: bytes | str, value: bytes | str | int) -> bytes:
    """``"%d key=value\\n"`` with the length counting itself."""
    key = key.encode() if isinstance(key, str) else key
    value = str(value).encode() if isinstance(value, int) else value
    value = value.encode() if isinstance(value, str) else value
    body = b" " + key + b"=" + value + b"\n"
    length = len(body) + 1
    while len(str(length)) + len(body) != length:
        length += 1
    return str(length).encode() + body


def pax(records: dict | bytes, typeflag: bytes = b"x", name: bytes = b"PaxHeader/f") -> bytes:
    """A PAX extended header member; ``records`` as a dict, or raw record bytes."""
    data = records if isinstance(records, bytes) else \
        b"".join(pax_record(k, v) for k, v in records.items())
    return member(name, data, typeflag=typeflag)


def gnu_long(value: bytes, typeflag: bytes = b"L") -> bytes:
    """A GNU long name (``L``) or long link (``K``) member."""
    return member(b"././@LongLink", value + b"\x00", typeflag=typeflag, magic=b"ustar  \x00")


def sparse_entries(pairs: list[tuple[int | bytes, int | bytes]]) -> bytes:
    """Old GNU sparse entries: 12-byte offset, 12-byte numbytes each."""
    return b"".join(_field(o, 12, True) + _field(n, 12, True) for o, n in pairs)


def old_gnu_sparse(name: bytes, stored: bytes, realsize: int | bytes,
                   pairs: list[tuple[int | bytes, int | bytes]],
                   extension: list[list[tuple[int | bytes, int | bytes]]] = ()) -> bytes:
    """An old GNU sparse member (``S``): up to 4 map entries in the header, the rest in
    extension blocks of 21."""
    more = bytes([1 if extension else 0])
    extra = {386: sparse_entries(pairs), 482: more, 483: _field(realsize, 12, True)}
    out = header(name, typeflag=b"S", size=len(stored), magic=b"ustar  \x00", extra=extra)
    for i, block_pairs in enumerate(extension):
        block = bytearray(BLOCK)
        entries = sparse_entries(block_pairs)
        block[:len(entries)] = entries
        block[504] = 1 if i + 1 < len(extension) else 0
        out += bytes(block)
    return out + padded(stored)


def archive(*members: bytes, end: bool = True) -> bytes:
    """Members, then the two zero blocks of the end marker."""
    return b"".join(members) + (b"\x00" * 2 * BLOCK if end else b"")
