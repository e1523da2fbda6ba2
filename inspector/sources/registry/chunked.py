"""The zstd:chunked layer format (containers/storage ``pkg/chunked``): where a layer's table
of contents is, and what a decompressed TOC may hold.

A zstd:chunked blob is ordinary zstd frames (one per file, or per chunk of a large file),
then zstd skippable frames holding the zstd-compressed TOC JSON, the tar-split (newer
writers) and a footer. The TOC's place and digest are announced by the layer annotations
(two key families: ``io.containers.zstd-chunked.*`` by older writers such as skopeo 1.9,
``io.github.containers.zstd-chunked.*`` since containers/storage ``f98fa3967``) and by the
footer (40 bytes + magic ``GnUlInUx``, or 64 bytes + magic ``GNUlInUx``). The annotation is
preferred: it costs no request, and only it carries the TOC's checksum (the sha256 of the
*compressed* TOC) — without a checksum the TOC is not used.

Everything here is hostile input: sizes are bounded, every field's type and range is
checked, and a violation is one ``TocError`` line (the caller falls back to the full pull).
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from inspector.errors import FormatError

#: containers/storage's own bound on a TOC (``maxTocSize``, compression_linux.go)
MAX_TOC = 150 << 20
#: entries one TOC may list
MAX_ENTRIES = 4_000_000
MAX_NAME = 4096
KEY_FAMILIES = ("io.github.containers.zstd-chunked.", "io.containers.zstd-chunked.")
CHECKSUM, POSITION = "manifest-checksum", "manifest-position"
ZSTD_MEDIA = ("application/vnd.oci.image.layer.v1.tar+zstd",)
SKIPPABLE_MAGIC = b"\x50\x2a\x4d\x18"
FOOTER_MAGICS = {b"GnUlInUx": 40, b"GNUlInUx": 64}
#: bytes a footer read asks for: the skippable frame's header + the longest footer
TAIL = 8 + 64
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_HEX = b"0123456789abcdef"
_POSITION = re.compile(r"^(\d{1,15}):(\d{1,15}):(\d{1,15}):(\d{1,3})$")
TYPES = ("reg", "dir", "symlink", "hardlink", "char", "block", "fifo", "chunk")


class TocError(FormatError):
    """A TOC that cannot be used (malformed, too large, failed its digest)."""


@dataclass(frozen=True)
class TocPlace:
    """Where a layer's compressed TOC is and what it must hash to."""

    checksum: str  # sha256 of the compressed TOC (the annotation)
    offset: int | None = None  # None: read the footer to learn it
    length: int = 0
    uncompressed: int = 0


def announced(media_type: str, annotations: dict, blob_size: int, what: str) -> TocPlace | None:
    """The TOC a zstd:chunked layer's annotations announce; None when the layer is not
    one (or carries no checksum: an unverifiable TOC is never used)."""
    if media_type not in ZSTD_MEDIA or not isinstance(annotations, dict):
        return None
    for family in KEY_FAMILIES:
        checksum = annotations.get(family + CHECKSUM)
        if checksum is None:
            continue
        if not _is_digest(checksum):
            raise TocError(f"{what}: zstd:chunked TOC checksum annotation is not a sha256 digest")
        position = annotations.get(family + POSITION)
        if not isinstance(position, str):
            return TocPlace(checksum)  # the footer says where
        m = _POSITION.match(position)
        if not m:
            raise TocError(f"{what}: zstd:chunked manifest-position {position[:80]!r} is malformed")
        offset, length, uncompressed, kind = map(int, m.groups())
        return _checked(TocPlace(checksum, offset, length, uncompressed), kind, blob_size, what)
    return None


def from_footer(place: TocPlace, tail: bytes, blob_size: int, what: str) -> TocPlace:
    """``place`` completed from the blob's last bytes (either footer format)."""
    for magic, size in FOOTER_MAGICS.items():
        if tail.endswith(magic) and len(tail) >= size + 8:
            frame = tail[-(size + 8):]
            if frame[:4] != SKIPPABLE_MAGIC:
                break
            offset, length, uncompressed, kind = struct.unpack_from("<4Q", frame, 8)
            return _checked(TocPlace(place.checksum, offset, length, uncompressed), kind,
                            blob_size, what)
    raise TocError(f"{what}: no zstd:chunked footer at the end of the blob")


