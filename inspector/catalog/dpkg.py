"""dpkg: ``/var/lib/dpkg/status`` (+ ``info/*.list``/``*.md5sums``) and the distroless
``/var/lib/dpkg/status.d/NAME`` (the package's raw control file, no ``Status:`` line) with
``status.d/NAME.md5sums`` (distroless ``PACKAGE_METADATA.md``; syft ``parse_dpkg_db.go``).

Licences come from ``/usr/share/doc/NAME/copyright`` (syft ``parse_copyright.go``): every
``License: X`` line (the first word; DEP-5 machine-readable files have one per paragraph)
and every ``/usr/share/common-licenses/X`` a free-form file refers to.

A package's layer is the layer of its own record: ``info/NAME.list`` (or ``status.d/NAME``),
falling back to the status file's layer — so a base layer's packages stay in the base
layer after a later ``apt-get install`` rewrites ``status``.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from itertools import repeat
from operator import itemgetter

from inspector.catalog.builder import (
    Builder,
    OSInfo,
    Package,
    Purl,
    names_note,
    os_qualifiers,
    type_of,
)
from inspector.catalog.registry import DPKG_COPYRIGHT, DPKG_DOC
from inspector.catalog.registry import DPKG_INFO as INFO
from inspector.catalog.registry import DPKG_STATUS as STATUS
from inspector.catalog.registry import DPKG_STATUS_D as STATUS_D
from inspector.index.merge import MergedFS

#: the package type this cataloger reports (its row in ``registry.CATALOGERS``)
TYPE = type_of(__name__)
#: syft ``licensePattern`` (``^License: (\S*)``, per line) and ``commonLicensePathPattern``
#: (``/usr/share/common-licenses/([0-9A-Za-z_.\-]+)``), found in the file's bytes with
#: ``bytes.find``: half the copyright files of a slim Debian are not ASCII, and decoding
#: them all to search them with a regex was most of the catalog's time. The markers are
#: ASCII, so the bytes and the text (UTF-8, ``surrogateescape``) hold them at the same
#: places; a ``License:`` value is matched in its line, decoded alone
_FIELD = b"\nLicense: "
#: a ``License:`` value: the start of its line (the lines joined by newlines)
_FIELD_VALUE = re.compile(r"^\S*", re.M)
_COMMON = b"/usr/share/common-licenses/"
_COMMON_NAME = re.compile(rb"[0-9A-Za-z_.\-]+")


def _fields(data: bytes) -> list[str]:
    """``re.findall(r"^License: (\\S*)", text, re.M)`` of the decoded ``data``: the lines
    after each marker (a field on the first line follows the newline put before it),
    joined, decoded once, and their first words (no Python step per field: a slim Debian
    has 1,658)."""
    pieces = (b"\n" + data).split(_FIELD)[1:]
    if not pieces:
        return []
    lines = b"\n".join(map(itemgetter(0), map(bytes.partition, pieces, repeat(b"\n"))))
    return _FIELD_VALUE.findall(lines.decode("utf-8", "surrogateescape"))


def _common_licenses(data: bytes) -> list[str]:
    """``re.findall(r"/usr/share/common-licenses/([0-9A-Za-z_.\\-]+)", text)``."""
    out = []
    at = data.find(_COMMON)
    while at >= 0:
        m = _COMMON_NAME.match(data, at + len(_COMMON))
        if m is None:
            at = data.find(_COMMON, at + 1)
            continue
        out.append(m.group().decode("ascii"))
        at = data.find(_COMMON, m.end())
    return out


def parse_copyright(data: bytes) -> list[str]:
    """The licences a ``copyright`` file names, sorted: ``License:`` fields' first word and
    ``/usr/share/common-licenses/NAME`` references, a trailing ``.`` dropped, ``none``
    ignored."""
    found = {m.rstrip(".") for m in (*_fields(data), *_common_licenses(data))}
    return sorted(v for v in found if v and v.lower() != "none")


def _licenses(out: Builder, name: str) -> list[str]:
    """From the package's ``copyright``; its doc directory may be a symlink to another
    package's (``libgcc-s1`` → ``gcc-12-base``), as dpkg installs it."""
    path = f"{DPKG_DOC}{name}/{DPKG_COPYRIGHT}"
    data = out.fs.captured(path)
    if data is None:
        real = out.resolver.parent_resolved(path)
        data = out.fs.captured(real) if real else None
    return parse_copyright(data) if data else []


def parse_control(text: str) -> tuple[list[dict[str, str]], list[str]]:
    """deb822 stanzas → (field dicts, problems). Continuation lines are dropped (we need
    no multi-line field); a field line without ``:`` or a stanza without Package/Version
    is a problem (``"line N: …"``) and that stanza is skipped."""
    stanzas: list[dict[str, str]] = []
    problems: list[str] = []
    current: dict[str, str] = {}
    start = 1
    bad = ""
    lines = text.split("\n")

    def close(lineno: int) -> None:
        nonlocal current, bad
        if current or bad:
            if bad:
                problems.append(bad)
            elif not current.get("Package") or "Version" not in current:
                what = current.get("Package") or "?"
                problems.append(f"line {start}: stanza {what!r} lacks Package or Version")
            else:
                stanzas.append(current)
        current, bad = {}, ""

    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            close(lineno)
            start = lineno + 1
            continue
        if line[0] in " \t":
            if not current and not bad:
                bad = f"line {lineno}: continuation line outside a field"
            continue
        key, sep, value = line.partition(":")
        if not sep or not key or " " in key:
            bad = bad or f"line {lineno}: not a field: {line[:40]!r}"
            continue
        current[key] = value.strip()
    close(len(lines))
    return stanzas, problems


