"""apk: ``/lib/apk/db/installed`` (and ``/usr/lib/apk/db/installed``, apk 3). Blocks of
``K:value`` lines separated by blank lines; ``P`` name, ``V`` version, ``A`` arch, ``F``
a directory, ``R`` a file in the last ``F`` directory (apk ``database.c``; syft
``parse_apk_db.go``)."""

from __future__ import annotations

from inspector.catalog.builder import (
    Builder,
    OSInfo,
    Package,
    Purl,
    names_note,
    os_qualifiers,
    type_of,
)
from inspector.catalog.registry import APK_DATABASES as DATABASES
from inspector.index.merge import MergedFS

#: the package type this cataloger reports (its row in ``registry.CATALOGERS``)
TYPE = type_of(__name__)


def parse_installed(text: str) -> tuple[list[tuple[dict[str, str], list[str]]], list[str]]:
    """→ ([(fields, absolute file paths)], problems)."""
    out: list[tuple[dict[str, str], list[str]]] = []
    problems: list[str] = []
    fields: dict[str, str] = {}
    files: list[str] = []
    directory = ""
    start = 1

    def close() -> None:
        nonlocal fields, files, directory
        if fields or files:
            if fields.get("P") and "V" in fields:
                out.append((fields, files))
            else:
                problems.append(f"line {start}: block without P: or V:")
        fields, files, directory = {}, [], ""

    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            close()
            start = lineno + 1
            continue
        if len(line) < 2 or line[1] != ":":
            problems.append(f"line {lineno}: not a K:value line: {line[:40]!r}")
            continue
        key, value = line[0], line[2:]
        if key == "F":
            directory = value.strip("/")
        elif key == "R":
            files.append("/" + (directory + "/" if directory else "") + value)
        elif key not in fields:
            fields[key] = value
    close()
    return out, problems


def catalog(fs: MergedFS, out: Builder) -> None:
    for db in DATABASES:
        if db not in fs.entries or out.missing_capture(db):
            continue
        data = fs.captured(db)
        if data is None:
            continue
        records, problems = parse_installed(data.decode("utf-8", "surrogateescape"))
        layer = out.layer(db)
        for fields, files in records:
            out.add(Package(type=TYPE, name=fields["P"], version=fields["V"],
                            arch=fields.get("A") or None, layer=layer, source_path=db,
                            upstream=fields.get("o") or None,
                            urls=[fields["U"]] if fields.get("U") else []), files)
        if problems:
            out.warn(f"{db}: malformed ({'; '.join(problems[:3])}); "
                     f"{names_note([f['P'] for f, _ in records])}")


def purl(p: Package, os: OSInfo) -> Purl:
    """``pkg:apk/alpine/NAME@VERSION?arch=…&distro=alpine-3.20.1&upstream=ORIGIN`` (no
    ``upstream`` when the origin is the package itself, as syft writes it)."""
    q = os_qualifiers(p, os)
    if p.upstream and p.upstream != p.name:  # syft: only an origin other than the name
        q["upstream"] = p.upstream
    return Purl("apk", os.id or "alpine", p.name, p.version, q)