def _checked(place: TocPlace, kind: int, blob_size: int, what: str) -> TocPlace:
    offset, length = place.offset or 0, place.length
    if kind != 1:
        raise TocError(f"{what}: zstd:chunked TOC type {kind} is not 1 (CRFS)")
    if not 0 < length <= MAX_TOC or not 0 < place.uncompressed <= MAX_TOC:
        raise TocError(f"{what}: zstd:chunked TOC size out of bounds (at most {MAX_TOC} bytes)")
    if offset + length > blob_size:
        raise TocError(f"{what}: zstd:chunked TOC at {offset}+{length} lies past the "
                       f"{blob_size}-byte blob")
    return place


class Chunk(NamedTuple):
    """One zstd frame of a file: compressed ``start..end``, ``size`` bytes inflated.
    ``loose``: ``end`` is the next entry's offset (a TOC without ``endOffset``), so the
    range may hold the next tar header's frame too: its first ``size`` bytes are kept."""

    start: int
    end: int
    size: int
    digest: str
    loose: bool = False


@dataclass(slots=True)
class TocEntry:
    type: str
    name: str
    link: str = ""
    mode: int = 0
    uid: int = 0
    gid: int = 0
    size: int = 0
    digest: str = ""  # sha256 of the whole content (regular files)
    chunks: list[Chunk] | None = None  # the file's frames in order (regular files)


def parse_toc(data: bytes, blob_size: int, what: str, toc_offset: int | None = None
              ) -> list[TocEntry]:
    """The entries of a decompressed TOC JSON, in its order, chunks folded into their
    file. A frame without ``endOffset`` (``ctr-remote image convert --zstdchunked``
    writes none) ends where the next entry's frame starts, or at ``toc_offset``: such
    a chunk is ``loose``. Raises ``TocError`` (one line) on any malformed shape."""
    countable(data, what, "zstd:chunked")
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise TocError(f"{what}: zstd:chunked TOC is not JSON ({str(exc)[:80]})") from None
    if not isinstance(doc, dict) or doc.get("version") != 1:
        raise TocError(f"{what}: zstd:chunked TOC is not a version 1 TOC object")
    raw = doc.get("entries")
    if raw is None and "entries" in doc:  # an empty layer: Go writes its nil slice as null
        raw = []
    if not isinstance(raw, list) or len(raw) > MAX_ENTRIES:
        raise TocError(f"{what}: zstd:chunked TOC has no entries list (or more than "
                       f"{MAX_ENTRIES})")
    entries = fold_entries(raw, blob_size, what, "zstd:chunked",
                           _derive_ends(raw, toc_offset or blob_size))
    return close(entries, blob_size, what)


def countable(data: bytes, what: str, fmt: str) -> None:
    """Refuse a TOC JSON holding more objects and lists than ``MAX_ENTRIES`` entries can
    (one each, and its xattrs), before ``json.loads`` builds them: ``{}`` is 3 bytes of
    JSON and ~80 of Python, and a few kB of zstd inflate to ``MAX_TOC`` bytes of it
    (~4 GB of objects before the entries were counted)."""
    if data.count(b"{") + data.count(b"[") > 2 * MAX_ENTRIES + 2:
        raise TocError(f"{what}: {fmt} TOC holds more objects than {MAX_ENTRIES:,} entries "
                       "can")


def close(entries: list[TocEntry], blob_size: int, what: str) -> list[TocEntry]:
    """``entries`` with each file's frames ended and sized (``parse_toc``'s last step)."""
    for entry in entries:
        chunks = entry.chunks
        if not chunks:
            continue
        if len(chunks) > 1:
            _close_chunks(entry, blob_size, what)
            continue
        chunk = chunks[0]  # most files: one frame, ending at the file's endOffset
        if not chunk.start < chunk.end:
            raise TocError(f"{what}: zstd:chunked TOC: {entry.name[:80]!r} has chunks out "
                           "of order, out of bounds or not adding up to its size")
        if chunk.size != entry.size:
            chunks[0] = Chunk(chunk.start, chunk.end, entry.size, chunk.digest, chunk.loose)
    return entries


def _derive_ends(raw: list, bound: int) -> Callable[[dict], dict] | None:
    """When frames name no ``endOffset``: the item rewrite giving each its end, the next
    offset any entry names (or ``bound``); None when the first frame names its end (an
    item without one is then malformed, as before)."""
    first = next((e for e in raw if type(e) is dict and type(e.get("offset")) is int), None)
    if first is None or "endOffset" in first:  # a writer states every end or none
        return None
    starts = sorted({e["offset"] for e in raw if type(e) is dict
                     and type(e.get("offset")) is int and 0 <= e["offset"] < bound})
    ends = dict(zip(starts, [*starts[1:], bound], strict=True))

    def prepare(item: dict) -> dict:
        start = item.get("offset")
        if "endOffset" in item or type(start) is not int or start not in ends:
            return item
        return {**item, "endOffset": ends[start], "_loose": True}
    return prepare