def _installed(stanza: dict[str, str]) -> bool:
    # "want flag status": only the third word says whether it is on disk; a held
    # package ("hold ok installed") is installed too.
    status = stanza.get("Status")
    return status is None or status.split()[-1:] == ["installed"]


def _lines(data: bytes | None) -> list[str]:
    """The lines of a ``.list`` or ``.md5sums`` file as dpkg reads them (``db-fsys-files.c``,
    ``db-fsys-digest.c``: ``memchr`` for ``"\\n"``): a line per ``"\\n"``, every other byte part
    of the path; ``str.splitlines()`` would also break at ``"\\r"``, ``"\\x0b"``, ``"\\x1c"``,
    U+0085, U+2028 … and make two paths of one file's name. Empty lines are dropped."""
    if data is None:
        return []
    return [line for line in data.decode("utf-8", "surrogateescape").split("\n") if line]


def _md5sums_paths(data: bytes | None) -> list[str]:
    out = []
    for line in _lines(data):
        _, sep, path = line.partition("  ")
        if sep and path:
            out.append("/" + path.lstrip("/"))
    return out


def _children(fs: MergedFS, prefix: str) -> list[str]:
    paths = fs.sorted_paths()
    i = bisect_left(paths, prefix)
    out = []
    while i < len(paths) and paths[i].startswith(prefix):
        out.append(paths[i])
        i += 1
    return out


def _package(out: Builder, stanza: dict[str, str], source: str, layer: int | None) -> Package:
    return Package(type=TYPE, name=stanza["Package"], version=stanza["Version"],
                   arch=stanza.get("Architecture") or None, layer=layer, source_path=source,
                   upstream=stanza.get("Source") or None,
                   licenses=_licenses(out, stanza["Package"]))


def catalog(fs: MergedFS, out: Builder) -> None:
    if STATUS in fs.entries and not out.missing_capture(STATUS):
        _catalog_status(fs, out)
    _catalog_status_d(fs, out)


def _catalog_status(fs: MergedFS, out: Builder) -> None:
    data = fs.captured(STATUS)
    if data is None:
        return
    stanzas, problems = parse_control(data.decode("utf-8", "surrogateescape"))
    names = []
    for stanza in stanzas:
        if "Status" not in stanza:
            problems.append(f"stanza {stanza['Package']!r} has no Status")
            continue
        if not _installed(stanza):
            continue
        name, arch = stanza["Package"], stanza.get("Architecture", "")
        files: list[str] | None = None
        layer = out.layer(STATUS)
        for base in (f"{INFO}{name}:{arch}", f"{INFO}{name}"):
            if base + ".list" in fs.entries:
                out.missing_capture(base + ".list")
                files = _lines(fs.captured(base + ".list"))
                layer = out.layer(base + ".list")
                break
            if base + ".md5sums" in fs.entries:
                out.missing_capture(base + ".md5sums")
                files = _md5sums_paths(fs.captured(base + ".md5sums"))
                layer = out.layer(base + ".md5sums")
                break
        out.add(_package(out, stanza, STATUS, layer), files if files is not None else [])
        names.append(name)
    if problems:
        out.warn(f"{STATUS}: malformed ({'; '.join(problems[:3])}); {names_note(names)}")


def _catalog_status_d(fs: MergedFS, out: Builder) -> None:
    bad: list[str] = []
    names: list[str] = []
    for path in _children(fs, STATUS_D):
        name = path[len(STATUS_D):]
        if "/" in name or name.endswith(".md5sums") or fs.kind_name(path) != "file":
            continue
        if out.missing_capture(path):
            continue
        data = fs.captured(path)
        if data is None:  # empty file
            bad.append(f"{name}: empty")
            continue
        stanzas, problems = parse_control(data.decode("utf-8", "surrogateescape"))
        if problems or len(stanzas) != 1:
            bad.append(f"{name}: " + ("; ".join(problems[:2]) or f"{len(stanzas)} stanzas"))
        if not stanzas:
            continue
        stanza = stanzas[0]
        if not _installed(stanza):
            continue
        arch = stanza.get("Architecture", "")
        files: list[str] = []
        for sums in (f"{STATUS_D}{name}:{arch}.md5sums", f"{STATUS_D}{name}.md5sums",
                     f"{STATUS_D}{stanza['Package']}.md5sums"):
            if sums in fs.entries:
                out.missing_capture(sums)
                files = _md5sums_paths(fs.captured(sums))
                break
        out.add(_package(out, stanza, path, out.layer(path)), files)
        names.append(stanza["Package"])
    if bad:
        out.warn(f"{STATUS_D}: malformed entries ({'; '.join(bad[:3])}); {names_note(names)}")


def purl(p: Package, os: OSInfo) -> Purl:
    """``pkg:deb/debian/NAME@VERSION?arch=ARCH&distro=debian-12&upstream=SOURCE[@SRCVERSION]``."""
    q = os_qualifiers(p, os)
    if p.upstream:  # "glibc (2.36-9)" → glibc@2.36-9 (syft: source@source-version)
        src, _, rest = p.upstream.partition(" ")
        q["upstream"] = f"{src}@{rest.strip('() ')}" if rest.strip("() ") else src
    return Purl("deb", os.id or "debian", p.name, p.version, q)
