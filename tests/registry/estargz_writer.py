"""A minimal eStargz writer for tests, from the format (stargz-snapshotter
``estargz/types.go``, ``docs/estargz.md``): each regular file's data starts a new gzip
member (its tar header goes in the member before), then a gzip member holding the layer tar's last entry,
``stargz.index.json``, and its end marker, then the 51-byte footer naming the TOC's offset. Decompressed
whole, the blob is the original tar's entries, the TOC entry and the end marker."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import struct
import tarfile
import zlib

KINDS = {tarfile.REGTYPE: "reg", tarfile.AREGTYPE: "reg", tarfile.DIRTYPE: "dir",
         tarfile.SYMTYPE: "symlink", tarfile.LNKTYPE: "hardlink", tarfile.CHRTYPE: "char",
         tarfile.BLKTYPE: "block", tarfile.FIFOTYPE: "fifo"}


def footer(toc_offset: int) -> bytes:
    extra = b"SG" + struct.pack("<H", 22) + b"%016xSTARGZ" % toc_offset
    header = b"\x1f\x8b\x08\x04" + bytes(4) + b"\x00\xff" + struct.pack("<H", len(extra)) + extra
    empty = b"\x01\x00\x00\xff\xff"  # one empty stored deflate block
    return header + empty + struct.pack("<II", zlib.crc32(b""), 0)


def estargz(tar_bytes: bytes, toc_mode: int = 0o644) -> tuple[bytes, str]:
    """(blob, sha256 of the TOC JSON) for the uncompressed layer tar ``tar_bytes``
    (``toc_mode``: the TOC member's mode)."""
    out, pending, entries = bytearray(), bytearray(), []
    with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as tar:
        members = tar.getmembers()
    for m in members:
        entry = {"name": m.name + ("/" if m.isdir() else ""), "type": KINDS[m.type],
                 "mode": m.mode, "uid": m.uid, "gid": m.gid}
        if m.linkname:
            entry["linkName"] = m.linkname
        pending += tar_bytes[m.offset:m.offset_data]  # its header(s), PAX ones included
        if m.isreg() and m.size:
            out += gzip.compress(bytes(pending), mtime=0)
            data = tar_bytes[m.offset_data:m.offset_data + m.size]
            entry.update(size=m.size, offset=len(out), digest="sha256:" + hashlib.sha256(data).hexdigest())
            pad = -m.size % 512
            pending = bytearray(tar_bytes[m.offset_data:m.offset_data + m.size + pad])
        entries.append(entry)
    out += gzip.compress(bytes(pending), mtime=0)  # the tar's end marker goes after the TOC
    toc = json.dumps({"version": 1, "entries": entries}).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("stargz.index.json")
        info.size, info.mode = len(toc), toc_mode
        tar.addfile(info, io.BytesIO(toc))
    toc_offset = len(out)
    out += gzip.compress(buf.getvalue(), mtime=0) + footer(toc_offset)
    return bytes(out), "sha256:" + hashlib.sha256(toc).hexdigest()