def fold_entries(raw: list, bound: int, what: str, fmt: str,
                 prepare: Callable[[dict], dict] | None = None) -> list[TocEntry]:
    """A TOC's ``entries`` items (zstd:chunked and eStargz share the shape) as
    ``TocEntry``s in their order, each ``chunk`` item appended to its file's chunks;
    positions must lie within ``bound`` bytes. ``prepare`` rewrites an item first (eStargz
    derives the fields zstd:chunked states). ``fmt`` names the format in errors."""
    folder = Folder(bound, what, fmt, prepare)
    folder.add(raw)
    return folder.done()


class Folder:
    """``fold_entries`` in steps: ``add`` the items as they come (``tocstream`` folds a
    TOC while it downloads), ``done`` at the end. Hot: one item per file of a layer (150k
    on a node_modules layer), so the digests' hex is checked once for all, at the end."""

    def __init__(self, bound: int, what: str, fmt: str,
                 prepare: Callable[[dict], dict] | None = None) -> None:
        self.bound, self.what, self.fmt, self.prepare = bound, what, fmt, prepare
        self.entries: list[TocEntry] = []
        self.by_name: dict[str, TocEntry] = {}
        self.hexes: list[str] = []  # every digest's hex part, checked at the end
        self.items = 0  # items added so far

    def add(self, raw: list) -> None:
        bound, what, fmt, prepare = self.bound, self.what, self.fmt, self.prepare
        entries, by_name, hexes = self.entries, self.by_name, self.hexes
        for i, item in enumerate(raw, self.items):
            if type(item) is not dict:
                raise TocError(f"{what}: {fmt} TOC entry {i} is not an object")
            if prepare is not None:
                item = prepare(item)
            if item.get("type") == "chunk":
                name = item.get("name")
                owner = by_name.get(name) if type(name) is str else None
                if owner is None or owner.chunks is None:
                    raise TocError(f"{what}: {fmt} TOC entry {i}: chunk of unknown file")
                owner.chunks.append(_chunk(item, i, bound, what, hexes))
                continue
            entry = _entry(item, i, bound, what, hexes)
            entries.append(entry)
            if entry.type == "reg":
                by_name[entry.name] = entry
        self.items += len(raw)

    def done(self) -> list[TocEntry]:
        hexes = self.hexes
        joined = "".join(hexes)
        if not joined.isascii() or joined.encode().translate(None, _HEX):
            bad = next(h for h in hexes if not h.isascii() or h.encode().translate(None, _HEX))
            raise TocError(f"{self.what}: {self.fmt} TOC: a digest (sha256:{bad!r}) is not "
                           "lowercase hex")
        return self.entries


