"""Which small files the indexer keeps the content of, while it walks a layer once.

Later steps (package catalogers, findings, the OS name) need a few files' bytes; reading
them during the one streaming pass means no layer is ever read twice. Each rule has a size
cap: a larger file is not captured (and the consumer reports that, never guesses).
"""

from __future__ import annotations

KIB = 1024
MIB = 1024 * KIB

#: exact paths → cap in bytes
EXACT = {
    "/var/lib/dpkg/status": 32 * MIB,
    "/lib/apk/db/installed": 32 * MIB,
    "/var/lib/rpm/rpmdb.sqlite": 128 * MIB,
    "/usr/lib/sysimage/rpm/rpmdb.sqlite": 128 * MIB,
    "/var/lib/rpm/Packages": 4 * KIB,  # Berkeley DB: only the header, to name the format
    "/var/lib/rpm/Packages.db": 4 * KIB,  # ndb
    "/usr/lib/sysimage/rpm/Packages.db": 4 * KIB,
    "/usr/lib/sysimage/rpm/Packages": 4 * KIB,
    "/etc/passwd": 1 * MIB,
    "/etc/group": 1 * MIB,
    "/etc/shells": 64 * KIB,
    "/etc/os-release": 64 * KIB,
    "/usr/lib/os-release": 64 * KIB,
    "/etc/debian_version": 4 * KIB,
    "/etc/alpine-release": 4 * KIB,
    "/etc/redhat-release": 4 * KIB,
}
#: directory prefixes → cap per file
PREFIXES = (
    ("/var/lib/dpkg/status.d/", 4 * MIB),
    ("/var/lib/dpkg/info/", 4 * MIB),
)
#: path suffixes → cap per file
SUFFIXES = (
    (".dist-info/METADATA", 1 * MIB),
    (".dist-info/RECORD", 8 * MIB),
    (".dist-info/INSTALLER", 4 * KIB),
    (".egg-info/PKG-INFO", 1 * MIB),
    (".egg-info/installed-files.txt", 8 * MIB),
    (".egg-info/SOURCES.txt", 8 * MIB),
    (".egg-info", 1 * MIB),  # a single-file egg-info is PKG-INFO itself
)
#: ``node_modules/**/package.json`` (and the top-level app's package.json)
NPM_CAP = 1 * MIB

#: executables whose first bytes are kept (ELF/shebang detection)
HEAD_BYTES = 64
GO_BUILDINFO_MAGIC = b"\xff Go buildinf:"
#: bytes kept from the Go build-info magic on (inline format: header + version + modinfo)
GO_BUILDINFO_BYTES = 64 * KIB


def capture_limit(path: str) -> int:
    """Cap in bytes if ``path``'s content should be captured, else 0."""
    cap = EXACT.get(path)
    if cap:
        return cap
    if path.startswith("/var/lib/dpkg/"):
        for prefix, cap in PREFIXES:
            if path.startswith(prefix):
                if prefix.endswith("info/") and not path.endswith((".list", ".md5sums")):
                    return 0
                return cap
        return 0
    if path.endswith("/package.json"):
        return NPM_CAP if "/node_modules/" in path or path.count("/") <= 3 else 0
    if ".dist-info/" in path or ".egg-info" in path:
        for suffix, cap in SUFFIXES:
            if path.endswith(suffix):
                return cap
    return 0
