"""busybox, found from the binary itself: no package database records the multi-call
binary distroless ``:debug`` images ship at ``/busybox/busybox``. Like syft's binary
classifier (``binary/classifiers.go``, ``busybox-binary``: ``**/busybox``, the version
string ``BusyBox v1.35.0``), a captured file named ``busybox`` whose bytes hold that
string becomes a package of type ``binary``, owning the binary and every symlink or
hardlink that leads to it (its applets: ``/busybox/sh`` …). A binary some package
database already owns (Debian's ``busybox``/``busybox-static``) is left to that package.
"""

from __future__ import annotations

import re

from inspector.catalog.builder import Builder, OSInfo, Package, Purl, type_of
from inspector.index.entries import HARDLINK, SYMLINK
from inspector.index.merge import IMPLIED_ROW, MergedFS

#: the package type this cataloger reports (its row in ``registry.CATALOGERS``)
TYPE = type_of(__name__)

#: a static busybox is 1-2.5 MB; the version string sits in its read-only data
VERSION = re.compile(rb"BusyBox\s+v(\d+\.\d+\.\d+)")


def applet_links(fs: MergedFS, out: Builder, binary: str) -> list[str]:
    """Symlinks that resolve to ``binary`` and hardlinks to it, sorted."""
    links = []
    for path, li, row in fs.located():
        if row == IMPLIED_ROW:
            continue
        kind = fs.layers[li].kinds[row]
        if kind == SYMLINK and out.resolver.resolve(path) == binary:
            links.append(path)
        elif kind == HARDLINK and fs.target(path) == binary:
            links.append(path)
    return sorted(links)


def catalog(fs: MergedFS, out: Builder) -> None:
    for path in fs.captured_paths():
        if not path.endswith("/busybox") or path in out.catalog.owners:
            continue
        match = VERSION.search(fs.captured(path) or b"")
        if match is None:
            continue
        out.add(Package(type=TYPE, name="busybox", version=match.group(1).decode(),
                        layer=out.layer(path), source_path=path),
                [path, *applet_links(fs, out, path)])


def purl(p: Package, os: OSInfo) -> Purl:
    """``pkg:generic/busybox@VERSION``: a binary found from its bytes."""
    return Purl("generic", None, p.name, p.version or None, {})
