"""The dynamic loader's search, done on the index (glibc ``_dl_map_object``; musl ``ldso``).

For each ``DT_NEEDED`` name of an object, in order: a name with a ``/`` is a path; else
``DT_RPATH`` of the object and of the objects that loaded it (only while the object has no
``DT_RUNPATH``), ``LD_LIBRARY_PATH`` from the image's Env, the object's own ``DT_RUNPATH``,
the ``ld.so.cache`` (only when ``/etc/ld.so.cache`` exists: its content is taken to be
what ``ldconfig`` builds from ``/etc/ld.so.conf`` and its includes), then the default
directories (not with ``DF_1_NODEFLIB``). ``$ORIGIN`` is the directory of the object as
found (the main program's: its real path, as ``/proc/self/exe`` gives it); ``$LIB`` is the
multiarch ``lib/<triplet>``. A name already loaded (as a requested name or a ``DT_SONAME``)
is not searched again. Not modelled: glibc-hwcaps subdirectories (CPU-dependent),
``LD_PRELOAD``, ``/etc/ld.so.preload``.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from inspector.catalog.fspath import Resolver
from inspector.index.entries import DIR
from inspector.index.merge import MergedFS

#: the multiarch triplet Debian's glibc uses per ELF machine
TRIPLETS = {"x86_64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu", "i386": "i386-linux-gnu",
            "arm": "arm-linux-gnueabihf", "ppc64": "powerpc64le-linux-gnu", "s390x": "s390x-linux-gnu",
            "riscv64": "riscv64-linux-gnu", "mips": "mips-linux-gnu"}
#: musl's default search path (``ldso/dynlink.c``: ``sys_path``)
MUSL_DEFAULT = ["/lib", "/usr/local/lib", "/usr/lib"]
#: ``include`` depth in ld.so.conf before giving up (a file including itself)
MAX_INCLUDE_DEPTH = 8
#: what C's ``isspace`` is in the C locale (ldconfig strips these, not Python's whitespace)
C_SPACE = " \t\n\v\f\r"

Exists = Callable[[str], str | None]  # path → its real path if it is a file there, else None


@dataclass
class SearchPath:
    """Where the loader of one filesystem looks, besides an object's own RPATH/RUNPATH."""

    library_path: list[str] = field(default_factory=list)  # LD_LIBRARY_PATH
    cache_dirs: list[str] = field(default_factory=list)  # ld.so.cache (from ld.so.conf)
    default_dirs: list[str] = field(default_factory=list)
    lib: str = "lib"  # what $LIB expands to
    has_cache: bool = False
    musl: bool = False


def file_exists(fs: MergedFS, resolver: Resolver) -> Exists:
    def exists(path: str) -> str | None:
        real = resolver.resolve(path)
        if real is None or real not in fs.entries or fs.kind(real) == DIR:
            return None
        return real
    return exists


def search_path(fs: MergedFS, resolver: Resolver, machine: str, bits: int, interpreter: str | None,
                env: dict[str, str], read_text: Callable[[str], str | None]) -> SearchPath:
    """The loader's directories for ``fs`` (``read_text`` reads config files there)."""
    sp = SearchPath(library_path=[d for d in env.get("LD_LIBRARY_PATH", "").split(":") if d])
    triplet = TRIPLETS.get(machine)
    if interpreter and "ld-musl" in interpreter:
        sp.musl = True
        arch = posixpath.basename(interpreter).removeprefix("ld-musl-").removesuffix(".so.1")
        text = read_text(f"/etc/ld-musl-{arch}.path")
        # musl reads the file up to its first NUL and splits it at ":" and "\n" only
        # (dynlink.c: getdelim(…, 0, …), path_open's strspn(s, ":\n"))
        sp.default_dirs = ([d for d in re.split("[:\n]", text.partition("\0")[0]) if d]
                           if text is not None else list(MUSL_DEFAULT))
        return sp
    if triplet and resolver.directory(f"/usr/lib/{triplet}") is not None:
        # Debian's glibc (slibdir=/lib/<triplet>): the "system search path" of ld.so --help
        sp.default_dirs = [f"/lib/{triplet}", f"/usr/lib/{triplet}", "/lib", "/usr/lib"]
        sp.lib = f"lib/{triplet}"
    elif bits == 64:  # upstream glibc's defaults (Fedora, RHEL, SUSE)
        sp.default_dirs, sp.lib = ["/lib64", "/usr/lib64"], "lib64"
    else:
        sp.default_dirs = ["/lib", "/usr/lib"]
    sp.has_cache = resolver.resolve("/etc/ld.so.cache") is not None
    if sp.has_cache:
        dirs: list[str] = []
        _read_conf("/etc/ld.so.conf", fs, resolver, read_text, dirs, 0)
        sp.cache_dirs = list(dict.fromkeys(dirs + sp.default_dirs))
    return sp


