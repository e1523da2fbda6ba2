"""What catalogers produce and write into: ``Package``, ``Catalog``, ``Builder``;
``catalog_image(fs)``, which runs every cataloger of ``registry.CATALOGERS`` over a merged
filesystem; and ``purl(p, os)``, a package's URL fields from the cataloger that reports its
type (each cataloger module's own ``purl``, as syft keeps ``packageURL`` per cataloger). A database that cannot be read whole gives a warning naming the file and what
could still be read, never an exception.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Literal, NamedTuple, get_args

from inspector.catalog import registry
from inspector.catalog.fspath import Resolver
from inspector.catalog.registry import CATALOGERS, module_of
from inspector.index.entries import DIR, FILE
from inspector.index.merge import IMPLIED_ROW, MergedFS

#: ``Package.type``: the types the rows of ``registry.CATALOGERS`` report, as a type
#: (``tests/catalog/test_purl.py`` checks they are the same set)
PackageType = Literal["deb", "apk", "rpm", "python", "npm", "go", "binary"]
_TYPES: dict[str, PackageType] = {t: t for t in get_args(PackageType)}


def type_of(module: str) -> PackageType:
    """The package type cataloger ``module`` reports (its registry row); a row whose type
    is not in ``PackageType`` fails here, when its module is imported."""
    return _TYPES[registry.type_of(module)]


#: how many package names a warning lists before "…"
WARN_NAMES = 20


@dataclass
class Package:
    type: PackageType  # which cataloger found it (registry.CATALOGERS)
    name: str
    version: str
    arch: str | None = None
    size: int | None = None  # bytes of its files present in the final filesystem
    files: int | None = None  # how many of its files are present
    layer: int | None = None  # index of the layer that installed it (its record's layer)
    source_path: str = ""  # the database/file it was read from
    #: the source package (deb ``Source:``, e.g. ``glibc (2.36-9)``; apk ``o:``), for purls
    upstream: str | None = None
    #: licences as the package declares them (deb ``copyright``, Python METADATA, npm
    #: ``license``), each an SPDX id/expression or a free-form name, sorted, no duplicates
    licenses: list[str] = field(default_factory=list)
    #: the project's URLs it declares (apk ``U:``, npm ``homepage``/``repository``): syft
    #: takes CPE vendors from them (``catalog/cpe.py``)
    urls: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"type": self.type, "name": self.name, "version": self.version,
                "arch": self.arch, "size": self.size, "files": self.files,
                "layer": self.layer, "source_path": self.source_path,
                "upstream": self.upstream, "licenses": list(self.licenses),
                "urls": list(self.urls)}


@dataclass
class Catalog:
    packages: list[Package] = field(default_factory=list)
    #: path → index into ``packages`` of its owner
    owners: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def owner_name(self, path: str) -> str | None:
        i = self.owners.get(path)
        return None if i is None else self.packages[i].name


def names_note(names: list[str]) -> str:
    """``"3 package(s) still read: a, b, c"`` for warnings (at most ``WARN_NAMES`` names)."""
    shown = ", ".join(names[:WARN_NAMES]) + (", …" if len(names) > WARN_NAMES else "")
    return f"{len(names)} package(s) still read" + (f": {shown}" if names else "")


class Builder:
    """What catalogers write into: packages with their file lists, and warnings.

    ``add(pkg, files)`` takes the paths as the database names them; each is looked up in the
    merged filesystem (directory symlinks resolved, so ``/bin/bash`` finds ``/usr/bin/bash``)
    and ``pkg.size``/``pkg.files`` count the non-directory entries present (regular files'
    bytes; links count 0). A path already owned keeps its first owner."""

    def __init__(self, fs: MergedFS) -> None:
        self.fs = fs
        self.catalog = Catalog()
        self.resolver = Resolver(fs)

    def warn(self, message: str) -> None:
        self.catalog.warnings.append(message)

    def layer(self, path: str) -> int | None:
        at = self.fs.find(path)
        return None if at is None else at[0]

    def add(self, pkg: Package, files: Iterable[str] | None) -> int:
        cat = self.catalog
        index = len(cat.packages)
        cat.packages.append(pkg)
        if files is None:
            return index
        find, layers, owners = self.fs.find, self.fs.layers, cat.owners
        seen: set[str] = set()
        size = count = 0
        for path in files:
            at = find(path)
            if at is None:
                real = self.resolver.parent_resolved(path)
                if real is None:
                    continue
                at = find(real)
                if at is None:
                    continue
                path = real
            li, row = at
            if row == IMPLIED_ROW or path in seen:
                continue
            layer = layers[li]
            kind = layer.kinds[row]
            if kind == DIR:
                continue
            seen.add(path)
            count += 1
            if kind == FILE:
                size += layer.sizes[row]
            owners.setdefault(path, index)
        pkg.size, pkg.files = size, count
        return index

    def missing_capture(self, path: str) -> bool:
        """True (and a warning) if ``path`` is a non-empty file whose content was not
        captured (over its cap): the consumer then reports it instead of guessing."""
        fs = self.fs
        if path not in fs.entries or fs.captured(path) is not None:
            return False
        if fs.kind(path) not in (FILE,) or fs.size(path) == 0:
            return False
        self.warn(f"{path}: package database present ({fs.size(path)} bytes) but not "
                  f"captured while indexing (over the capture cap); its packages are not listed")
        return True


def catalog_image(fs: MergedFS) -> Catalog:
    """Every cataloger over ``fs``; packages in ``CATALOGERS`` order, each database's
    packages in the order it lists them."""
    out = Builder(fs)
    for cataloger in CATALOGERS:
        try:
            import_module(f"inspector.catalog.{cataloger.module}").catalog(fs, out)
        except Exception as exc:  # noqa: BLE001 - a cataloger bug must not lose the image
            out.warn(f"{cataloger.module} cataloger failed: {type(exc).__name__}: {exc}")
    return out.catalog


class OSInfo(NamedTuple):
    """The image's OS as ``/etc/os-release`` names it (``sbom.image_os``); a NamedTuple,
    not a dataclass: every run imports this module, the SBOMs alone use it."""

    id: str = ""
    version_id: str = ""
    pretty_name: str = ""

    @property
    def distro(self) -> str | None:
        """purl's ``distro`` qualifier: ``debian-12`` (``ID-VERSION_ID``)."""
        if not self.id:
            return None
        return f"{self.id}-{self.version_id}" if self.version_id else self.id


class Purl(NamedTuple):
    """A package URL's fields (``packageurl.PackageURL``'s arguments, which validate them)."""

    type: str
    namespace: str | None
    name: str
    version: str | None
    qualifiers: dict[str, str]


def os_qualifiers(p: Package, os: OSInfo) -> dict[str, str]:
    """``arch`` and ``distro``: the qualifiers an OS package's purl starts from."""
    q: dict[str, str] = {}
    if p.arch:
        q["arch"] = p.arch
    if os.distro:
        q["distro"] = os.distro
    return q


def purl(p: Package, os: OSInfo) -> Purl:
    """The package URL fields of ``p`` in an image whose OS is ``os``, from the cataloger
    that reports ``p.type``; ``pkg:generic`` for a type no cataloger reports."""
    module = module_of(p.type)
    if module is None:
        return Purl("generic", None, p.name, p.version or None, {})
    found: Purl = import_module(module).purl(p, os)
    return found
