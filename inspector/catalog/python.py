"""Python distributions: ``*.dist-info/METADATA`` with ``RECORD`` (PEP 376/627), and
``*.egg-info`` (a directory with ``PKG-INFO`` and ``installed-files.txt``, or a single
PKG-INFO file). Paths in RECORD are relative to the directory holding the dist-info.

Licences (syft ``parse_wheel_egg_metadata.go``): ``License-Expression`` (PEP 639) if
present, else a one-line ``License`` field, else the ``License ::`` classifiers' last part."""

from __future__ import annotations

import csv
import io
import posixpath
import re

from inspector.catalog.builder import Builder, OSInfo, Package, Purl, type_of
from inspector.index.merge import MergedFS

#: the package type this cataloger reports (its row in ``registry.CATALOGERS``)
TYPE = type_of(__name__)
#: where a METADATA/PKG-INFO line ends for ``email`` (what ``importlib.metadata`` and pip
#: parse it with: ``feedparser`` reads lines through ``StringIO(newline="")``): "\r\n", "\r"
#: or "\n" — not "\x0b", "\x1c", U+0085, U+2028 … as ``str.splitlines()`` would
_EMAIL_LINE = re.compile("\r\n?|\n")


def _header_lines(data: bytes) -> list[str]:
    return _EMAIL_LINE.split(data.decode("utf-8", "surrogateescape"))


def parse_metadata(data: bytes) -> dict[str, str]:
    """The RFC 822 header block of METADATA/PKG-INFO (first value of each field)."""
    fields: dict[str, str] = {}
    for line in _header_lines(data):
        if not line.strip():
            break
        if line[0] in " \t":
            continue
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    return fields


def licenses(data: bytes, fields: dict[str, str]) -> list[str]:
    """The licences METADATA ``fields`` (``parse_metadata``) and its classifiers declare."""
    expression = fields.get("License-Expression", "").strip()
    if expression:
        return [expression]
    declared = fields.get("License", "").strip()
    if declared and declared.upper() != "UNKNOWN" and "\n" not in declared:
        return [declared]
    found: list[str] = []
    for line in _header_lines(data):
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if sep and key == "Classifier" and value.strip().startswith("License ::"):
            last = value.rsplit("::", 1)[1].strip()
            if last and last not in found:
                found.append(last)
    return sorted(found)


def record_paths(data: bytes, base: str) -> list[str]:
    """RECORD rows (``path,hash,size``) → absolute normalised paths. RECORD is CSV (PEP 376;
    pip writes it with ``csv.writer``, quoting a path with "\\r" or "\\n"), read as the csv
    module reads a file opened with ``newline=""``: rows end at an unquoted "\\r\\n", "\\r"
    or "\\n" only. (``importlib.metadata.files()`` splits it with ``str.splitlines()``
    first, so a name with U+2028 … comes out as two paths there; the file is one.)"""
    text = data.decode("utf-8", "surrogateescape")
    out = []
    for row in csv.reader(io.StringIO(text, newline="")):
        if row and row[0]:
            out.append(posixpath.normpath(posixpath.join(base, row[0])))
    return out


def catalog(fs: MergedFS, out: Builder) -> None:
    for path in fs.captured_paths():
        if path.endswith(".dist-info/METADATA"):
            info = path[: -len("/METADATA")]
            files_data = fs.captured(info + "/RECORD")
            base = posixpath.dirname(info)
            try:
                files = record_paths(files_data, base) if files_data is not None else None
            except csv.Error as exc:  # a field past csv's limit: this RECORD, not the rest
                out.warn(f"{info}/RECORD: not CSV ({exc}); the files of {info} are not listed")
                files = None
            if files_data is None and info + "/RECORD" in fs.entries:
                out.missing_capture(info + "/RECORD")
        elif path.endswith(".egg-info/PKG-INFO") or path.endswith(".egg-info"):
            if path.endswith(".egg-info") and fs.kind_name(path) == "dir":
                continue
            info = path[: -len("/PKG-INFO")] if path.endswith("/PKG-INFO") else path
            listing = fs.captured(info + "/installed-files.txt")
            files = None
            if listing is not None:
                # one path per "\n", as pip and setuptools write it ("\n".join)
                files = [posixpath.normpath(posixpath.join(info, line))
                         for line in listing.decode("utf-8", "surrogateescape").split("\n")
                         if line.strip()]
        else:
            continue
        data = fs.captured(path) or b""
        fields = parse_metadata(data)
        if not fields.get("Name") or "Version" not in fields:
            out.warn(f"{path}: no Name/Version in the metadata; distribution skipped")
            continue
        out.add(Package(type=TYPE, name=fields["Name"], version=fields["Version"],
                        layer=out.layer(path), source_path=path,
                        licenses=licenses(data, fields)), files)


def purl(p: Package, os: OSInfo) -> Purl:
    """``pkg:pypi/NAME@VERSION``, the name PEP 503 normalised."""
    return Purl("pypi", None, re.sub(r"[-_.]+", "-", p.name).lower(), p.version, {})
