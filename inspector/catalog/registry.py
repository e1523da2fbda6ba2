"""The catalogers, in the order they run, and what each reads.

One row per cataloger: its module (``inspector.catalog.<module>``, whose
``catalog(fs, out)`` lists the packages and ``purl(p, os)`` names one), the package type it
reports (the one spelling: the module takes it as ``TYPE = builder.type_of(__name__)``, and
``builder.PackageType`` is the ``Literal`` of these), and ``reads``: the files whose content
the indexer must capture for it (``catalog/reads.py``). The paths a cataloger parses are
named here once and imported by its module.

This module imports nothing that imports ``inspector.index``: the walker's capture table
(``index/capture.py``) is built from these rows while the catalogers themselves (which
read a ``MergedFS``) sit above the index. ``tests/catalog/test_reads.py`` walks a real tar
of every example path and checks that every cataloger module has a row.
"""

from __future__ import annotations

from inspector.catalog.reads import KIB, MIB, Read, child, exact, prefix, suffix


class Cataloger:
    """One row (a plain class: a named tuple costs every process ~0.5 ms to create)."""

    __slots__ = ("module", "type", "reads")

    def __init__(self, module: str, type: str, reads: tuple[Read, ...]) -> None:
        self.module = module  # inspector.catalog.<module>
        self.type = type  # Package.type of what it lists
        self.reads = reads


#: dpkg: the status file, the distroless per-package status files, the file lists
DPKG_STATUS = "/var/lib/dpkg/status"
DPKG_INFO = "/var/lib/dpkg/info/"
DPKG_STATUS_D = "/var/lib/dpkg/status.d/"
#: dpkg licences: ``/usr/share/doc/NAME/copyright`` (only that name, one level down; a
#: larger file than the cap, which no Debian package in the samples has, gives no licence)
DPKG_DOC = "/usr/share/doc/"
DPKG_COPYRIGHT = "copyright"
#: apk 2 and apk 3 databases
APK_DATABASES = ("/lib/apk/db/installed", "/usr/lib/apk/db/installed")
#: rpm: the sqlite rpmdb; Berkeley DB and ndb (only their header is read, to name the format)
RPM_SQLITE = ("/var/lib/rpm/rpmdb.sqlite", "/usr/lib/sysimage/rpm/rpmdb.sqlite")
RPM_OTHER = ("/var/lib/rpm/Packages", "/var/lib/rpm/Packages.db",
             "/usr/lib/sysimage/rpm/Packages", "/usr/lib/sysimage/rpm/Packages.db")
_SITE = "/usr/lib/python3/dist-packages/demo-1.0"

#: the one registry, in the order the catalogers run: OS databases first, so a binary a
#: database owns is not listed again from its bytes
CATALOGERS = (
    Cataloger("dpkg", "deb", (
        exact(DPKG_STATUS, 32 * MIB),
        prefix(DPKG_STATUS_D, 4 * MIB, DPKG_STATUS_D + "base-files"),
        prefix(DPKG_INFO, 4 * MIB, DPKG_INFO + "bash.list", only=(".list", ".md5sums")),
        child(DPKG_DOC, DPKG_COPYRIGHT, 256 * KIB, DPKG_DOC + "bash/copyright"),
    )),
    Cataloger("apk", "apk", tuple(exact(db, 32 * MIB) for db in APK_DATABASES)),
    Cataloger("rpm", "rpm", (*(exact(db, 128 * MIB) for db in RPM_SQLITE),
                             *(exact(db, 4 * KIB) for db in RPM_OTHER))),
    Cataloger("python", "python", (
        suffix(".dist-info/METADATA", 1 * MIB, _SITE + ".dist-info/METADATA"),
        suffix(".dist-info/RECORD", 8 * MIB, _SITE + ".dist-info/RECORD"),
        suffix(".dist-info/INSTALLER", 4 * KIB, _SITE + ".dist-info/INSTALLER"),
        suffix(".egg-info/PKG-INFO", 1 * MIB, _SITE + ".egg-info/PKG-INFO"),
        suffix(".egg-info/installed-files.txt", 8 * MIB, _SITE + ".egg-info/installed-files.txt"),
        suffix(".egg-info/SOURCES.txt", 8 * MIB, _SITE + ".egg-info/SOURCES.txt"),
        # a single-file egg-info is PKG-INFO itself
        suffix(".egg-info", 1 * MIB, "/usr/lib/python3/dist-packages/single-2.0.egg-info"),
    )),
    # ``node_modules/**/package.json`` (and the top-level app's package.json)
    Cataloger("npm", "npm", (Read("npm", "package.json", 1 * MIB, "/app/node_modules/@scope/name/package.json"),)),
    # the build info is not a captured file: the walker scans every large ELF for it
    # (``capture.GO_BUILDINFO_MAGIC``)
    Cataloger("golang", "go", ()),
    Cataloger("busybox", "binary", (suffix("/busybox", 4 * MIB, "/busybox/busybox"),)),
)


def type_of(module: str) -> str:
    """The package type cataloger ``module`` reports (``inspector.catalog.dpkg`` or ``dpkg``)."""
    name = module.rpartition(".")[2]
    return next(c.type for c in CATALOGERS if c.module == name)


def module_of(package_type: str) -> str | None:
    """The cataloger module (``inspector.catalog.<module>``) that reports ``package_type``."""
    return next((f"inspector.catalog.{c.module}" for c in CATALOGERS if c.type == package_type),
                None)