def _read_conf(path: str, fs: MergedFS, resolver: Resolver, read_text, dirs: list[str],
               depth: int) -> None:
    """The directories of the ld.so.conf at ``path`` (and its includes) added to ``dirs``,
    read as glibc's ldconfig does (``parse_conf``, ``add_dir_1``): a line per "\\n"
    (``getline``; ``str.splitlines()`` would also break at "\\x0b", "\\x1c", U+0085,
    U+2028 …), ``#`` to the end of it a comment, C whitespace stripped before it,
    ``include`` patterns split at blanks, and anything else one directory (C whitespace
    stripped after it too)."""
    real = resolver.resolve(path)
    text = read_text(real) if real else None
    if text is None or depth > MAX_INCLUDE_DEPTH:
        return
    for line in text.split("\n"):
        line = line.split("#", 1)[0].lstrip(C_SPACE)
        if not line:
            continue
        if line.startswith(("include ", "include\t")):
            for pattern in re.split("[ \t]", line[8:]):
                if not pattern:
                    continue
                if not pattern.startswith("/"):
                    pattern = posixpath.join(posixpath.dirname(path), pattern)
                for match in _glob(pattern, fs, resolver):
                    _read_conf(match, fs, resolver, read_text, dirs, depth + 1)
        elif line[:5].lower() == "hwcap" and line[5:6] in (" ", "\t"):
            continue
        else:
            # the whole line is one directory, an "=TYPE" suffix and trailing "/" dropped
            directory = line.split("=", 1)[0].rstrip(C_SPACE)
            directory = directory.rstrip("/")  # "/" alone is dropped (ldconfig: empty)
            if directory.startswith("/"):
                dirs.append(directory)


def _glob(pattern: str, fs: MergedFS, resolver: Resolver) -> list[str]:
    directory, name = posixpath.split(pattern)
    real = resolver.directory(directory)
    if real is None:
        return []
    prefix = real.rstrip("/") + "/"
    return sorted(directory.rstrip("/") + "/" + p[len(prefix):] for p in fs.entries
                  if p.startswith(prefix) and "/" not in p[len(prefix):]
                  and fnmatch.fnmatchcase(p[len(prefix):], name))


def expand(directory: str, origin: str, lib: str) -> str | None:
    """``$ORIGIN``/``$LIB`` substituted; ``None`` for tokens not modelled (``$PLATFORM``)."""
    for token, value in (("ORIGIN", origin), ("LIB", lib)):
        directory = directory.replace("${" + token + "}", value).replace("$" + token, value)
    if "$" in directory:
        return None
    return posixpath.normpath(directory) if directory.startswith("/") else None


@dataclass
class Requester:
    """An object asking for a library: what the search needs to know about it."""

    path: str  # as found (its $ORIGIN is this path's directory)
    origin: str
    rpath: list[str]
    runpath: list[str]
    nodeflib: bool
    parent: Requester | None = None  # the object that loaded it (None: the program)


def candidates(name: str, req: Requester, sp: SearchPath, cwd: str = "/") -> list[tuple[str, str]]:
    """(path, how) in the order the loader tries them for ``name`` asked by ``req``."""
    if "/" in name:
        return [(posixpath.normpath(posixpath.join(cwd, name)), "path")]
    out: list[tuple[str, str]] = []

    def add(dirs: list[str], origin: str, how: str) -> None:
        for d in dirs:
            real = expand(d, origin, sp.lib) if how in ("RPATH", "RUNPATH") else d
            if real:
                out.append((posixpath.join(real, name), how))

    if sp.musl:  # musl: LD_LIBRARY_PATH, then RPATH and RUNPATH alike, then the path file
        add(sp.library_path, "", "LD_LIBRARY_PATH")
        add(req.rpath + req.runpath, req.origin, "RUNPATH")
        add(sp.default_dirs, "", "default")
        return out
    if not req.runpath:
        r: Requester | None = req
        while r is not None:
            if not r.runpath:
                add(r.rpath, r.origin, "RPATH")
            r = r.parent
    add(sp.library_path, "", "LD_LIBRARY_PATH")
    add(req.runpath, req.origin, "RUNPATH")
    if not req.nodeflib:
        if sp.has_cache:
            add(sp.cache_dirs, "", "ld.so.cache")
        add(sp.default_dirs, "", "default")
    return out


def find(name: str, req: Requester, sp: SearchPath, exists: Exists,
         cwd: str = "/") -> tuple[str, str, str] | None:
    """(path as found, real path, how) of the first candidate that exists, else None."""
    for path, how in candidates(name, req, sp, cwd):
        real = exists(path)
        if real is not None:
            return path, real, how
    return None
