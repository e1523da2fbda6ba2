"""A fast tar header walker: one pass over a layer tar stream, data skipped, not copied.

``tarfile`` in stream mode builds a ``TarInfo`` object and copies every member's data
through a buffer; on layers with many small files it is several times slower than GNU tar.
This walker reads the decompressed stream as large chunks, parses each 512-byte header in
place, and skips data by moving an offset. It understands ustar, GNU long names/links
(``L``/``K``), PAX extended headers (``x``, and global ``g``: ``path``, ``linkpath``,
``size``, ``uid``, ``gid``, ``mtime``, GNU sparse keys), old GNU sparse files (``S``,
reported at their apparent size, never materialised) and V7 directories. xattrs
(``SCHILY.xattr.*``) are read and ignored. Name bytes are decoded as UTF-8 with surrogate
escapes, so non-UTF-8 names survive losslessly. ``tarfile`` stays the reference reader:
``tests/index/test_tarwalk_property.py`` proves on random archives that both agree.

Hostile input: every numeric field is range-checked (``tarfields``), so the position only
ever moves forward and no member is read twice; header-only types (links, devices,
directories) carry no data, as Go's ``archive/tar`` (Docker, containerd) reads them, so a
member cannot hide the headers that follow it.

Speed: runs of plain members (no extended header, plain octal fields, clean names, no data
to capture) are recorded by the optional C accelerator (``tarscan``, ``_tarscan.c``); it
hands every other member back to the Python loop below, which stays the reference.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

from inspector.errors import Cancelled, TarError
from inspector.index import capture
from inspector.index.entries import BLOCK, CHAR, DIR, FIFO, FILE, HARDLINK, SYMLINK, LayerIndex
from inspector.index.tarfields import (
    _SPACES,
    ExtendedHeaders,
    FieldError,
    _check_fields,
    _checksum_target,
    _owner,
    _size,
    normalize,
)
from inspector.index.tarscan import scanner

BLOCK_SIZE = 512
HOSTILE_HINT = "the layer is malformed or hostile; it cannot be indexed"
_TRUNCATED = "the layer is incomplete or corrupt"

_TYPES = {
    b"0": FILE, b"\x00": FILE, b"7": FILE, b"S": FILE,
    b"1": HARDLINK, b"2": SYMLINK, b"3": CHAR, b"4": BLOCK, b"5": DIR, b"6": FIFO, b"D": DIR,
}
#: types whose size field is ignored: no data follows them (Go's ``isHeaderOnlyType``)
_HEADER_ONLY = frozenset({b"1", b"2", b"3", b"4", b"5", b"6"})
_WH = ".wh."
_ZERO8 = b"\x00" * 8
_OCTAL = b"01234567"
_ENDS = frozenset({b"\x00", b" "})  # what is left of a plain octal field without its digits
_END_BYTES = (0, 32)
_EXT_TYPES = frozenset({b"x", b"g", b"L", b"K", b"V", b"M"})
#: name, mode+uid+gid (one 24-byte key), size, mtime, chksum, typeflag, linkname,
#: (magic, version, uname, gname), devmajor+devminor, prefix
_HEADER = struct.Struct("100s24s12s12s8sc100s72x16s155s12x")
_CAPTURE_BASES = capture.BASENAMES
_CAPTURE_ENDINGS = capture.BASE_ENDINGS
_CAPTURE_PREFIXES = capture.PATH_PREFIXES
_OPAQUE = ".wh..wh..opq"


class TarWalker(ExtendedHeaders):
    """Walk a tar stream given as a ``read()`` function returning chunks (``b""`` at EOF)
    and fill ``index``. After the end-of-archive marker the rest of the stream is drained,
    so a verifying reader underneath always reaches EOF and checks its digest."""

    def __init__(self, read: Callable[[], bytes], index: LayerIndex, *, what: str,
                 cancelled: Callable[[], bool] | None = None) -> None:
        super().__init__()
        self._read = read
        self.index = index
        self.what = what
        self.cancelled = cancelled
        self.buf = b""
        self.pos = 0
        self.eof = False
        self.member = b""  # the current member's name, for error messages

    # ---- buffer ---------------------------------------------------------------------
    def _fill(self, n: int) -> bool:
        """Ensure ``n`` bytes are buffered at ``pos``; False if the stream ends first."""
        while len(self.buf) - self.pos < n:
            chunk = self._read() if not self.eof else b""
            if not chunk:
                self.eof = True
                return False
            self.buf = self.buf[self.pos:] + chunk if self.pos < len(self.buf) else chunk
            self.pos = 0
        return True

    def _skip(self, n: int) -> None:
        if n < 0:  # never reached: sizes are checked; the position only moves forward
            raise TarError(f"{self.what}: tar walker asked to move backwards", hint=HOSTILE_HINT)
        avail = len(self.buf) - self.pos
        if n <= avail:
            self.pos += n
            return
        n -= avail
        self.buf, self.pos = b"", 0
        while n > 0:
            chunk = self._read() if not self.eof else b""
            if not chunk:
                self.eof = True
                raise TarError(f"{self.what}: tar stream truncated inside a member's data",
                               hint=_TRUNCATED)
            if len(chunk) > n:
                self.buf, self.pos = chunk, n
                return
            n -= len(chunk)

    def _take(self, n: int) -> bytes:
        if n < 0 or not self._fill(n):
            raise TarError(f"{self.what}: tar stream truncated inside a member's data",
                           hint=_TRUNCATED)
        data = self.buf[self.pos:self.pos + n]
        self.pos += n
        return data

    def _pieces(self, n: int):
        """Yield ``(buffer, start, end)`` ranges covering the next ``n`` bytes, consuming
        them (zero-copy scanning of a member's data)."""
        while n > 0:
            if self.pos >= len(self.buf) and not self._fill(1):
                raise TarError(f"{self.what}: tar stream truncated inside a member's data",
                               hint=_TRUNCATED)
            take = min(n, len(self.buf) - self.pos)
            yield self.buf, self.pos, self.pos + take
            self.pos += take
            n -= take

    # ---- walk -----------------------------------------------------------------------
    def walk(self) -> None:
        """Index every member, then drain the stream to its end."""
        try:
            self._members()
        except FieldError as exc:
            name = self.member.decode("utf-8", "surrogateescape")
            shown = repr(name if len(name) <= 120 else name[:120] + "…")
            raise TarError(f"{self.what}: tar member {shown}: {exc}", hint=HOSTILE_HINT) from None
        # drain: read to the end of the stream, past the end-of-archive marker, so that
        # the digest and diff_id checks below us always run
        self.buf, self.pos = b"", 0
        while not self.eof:
            if not self._read():
                self.eof = True

    def _members(self) -> None:
        """The per-member loop (hot; extended headers are ``ExtendedHeaders``' job)."""
        index = self.index
        unpack = _HEADER.unpack_from
        paths_append, kinds_append = index.paths.append, index.kinds.append
        sizes_append, modes_append = index.sizes.append, index.modes.append
        uids_append, gids_append = index.uids.append, index.gids.append
        ownercache: dict[bytes, tuple[int, int, int]] = {}
        sizecache: dict[bytes, int] = {}
        chkcache: dict[bytes, int] = {}
        seen_fields: set[bytes] = set()  # mtime and device fields already checked
        adler32 = zlib.adler32
        capture_bases = _CAPTURE_BASES
        types_get = _TYPES.get
        scan = scanner(index)  # the C loop for plain members, or None
        while True:
            if len(self.buf) - self.pos < BLOCK_SIZE and not self._next_header():
                return
            if scan and not self.extended:
                self.pos = scan(self.buf, self.pos)
                if len(self.buf) - self.pos < BLOCK_SIZE:
                    continue  # the buffer is used up: refill; else this member is ours
            buf, pos = self.buf, self.pos
            raw_name, f_owner, f_size, f_mtime, f_chk, typeflag, raw_link, f_dev, prefix = \
                unpack(buf, pos)
            if f_chk == _ZERO8 and typeflag == b"\x00" and not raw_name.strip(b"\x00") \
                    and buf.count(0, pos, pos + BLOCK_SIZE) == BLOCK_SIZE:
                return  # end-of-archive marker
            # checksum fast path (see _check): adler32's low half is 1 + the byte sum
            want = chkcache.get(f_chk) or _checksum_target(f_chk, chkcache)
            if want < 0 or ((adler32(buf[pos:pos + BLOCK_SIZE]) & 0xFFFF) - want) % 65521:
                self._check(buf, pos, f_chk)
            self.member = raw_name = raw_name.partition(b"\x00")[0]
            # small files repeat sizes: parse each value once
            size = sizecache[f_size] if f_size in sizecache else _size(f_size, sizecache)
            if f_mtime not in seen_fields and (f_mtime[11] not in _END_BYTES or f_mtime.translate(
                    None, _OCTAL) not in _ENDS) or f_dev not in seen_fields:
                # (mtimes vary: eleven octal digits and an end skip the call)
                _check_fields(f_mtime, f_dev, seen_fields)
            self.pos = pos + BLOCK_SIZE
            if typeflag in _EXT_TYPES:
                self._extended(typeflag, size)
                continue
            if prefix[0] and typeflag != b"S":
                raw_name = prefix.partition(b"\x00")[0] + b"/" + raw_name
            raw_link = raw_link.partition(b"\x00")[0]
            # mode/uid/gid repeat: parse each combination once
            mode, uid, gid = ownercache.get(f_owner) or _owner(f_owner, ownercache)
            stored = apparent = size
            sparse = False
            if self.extended or typeflag == b"S":
                raw_name, raw_link, uid, gid, stored, apparent, sparse = self._apply_extended(
                    buf, pos, typeflag, raw_name, raw_link, uid, gid, size)
            kind = types_get(typeflag, FILE)
            name = raw_name.decode("utf-8", "surrogateescape")
            if typeflag in _HEADER_ONLY:
                stored = 0  # no data, whatever the size says
            elif typeflag == b"\x00" and name.endswith("/"):
                kind, stored = DIR, 0  # a V7 directory: AREGTYPE named with a "/"
            padded = (stored + 511) & ~511
            if name.startswith("./"):
                name = name[2:]
            if not name or "//" in name or "/." in name or name.startswith((".", "/")) \
                    or name.endswith("/"):
                path = self._unusual_name(name, padded)
                if path is None:  # the root itself, or flagged: skipped
                    continue
            else:
                path = "/" + name
            slash = path.rfind("/")
            base = path[slash + 1:]
            if base.startswith(_WH):
                self._whiteout(path, slash, base, padded)
                continue
            row = len(index.paths)
            paths_append(path)
            kinds_append(kind)
            sizes_append(apparent if kind == FILE else 0)
            modes_append(mode)
            uids_append(uid)
            gids_append(gid)
            if kind != FILE:
                if kind == SYMLINK or kind == HARDLINK:
                    self._link(kind, row, path, raw_link)
            elif stored and (mode & 0o111 or base in capture_bases  # capture.candidate, inline
                             or base.endswith(_CAPTURE_ENDINGS)
                             or path.startswith(_CAPTURE_PREFIXES)):
                self._file_data(path, row, mode, stored, apparent, sparse)
                padded -= stored
            if padded <= len(self.buf) - self.pos:
                self.pos += padded
            else:
                self._skip(padded)

    # ---- per-member helpers (cold, or at most once per member) --------------------------
    def _next_header(self) -> bool:
        """Buffer the next header block; False at a clean end of stream. Runs about once
        per chunk read (a megabyte), which is where a cancel request is honoured."""
        if self.cancelled and self.cancelled():
            raise Cancelled()
        if self._fill(BLOCK_SIZE):
            return True
        if len(self.buf) - self.pos:
            raise TarError(f"{self.what}: tar stream truncated inside a header", hint=_TRUNCATED)
        return False  # EOF at a block boundary without an end marker: accepted, like tarfile

    def _unusual_name(self, name: str, padded: int) -> str | None:
        """The path of a name that needs normalising; None for the root or an unsafe name
        (flagged), whose ``padded`` data bytes are then skipped."""
        path, reason = normalize(name)
        if path is None:
            if reason:
                self.index.flagged.append((name, reason))
            self._skip(padded)
        return path

    def _whiteout(self, path: str, slash: int, base: str, padded: int) -> None:
        """A ``.wh.`` member: recorded as a whiteout or opaque marker, never a row."""
        self._skip(padded)
        index = self.index
        if base == _OPAQUE:
            index.opaque.append(path[:slash] or "/")
        elif not base.startswith(".wh..wh."):  # AUFS metadata (.wh..wh.plnk…): skip
            victim = base[4:]
            if not victim:
                index.flagged.append((path, "empty whiteout name"))
            elif victim in (".", ".."):  # would hide the directory itself, or its parent
                index.flagged.append((path, f"whiteout of {victim!r}"))
            else:
                index.whiteouts.append(path[:slash] + "/" + victim)

    def _link(self, kind: int, row: int, path: str, raw_link: bytes) -> None:
        if kind == SYMLINK:
            self.index.targets[row] = raw_link.decode("utf-8", "surrogateescape")
            return
        target, reason = normalize(raw_link.decode("utf-8", "surrogateescape"))
        if target is None:
            self.index.flagged.append((path, f"hardlink target: {reason or 'root'}"))
            target = ""
        self.index.targets[row] = target

    def _file_data(self, path: str, row: int, mode: int, stored: int, apparent: int,
                   sparse: bool) -> None:
        """A regular file whose content matters: captured (package databases…), or an
        executable (its first bytes; Go build info). Consumes exactly ``stored`` bytes."""
        index = self.index
        head_bytes = capture.HEAD_BYTES
        cap = capture.capture_limit(path)
        if cap and apparent <= cap and not sparse:
            data = index.captured[path] = self._take(stored)
            if mode & 0o111:
                index.heads[row] = data[:head_bytes]
            return
        if not mode & 0o111:
            self._skip(stored)
            return
        n = stored if stored < head_bytes else head_bytes
        if len(self.buf) - self.pos < n:
            self._fill(n)
        head = index.heads[row] = self.buf[self.pos:self.pos + n]
        if stored >= capture.GO_FLOOR and head.startswith(b"\x7fELF") and not sparse:
            self._scan_go(path, stored)
        else:
            self._skip(stored)

    def _check(self, buf: bytes, pos: int, field: bytes) -> None:
        """Header checksum: the unsigned byte sum with the checksum field read as spaces.
        ``zlib.adler32``'s low half is 1 + the byte sum mod 65521 — a C-speed sum (a false
        match needs the sums to differ by a multiple of 65521; the exact sums run then)."""
        try:
            stored = int(field[:6], 8) if field[6] in (0, 32) else int(field.translate(None, b"\x00"), 8)
        except ValueError:
            stored = -1
        header = memoryview(buf)[pos:pos + BLOCK_SIZE]
        low = (zlib.adler32(header) & 0xFFFF) - 1
        if stored >= 0 and (low - sum(field) + _SPACES - stored) % 65521 == 0:
            return
        raw = bytes(header)
        field_sum = sum(field)
        unsigned = sum(raw) - field_sum + _SPACES
        signed = unsigned - 256 * sum(1 for b in raw[:148] + raw[156:] if b > 127)
        if stored not in (unsigned, signed):
            raise TarError(f"{self.what}: bad tar header checksum (not a tar stream, or corrupt)",
                           hint="the layer is corrupt or not a tar archive")

    def _scan_go(self, path: str, size: int) -> None:
        """Consume ``size`` bytes of an ELF executable, keeping its Go build info if any."""
        magic = capture.GO_BUILDINFO_MAGIC
        want = capture.GO_BUILDINFO_BYTES
        found: list[bytes] | None = None
        got = 0
        tail = b""
        for buf, start, end in self._pieces(size):
            if found is not None:
                if got < want:
                    piece = buf[start:min(end, start + want - got)]
                    found.append(piece)
                    got += len(piece)
                continue
            if tail:  # the magic may straddle two chunks
                joined = tail + buf[start:min(end, start + len(magic))]
                i = joined.find(magic)
                if i >= 0:
                    found = [joined[i:]]
                    got = len(found[0])
                    start = min(end, start + len(magic))
                    piece = buf[start:min(end, start + want - got)]
                    found.append(piece)
                    got += len(piece)
                    continue
            i = buf.find(magic, start, end)
            if i >= 0:
                piece = buf[i:min(end, i + want)]
                found = [piece]
                got = len(piece)
            else:
                tail = buf[max(start, end - len(magic) + 1):end]
        if found is not None:
            self.index.go_buildinfo[path] = b"".join(found)[:want]


def walk_tar(read: Callable[[], bytes], index: LayerIndex, *, what: str,
             cancelled: Callable[[], bool] | None = None) -> LayerIndex:
    """Walk the tar stream produced by ``read`` into ``index`` and return it."""
    TarWalker(read, index, what=what, cancelled=cancelled).walk()
    return index


__all__ = ["walk_tar", "normalize", "TarWalker"]
