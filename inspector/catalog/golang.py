"""Go modules from the build info embedded in Go binaries (Go 1.18+ inline format;
``debug/buildinfo`` ``read``): after the 14-byte ``\\xff Go buildinf:`` magic come the
pointer size and flags; the header is 32 bytes; with ``flags & 2`` a uvarint-length-prefixed
Go version string and then the modinfo string follow. The modinfo text sits between two
16-byte sentinels; its tab-separated lines are ``path``, ``mod``, ``dep`` and ``=>`` (a
replacement of the line before). Older (pointer) formats are reported, not guessed.

Packages: the main module (owns the binary), each dependency, and ``stdlib`` with the Go
version (as syft reports it). A main module built outside module mode is ``(devel)``; like
syft (``parse_go_binary.go`` ``extractVersionFromLDFlags``) its version is then taken from a
``-X …version=1.2.3`` in the ``-ldflags`` build setting, ``v``-prefixed."""

from __future__ import annotations

import re

from inspector.catalog.builder import Builder, OSInfo, Package, Purl, type_of
from inspector.index.merge import MergedFS

#: the package type this cataloger reports (its row in ``registry.CATALOGERS``)
TYPE = type_of(__name__)

MAGIC = b"\xff Go buildinf:"
HEADER = 32
FLAG_INLINE = 2
DEVEL = "(devel)"
#: syft's ``knownBuildFlagPatterns``: ``-X pkg.[git][build]Version=`` and ``-X pkg.Tag=``
LDFLAGS_VERSION = (
    re.compile(r"\.(?:[gG]it)?(?:[bB]uild)?[vV]ersion=(?:\S+/)*(v?\d+.\d+.\d+[-\w]*[+\w]*)"),
    re.compile(r"\.[tT]ag=(?:\S+/)*(v?\d+.\d+.\d+[-\w]*[+\w]*)"),
)


class BuildInfoError(ValueError):
    pass


class BuildInfo:
    """A Go binary's build info (a plain class: a dataclass costs ~0.8 ms to create when
    the catalogers load)."""

    __slots__ = ("go_version", "path", "main", "deps", "settings")

    def __init__(self, go_version: str) -> None:
        self.go_version = go_version
        self.path = ""
        self.main: tuple[str, str] | None = None  # (module path, version)
        self.deps: list[tuple[str, str]] = []
        #: ``build`` lines: ``-ldflags``, ``GOOS``, ``vcs.revision`` … → value
        self.settings: dict[str, str] = {}

    def __repr__(self) -> str:
        return (f"BuildInfo(go_version={self.go_version!r}, path={self.path!r}, "
                f"main={self.main!r}, deps={self.deps!r}, settings={self.settings!r})")


def ldflags_version(ldflags: str) -> str | None:
    """The version a ``-X`` in ``ldflags`` sets (``v``-prefixed), or ``None``."""
    for pattern in LDFLAGS_VERSION:
        match = pattern.search(ldflags)
        if match:
            version = match.group(1)
            return version if version.startswith("v") else "v" + version
    return None


def _uvarint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise BuildInfoError("truncated length")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _string(data: bytes, pos: int) -> tuple[str, int]:
    n, pos = _uvarint(data, pos)
    if pos + n > len(data):
        raise BuildInfoError("truncated string")
    return data[pos:pos + n].decode("utf-8", "replace"), pos + n


def parse_buildinfo(data: bytes) -> BuildInfo:
    if not data.startswith(MAGIC) or len(data) < HEADER:
        raise BuildInfoError("no build info header")
    flags = data[15]
    if not flags & FLAG_INLINE:
        raise BuildInfoError("pre-Go 1.18 pointer format (not read)")
    version, pos = _string(data, HEADER)
    modinfo, _ = _string(data, pos)
    if len(modinfo) >= 33 and modinfo[-17] == "\n":
        modinfo = modinfo[16:-16]
    info = BuildInfo(go_version=version)
    last: str | None = None  # "main" or "dep"
    for line in modinfo.split("\n"):
        parts = line.split("\t")
        kind = parts[0]
        if kind == "path" and len(parts) >= 2:
            info.path = parts[1]
        elif kind == "build" and len(parts) >= 2:
            key, _, value = parts[1].partition("=")
            info.settings[key] = value
        elif kind in ("mod", "dep") and len(parts) >= 3:
            entry = (parts[1], parts[2])
            if kind == "mod":
                info.main, last = entry, "main"
            else:
                info.deps.append(entry)
                last = "dep"
        elif kind == "=>" and len(parts) >= 3 and last:
            entry = (parts[1], parts[2])
            if last == "main":
                info.main = entry
            else:
                info.deps[-1] = entry
    return info


#: the Go toolchain's licence (syft ``stdlib_package.go`` declares the same)
STDLIB_LICENSE = "BSD-3-Clause"


def catalog(fs: MergedFS, out: Builder) -> None:
    for path, data in sorted(fs.go_buildinfo().items()):
        try:
            info = parse_buildinfo(data)
        except BuildInfoError as exc:
            out.warn(f"{path}: Go build info not read: {exc}")
            continue
        layer = out.layer(path)
        main_name, main_version = info.main or (info.path or path, DEVEL)
        if main_version == DEVEL:
            main_version = ldflags_version(info.settings.get("-ldflags", "")) or DEVEL
        out.add(Package(type=TYPE, name=main_name, version=main_version, layer=layer,
                        source_path=path), [path])
        for name, version in info.deps:
            out.add(Package(type=TYPE, name=name, version=version, layer=layer,
                            source_path=path), None)
        out.add(Package(type=TYPE, name="stdlib", version=info.go_version, layer=layer,
                        source_path=path, licenses=[STDLIB_LICENSE]), None)


def purl(p: Package, os: OSInfo) -> Purl:
    """``pkg:golang/MODULE@VERSION``; the toolchain is ``pkg:golang/stdlib@1.22.5`` (no
    ``go`` prefix, as syft writes it)."""
    if p.name == "stdlib":
        return Purl("golang", None, "stdlib", p.version.removeprefix("go"), {})
    namespace, _, name = p.name.rpartition("/")
    return Purl("golang", namespace or None, name, p.version, {})
