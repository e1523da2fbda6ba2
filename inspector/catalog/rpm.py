"""rpm: the sqlite rpmdb (``rpmdb.sqlite``: table ``Packages(hnum, blob)``; each blob is an
rpm header without its 8-byte magic — ``il``/``dl`` counts, ``il`` 16-byte index entries
(tag, type, offset, count; big-endian), then ``dl`` bytes of data; rpm ``header.c``).
Berkeley DB and ndb (``Packages``, ``Packages.db``) are reported, never guessed."""

from __future__ import annotations

import os
import struct
import tempfile

from inspector.catalog.builder import (
    Builder,
    OSInfo,
    Package,
    Purl,
    names_note,
    os_qualifiers,
    type_of,
)
from inspector.catalog.registry import RPM_OTHER as OTHER
from inspector.catalog.registry import RPM_SQLITE as SQLITE
from inspector.index.merge import MergedFS

#: the package type this cataloger reports (its row in ``registry.CATALOGERS``)
TYPE = type_of(__name__)

NAME, VERSION, RELEASE, EPOCH, SIZE, ARCH = 1000, 1001, 1002, 1003, 1009, 1022
OLDFILENAMES, DIRINDEXES, BASENAMES, DIRNAMES = 1027, 1116, 1117, 1118
INT32, STRING, STRING_ARRAY, I18NSTRING = 4, 6, 8, 9
_ENTRY = struct.Struct(">iiii")


class HeaderError(ValueError):
    pass


def parse_header(blob: bytes) -> dict[int, object]:
    """Tag → value for the tags we use (strings, string lists, int lists)."""
    if len(blob) < 8:
        raise HeaderError("header shorter than 8 bytes")
    il, dl = struct.unpack_from(">ii", blob)
    start = 8 + 16 * il
    if il < 0 or dl < 0 or start + dl > len(blob):
        raise HeaderError(f"header counts out of range (il={il}, dl={dl}, {len(blob)} bytes)")
    store = blob[start:start + dl]
    wanted = {NAME, VERSION, RELEASE, EPOCH, SIZE, ARCH, OLDFILENAMES, DIRINDEXES,
              BASENAMES, DIRNAMES}
    out: dict[int, object] = {}
    for i in range(il):
        tag, typ, offset, count = _ENTRY.unpack_from(blob, 8 + 16 * i)
        if tag not in wanted:
            continue
        if offset < 0 or offset > dl:
            raise HeaderError(f"tag {tag}: offset {offset} outside the data")
        if typ in (STRING, STRING_ARRAY, I18NSTRING):
            n = 1 if typ == STRING else count
            values, pos = [], offset
            for _ in range(n):
                end = store.find(b"\0", pos)
                if end < 0:
                    raise HeaderError(f"tag {tag}: unterminated string")
                values.append(store[pos:end].decode("utf-8", "surrogateescape"))
                pos = end + 1
            out[tag] = values[0] if typ == STRING else values
        elif typ == INT32:
            if offset + 4 * count > dl:
                raise HeaderError(f"tag {tag}: integers outside the data")
            out[tag] = list(struct.unpack_from(f">{count}i", store, offset))
    return out


def header_files(h: dict[int, object]) -> list[str]:
    names = h.get(BASENAMES)
    if isinstance(names, list):
        dirs, index = h.get(DIRNAMES), h.get(DIRINDEXES)
        dirs = dirs if isinstance(dirs, list) else []
        index = index if isinstance(index, list) else []
        return [dirs[i] + b if 0 <= i < len(dirs) else b for i, b in zip(index, names, strict=False)]
    old = h.get(OLDFILENAMES)
    return list(old) if isinstance(old, list) else []


def read_sqlite(data: bytes) -> tuple[list[dict[int, object]], list[str]]:
    """Headers from rpmdb.sqlite bytes → (headers, problems)."""
    import sqlite3  # only RPM images need it (~4 ms of every run's start otherwise)

    headers, problems = [], []
    # a directory of its own: SQLite leaves -wal/-shm files next to a WAL database it opened
    # read-only, and they must go with it
    with tempfile.TemporaryDirectory(prefix="inspector-rpmdb-") as where:
        tmp = os.path.join(where, "rpmdb.sqlite")
        with open(tmp, "wb") as f:
            f.write(data)
        conn = sqlite3.connect(f"file:{tmp}?mode=ro", uri=True)
        try:
            rows = conn.execute("SELECT hnum, blob FROM Packages ORDER BY hnum")
            while True:
                try:
                    row = rows.fetchone()
                except sqlite3.DatabaseError as exc:
                    problems.append(f"reading rows: {exc}")
                    break
                if row is None:
                    break
                hnum, blob = row
                try:
                    headers.append(parse_header(bytes(blob)))
                except (HeaderError, struct.error, TypeError) as exc:
                    problems.append(f"header {hnum}: {exc}")
        except sqlite3.DatabaseError as exc:
            problems.append(str(exc))
        finally:
            conn.close()
    return headers, problems


def catalog(fs: MergedFS, out: Builder) -> None:
    for db in SQLITE:
        if db not in fs.entries or out.missing_capture(db):
            continue
        data = fs.captured(db)
        if data is None:
            continue
        wal = db + "-wal"
        if wal in fs.entries and fs.size(wal) > 0:
            out.warn(f"{wal}: the rpmdb has an uncheckpointed write-ahead log "
                     f"({fs.size(wal)} bytes) that is not read; packages may be missing")
        headers, problems = read_sqlite(data)
        names = []
        layer = out.layer(db)
        for h in headers:
            name = h.get(NAME)
            if not isinstance(name, str) or name == "gpg-pubkey":
                continue
            version = f"{h.get(VERSION, '')}-{h.get(RELEASE, '')}"
            epoch = h.get(EPOCH)
            if isinstance(epoch, list) and epoch:
                version = f"{epoch[0]}:{version}"
            arch = h.get(ARCH)
            out.add(Package(type=TYPE, name=name, version=version,
                            arch=arch if isinstance(arch, str) else None, layer=layer,
                            source_path=db), header_files(h))
            names.append(name)
        if problems:
            out.warn(f"{db}: malformed rpmdb ({'; '.join(problems[:3])}); {names_note(names)}")
    for db in OTHER:
        if db in fs.entries and fs.kind_name(db) == "file" and fs.size(db) > 0:
            out.warn(f"{db}: unsupported rpmdb format (Berkeley DB or ndb); its packages "
                     f"are not listed")


def purl(p: Package, os: OSInfo) -> Purl:
    """``pkg:rpm/ID/NAME@VERSION-RELEASE?arch=…&epoch=E&distro=…``."""
    q = os_qualifiers(p, os)
    epoch, sep, version = p.version.partition(":")
    if sep and epoch.isdigit():
        q["epoch"] = epoch
    return Purl("rpm", os.id or None, p.name, version if sep else p.version, q)