def _entry(item: dict, i: int, blob_size: int, what: str, hexes: list[str]) -> TocEntry:
    get = item.get
    kind, name = get("type"), get("name")
    if kind not in TYPES or type(name) is not str or not 0 < len(name) <= MAX_NAME:
        raise TocError(f"{what}: zstd:chunked TOC entry {i}: bad type or name")
    link = get("linkName", "")
    mode, uid, gid, size = get("mode", 0), get("uid", 0), get("gid", 0), get("size", 0)
    if type(link) is not str or len(link) > MAX_NAME or type(mode) is not int or \
            type(uid) is not int or type(gid) is not int or type(size) is not int or \
            not 0 <= size < 1 << 62:
        raise TocError(f"{what}: zstd:chunked TOC entry {i} ({name[:80]!r}): bad field")
    if not (name.isascii() and link.isascii()) or "\0" in name or "\0" in link:
        if not (_said(name) and _said(link)):
            raise TocError(f"{what}: zstd:chunked TOC entry {i} ({name[:80]!r}): a name or "
                           "link target not in UTF-8 (or holding NUL) is not one the layer "
                           "tar holds")
    if not 0 <= mode <= 0o7777 or not 0 <= uid < 1 << 32 or not 0 <= gid < 1 << 32:
        raise TocError(f"{what}: zstd:chunked TOC entry {i} ({name[:80]!r}): mode or owner "
                       "out of range")
    digest = get("digest", "")
    if digest:
        if type(digest) is not str or len(digest) != 71 or not digest.startswith("sha256:"):
            raise TocError(f"{what}: zstd:chunked TOC entry {i} ({name[:80]!r}): bad digest")
        hexes.append(digest[7:])
    if "xattrs" in item and type(item["xattrs"]) is not dict and item["xattrs"] is not None:
        raise TocError(f"{what}: zstd:chunked TOC entry {i} ({name[:80]!r}): bad xattrs")
    if kind != "reg":
        return TocEntry(kind, name, link, mode, uid, gid, 0, digest)
    if not size:
        return TocEntry(kind, name, link, mode, uid, gid, 0, digest, [])
    if not digest:
        raise TocError(f"{what}: zstd:chunked TOC entry {i} ({name[:80]!r}): file "
                       "without a digest")
    # the file's first frame (as _chunk, inline: one per file); its size stands for an
    # absent chunkSize, right for the one frame of most files
    start, end, csize = get("offset"), get("endOffset", 0), get("chunkSize", 0)
    cdigest = get("chunkDigest", "")
    if type(start) is not int or type(end) is not int or type(csize) is not int or \
            not 0 <= start <= blob_size or not 0 <= end <= blob_size or \
            not 0 <= csize < 1 << 62 or (cdigest and (
                type(cdigest) is not str or len(cdigest) != 71
                or not cdigest.startswith("sha256:"))):
        raise TocError(f"{what}: zstd:chunked TOC entry {i}: bad chunk position")
    if cdigest:
        hexes.append(cdigest[7:])
    return TocEntry(kind, name, link, mode, uid, gid, size, digest,
                    [_new_chunk(Chunk, (start, end, csize or size, cdigest, "_loose" in item))])


#: a ``Chunk`` made without NamedTuple's ``__new__`` (Python code): one per file
_new_chunk = tuple.__new__


def _chunk(item: dict, i: int, blob_size: int, what: str, hexes: list[str]) -> Chunk:
    """A ``chunk`` item's frame (a file's first is read by ``_entry``)."""
    get = item.get
    start, end, size = get("offset"), get("endOffset", 0), get("chunkSize", 0)
    digest = get("chunkDigest", "")
    if type(start) is not int or type(end) is not int or type(size) is not int or \
            not 0 <= start <= blob_size or not 0 <= end <= blob_size or \
            not 0 <= size < 1 << 62 or (digest and (
                type(digest) is not str or len(digest) != 71
                or not digest.startswith("sha256:"))):
        raise TocError(f"{what}: zstd:chunked TOC entry {i}: bad chunk position")
    if digest:
        hexes.append(digest[7:])
    # ends, sizes fixed up when closed
    return _new_chunk(Chunk, (start, end, size, digest, "_loose" in item))


def _said(text: str) -> bool:
    """Whether a TOC name or link target says a tar member's as it is: no NUL (a tar name
    ends at one), valid Unicode (JSON can escape a lone surrogate; no tar name decodes to
    one but bytes 0x80-0xff, which Go's encoding/json — skopeo's, ctr-remote's — never
    writes), no U+FFFD (what that encoder writes for each byte of a name that is not
    UTF-8: the full pull's name is lost; a TOC saying one is read whole instead)."""
    if "\0" in text or "\ufffd" in text:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _is_digest(value: object) -> bool:
    """A ``sha256:`` + 64 lowercase hex digest."""
    return type(value) is str and len(value) == 71 and value.startswith("sha256:") and \
        _DIGEST.match(value) is not None


def _close_chunks(entry: TocEntry, blob_size: int, what: str) -> None:
    """Give each frame its end (the next frame's start; the last: the file's
    ``endOffset``) and its inflated size, and check they tile the file."""
    chunks = entry.chunks or []
    fixed, done = [], 0
    for n, chunk in enumerate(chunks):
        last = n + 1 == len(chunks)
        # the file's endOffset is on its first item; a loose frame carries its own end
        end = (chunk.end if chunk.loose else chunks[0].end) if last else chunks[n + 1].start
        size = entry.size - done if last else chunk.size
        if not chunk.start < end <= blob_size or size <= 0 or (
                last and len(chunks) > 1 and chunk.size and chunk.size != size):
            raise TocError(f"{what}: zstd:chunked TOC: {entry.name[:80]!r} has chunks out "
                           "of order, out of bounds or not adding up to its size")
        fixed.append(Chunk(chunk.start, end, size, chunk.digest, chunk.loose))
        done += size
    entry.chunks = fixed
