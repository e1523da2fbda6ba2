"""eStargz layers (containerd/stargz-snapshotter ``estargz``): a gzip layer whose files are
separate gzip members, ending with a TOC member (a tar holding ``stargz.index.json``) and a
51-byte footer — an empty gzip member whose extra field says ``%016xSTARGZ``, the TOC's
offset in hex. The annotation ``containerd.io/snapshot/stargz/toc.digest`` is the sha256 of
the TOC JSON (uncompressed): without it the TOC is not used.

Reading costs one ranged GET of the blob's last bytes (the footer, and the TOC when it
fits: ``tail_guess``), two when the TOC is larger; a compressed TOC is at most ``MAX_TOC``
bytes. Each file's content starts at
its entry's ``offset`` (a gzip member) and runs to the next member a TOC entry names; the
member may go on with the next entries' tar headers, so only the entry's size is kept.
Files larger than the writer's chunk size (``--estargz-chunk-size``, 4 MiB by default in
stargz-snapshotter) go on in ``chunk`` entries, one member each, each with a
``chunkDigest``; they are folded into their file. An executable's head is read as a
prefix of its first member (``EstargzToc.read_files``), not the whole member.
Landmark files (``.prefetch.landmark`` after the prefetched files when the writer had a
record, else ``.no.prefetch.landmark`` first) and the TOC itself are real members of the
layer tar: they are listed, as the full pull lists them. Checked on real layers written by
Debian's ``ctr-remote image convert --estargz --oci`` (stargz-snapshotter 0.12,
``tests/registry/test_estargz_real.py``). Not read: the legacy stargz footer (47 bytes,
CRFS, no ``toc.digest`` annotation) and the external-TOC variant (a footer naming no
offset): such layers are pulled whole.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
import zlib

from inspector.sources.registry.chunked import (
    _DIGEST,
    MAX_ENTRIES,
    MAX_TOC,
    Chunk,
    TocEntry,
    TocError,
    TocPlace,
    countable,
    fold_entries,
)
from inspector.sources.registry.toc import RemoteToc

ANNOTATION = "containerd.io/snapshot/stargz/toc.digest"
GZIP_MEDIA = ("application/vnd.oci.image.layer.v1.tar+gzip",
              "application/vnd.docker.image.rootfs.diff.tar.gzip")
FOOTER = 51
#: bytes read from a blob's end first, at least: the footer, and a TOC of up to ~300 files
TAIL = 16 << 10
#: ... and at most (50 ms at 20 MB/s; a larger TOC costs a second GET)
TAIL_MAX = 1 << 20
#: ... else this share of the blob: a compressed TOC costs ~46 bytes a file, so 1 % holds
#: the TOC of a layer whose files average 4.6 kB or more compressed (debian-12-slim:
#: 7.4 kB, its TOC 194 kB of 31.4 MB, 0.62 %): one GET, ~120 kB read past the TOC
TAIL_SHARE = 100
#: compressed bytes of an executable's first chunk fetched first for its head (read_files)
HEAD_FETCH = 1 << 9
#: inflated bytes a head's prefix is cut to (a hostile member may inflate ~1000-fold)
HEAD_MAX = 64 << 10
TOC_NAME = "stargz.index.json"
_FOOTER_EXTRA = re.compile(rb"^([0-9a-f]{16})STARGZ$")


def announced(media_type: str, annotations: dict, what: str) -> TocPlace | None:
    digest = annotations.get(ANNOTATION) if isinstance(annotations, dict) else None
    if digest is None or media_type not in GZIP_MEDIA:
        return None
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise TocError(f"{what}: eStargz toc.digest annotation is not a sha256 digest")
    return TocPlace(digest)


def footer_offset(footer: bytes, blob_size: int, what: str) -> int:
    """The TOC's offset from the 51-byte footer (an empty gzip member: its trailer, the
    CRC and size of nothing, is 8 zero bytes)."""
    if len(footer) != FOOTER or footer[:3] != b"\x1f\x8b\x08" or not footer[3] & 4 or \
            footer[10:16] != b"\x1a\x00SG\x16\x00" or footer[-8:] != bytes(8):
        raise TocError(f"{what}: no eStargz footer at the end of the blob")
    m = _FOOTER_EXTRA.match(footer[16:38])
    if not m:
        raise TocError(f"{what}: eStargz footer does not name a TOC offset")
    offset = int(m.group(1), 16)
    if not 0 < offset < blob_size - FOOTER:
        raise TocError(f"{what}: eStargz TOC offset {offset} lies outside the blob")
    if blob_size - FOOTER - offset > MAX_TOC:
        raise TocError(f"{what}: eStargz TOC of {blob_size - FOOTER - offset} bytes is larger "
                       f"than {MAX_TOC} (at offset {offset})")
    return offset


def tail_guess(blob_size: int) -> int:
    """Bytes read first from a blob's end: enough for its TOC most of the time (a missed
    guess costs one more GET; the bytes past the TOC are read for nothing)."""
    return min(blob_size, max(TAIL, min(blob_size // TAIL_SHARE, TAIL_MAX)))


class EstargzToc(RemoteToc):
    def read_toc(self) -> list[TocEntry]:
        # one GET of the blob's tail: the footer, and the whole TOC when it fits
        start = self.size - tail_guess(self.size)
        tail = self.ranges([(start, self.size)])[0] if self.size else b""
        offset = footer_offset(tail[-FOOTER:], self.size, self.what)
        compressed = tail[offset - start:-FOOTER] if offset >= start else \
            self.ranges([(offset, start)])[0] + tail[:-FOOTER]
        tar_bytes = gunzip(compressed, MAX_TOC + 4096, self.what, "TOC", exact=False)
        data, info = _member(tar_bytes, self.what)
        got = "sha256:" + hashlib.sha256(data).hexdigest()
        if got != self.place.checksum:
            raise TocError(f"{self.what}: eStargz TOC hashes to {got[:19]}…, the annotation "
                           f"says {self.place.checksum[:19]}…")
        # the TOC is the layer tar's last member: the full pull lists it too
        return [*parse(data, offset, self.what),
                TocEntry("reg", TOC_NAME, "", info.mode & 0o7777, info.uid, info.gid,
                         len(data), "", [])]

    def read_files(self, wanted: list[tuple[TocEntry, int]]) -> list[bytes]:
        """As ``RemoteToc.read_files``, except executables' heads (first bytes within the
        first chunk, short of the whole file): a writer's chunk is 4 MiB by default, so a
        file's first chunk is most often the whole file. A gzip member inflates from its
        start, so a head is a prefix of the first chunk's member: ``HEAD_FETCH`` compressed
        bytes plus half the bytes asked for, four times more while it inflates short, up
        to the whole member. What it inflates to is returned: at least what was asked
        for, at most ``HEAD_MAX`` unless more was asked for. A
        prefix cannot be checked against the chunk digest; a whole chunk is (and against
        the file's digest when it is the whole file)."""
        out: list[bytes] = [b""] * len(wanted)
        heads = [(i, entry, entry.chunks[0], upto,
                  HEAD_FETCH + upto // 2)
                 for i, (entry, upto) in enumerate(wanted)
                 if entry.chunks and upto < entry.size and upto <= entry.chunks[0].size]
        rest = sorted(set(range(len(wanted))) - {head[0] for head in heads})
        whole = [wanted[i] for i in rest]
        frames = self._frames(whole)
        flat = sorted({(c.start, c.end) for chunks in frames for c in chunks})
        spans = [(c.start, min(c.end, c.start + fetch)) for _, _, c, _, fetch in heads]
        # the whole files' frames and the heads' first prefixes: one round of requests
        first = self.ranges(flat + spans)
        done = self._whole(whole, frames, dict(zip(flat, first[:len(flat)], strict=True)))
        for i, data in zip(rest, done, strict=True):
            out[i] = data
        prefixes = first[len(flat):]
        while heads:
            short = []
            for (i, entry, chunk, need, fetch), (_, end), data in zip(
                    heads, spans, prefixes, strict=True):
                name = repr(entry.name[:80])
                # a chunk is one gzip member (the range may run past it, into the next
                # tar header's); a prefix inflates to at most HEAD_MAX bytes, whatever
                # the TOC claims
                limit = min(chunk.size, max(need, HEAD_MAX))
                got, ended = _inflate_member(data, limit, self.what, name)
                if len(got) == chunk.size:  # the whole chunk: checked
                    out[i] = self._checked(entry, chunk, got)
                elif ended or end == chunk.end and len(got) < need:
                    raise TocError(f"{self.what}: eStargz {name} is shorter than its TOC says")
                elif len(got) >= need:
                    out[i] = got
                else:
                    short.append((i, entry, chunk, need, fetch * 4))
            heads = short
            spans = [(c.start, min(c.end, c.start + fetch)) for _, _, c, _, fetch in heads]
            prefixes = self.ranges(spans) if heads else []
        return out

    def _checked(self, entry: TocEntry, chunk: Chunk, got: bytes) -> bytes:
        whole = entry.chunks == [chunk] and entry.digest
        if chunk.digest and _sha(got) != chunk.digest or whole and _sha(got) != entry.digest:
            raise TocError(f"{self.what}: a chunk of {entry.name[:80]!r} does not match its "
                           "TOC digest")
        return got

    def inflate(self, data: bytes, size: int, name: str) -> bytes:
        return gunzip(data, size, self.what, name, exact=True)


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _member(tar_bytes: bytes, what: str) -> tuple[bytes, tarfile.TarInfo]:
    try:
        with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as tar:
            for info in tar:
                if info.name == TOC_NAME and info.isfile() and info.size <= MAX_TOC:
                    f = tar.extractfile(info)
                    if f is not None:
                        return f.read(), info
    except tarfile.TarError:
        pass
    raise TocError(f"{what}: eStargz TOC is not a tar holding {TOC_NAME}")


def parse(data: bytes, toc_offset: int, what: str) -> list[TocEntry]:
    """The entries of an eStargz TOC JSON, chunks folded into their file, each frame's end
    the next member a TOC entry names (or the TOC itself)."""
    countable(data, what, "eStargz")
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise TocError(f"{what}: eStargz TOC is not JSON ({str(exc)[:80]})") from None
    raw = doc.get("entries") if isinstance(doc, dict) and doc.get("version") == 1 else None
    if not isinstance(raw, list) or len(raw) > MAX_ENTRIES:
        raise TocError(f"{what}: eStargz TOC is not a version 1 TOC with an entries list")
    starts: list[int] = sorted({e["offset"] for e in raw if isinstance(e, dict)
                                and type(e.get("offset")) is int and 0 < e["offset"] < toc_offset})
    bounds = [*starts, toc_offset]
    ends = {bounds[i]: bounds[i + 1] for i in range(len(starts))}

    def prepare(item: dict) -> dict:
        start = item.get("offset")
        item = {**item, "endOffset": ends.get(start, 0) if type(start) is int else 0}
        if item.get("type") == "reg" and not item.get("chunkSize"):
            item["chunkSize"] = item.get("size", 0)
        return item

    entries = fold_entries(raw, toc_offset, what, "eStargz", prepare)
    for entry in entries:
        chunks = entry.chunks or []
        done = 0
        for n, c in enumerate(chunks):
            size = c.size if n + 1 < len(chunks) else entry.size - done
            if not c.start < c.end or size <= 0:
                raise TocError(f"{what}: eStargz TOC: {entry.name[:80]!r} has chunks out of "
                               "order, out of bounds or not adding up to its size")
            chunks[n] = type(c)(c.start, c.end, size, c.digest)
            done += size
    return entries


def gunzip(data: bytes, size: int, what: str, name: str, *, exact: bool) -> bytes:
    """The first ``size`` bytes gzip members ``data`` inflate to (``exact``: there must be
    that many; else refuse more than ``size``). ``data`` may stop mid-member."""
    got = _inflate(data, size, what, name)
    if exact:
        if len(got) < size:
            raise TocError(f"{what}: eStargz {name} is shorter than its TOC says")
        return got[:size]
    if len(got) > size:
        raise TocError(f"{what}: eStargz {name} inflates past {size} bytes")
    return got


def _inflate_member(data: bytes, size: int, what: str, name: str) -> tuple[bytes, bool]:
    """The first ``size`` bytes the first gzip member of ``data`` inflates to, and whether
    the member ended before that."""
    d = zlib.decompressobj(31)
    try:
        got = d.decompress(data, size)
    except zlib.error as exc:
        raise TocError(f"{what}: eStargz {name} does not inflate ({exc})") from None
    return got, d.eof and len(got) < size


def _inflate(data: bytes, size: int, what: str, name: str) -> bytes:
    """What the gzip members of ``data`` inflate to, at most ``size + 1`` bytes."""
    out, rest = [], data
    total = 0
    try:
        while rest and total <= size:
            d = zlib.decompressobj(31)
            piece = d.decompress(rest, size + 1 - total)
            out.append(piece)
            total += len(piece)
            if not d.eof:
                break
            rest = d.unused_data
    except zlib.error as exc:
        raise TocError(f"{what}: eStargz {name} does not inflate ({exc})") from None
    return b"".join(out)
