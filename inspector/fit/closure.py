"""The ``DT_NEEDED`` closure of one ELF program, breadth-first as the loader maps it.

Each level's libraries are found on the index (``ldso.find``), then read in one batch
(``FileReader.read_many``: one pass per layer) and parsed for their own needs. Objects are
identified by real path, names by what was asked and by ``DT_SONAME``, so a loop of
``DT_NEEDED`` entries ends (each object is read once) and ``MAX_OBJECTS`` bounds the rest.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from inspector.fit.elf import ElfError, ElfInfo, parse_elf
from inspector.fit.files import FileReader
from inspector.fit.ldso import Exists, Requester, SearchPath, candidates, find

#: objects in one closure at most (a real program: < 200)
MAX_OBJECTS = 4096
#: provided by the kernel, never a file
VDSO = ("linux-vdso.so.1", "linux-gate.so.1", "linux-vdso64.so.1")
#: names musl's loader resolves to itself
MUSL_BUILTIN = tuple(f"lib{n}." for n in ("c", "pthread", "rt", "m", "dl", "util", "xnet"))


@dataclass
class Library:
    name: str  # as the first DT_NEEDED asked for it
    path: str  # where the loader finds it
    real: str  # symlinks resolved
    how: str  # RPATH | RUNPATH | LD_LIBRARY_PATH | ld.so.cache | default | path | loader
    needed_by: list[str] = field(default_factory=list)  # real paths of the objects asking
    elf: ElfInfo | None = None
    error: str | None = None  # why it could not be read (its own needs are then unknown)


@dataclass
class Missing:
    name: str
    needed_by: list[str]
    searched: list[str]  # the directories tried, in order


@dataclass
class Closure:
    program: str  # real path
    elf: ElfInfo
    loader: Library | None = None
    libraries: list[Library] = field(default_factory=list)  # load order; loader not included
    missing: list[Missing] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def all_objects(self) -> list[Library]:
        return ([self.loader] if self.loader else []) + self.libraries


def closure(program: str, elf: ElfInfo, sp: SearchPath, exists: Exists, reader: FileReader,
            cwd: str = "/") -> Closure:
    """Everything ``program`` (real path, parsed as ``elf``) loads, found in one filesystem."""
    result = Closure(program, elf)
    if elf.static:
        return result
    by_name: dict[str, Library] = {}
    by_real: dict[str, Library] = {}
    if elf.interpreter:
        real = exists(elf.interpreter)
        if real is None:
            result.missing.append(Missing(elf.interpreter, [program], [elf.interpreter]))
        else:
            loader = Library(posixpath.basename(elf.interpreter), elf.interpreter, real,
                             "loader", [program])
            result.loader = by_real[real] = by_name[loader.name] = loader
    main = Requester(program, posixpath.dirname(program), elf.rpath, elf.runpath, elf.nodeflib)
    level: list[tuple[Requester, list[str]]] = [(main, elf.needed)]
    missing: dict[str, Missing] = {}
    while level:
        found_now: list[tuple[Library, Requester]] = []
        for req, names in level:
            for name in names:
                if name in VDSO:
                    continue
                known = by_name.get(name)
                if known is None and sp.musl and result.loader and _musl_builtin(name):
                    known = result.loader  # musl's libc is its loader
                if known is not None:
                    _add_user(known, req.path)
                    continue
                hit = find(name, req, sp, exists, cwd)
                if hit is None:
                    m = missing.get(name)
                    if m is None:
                        dirs = list(dict.fromkeys(posixpath.dirname(p) for p, _ in
                                                  candidates(name, req, sp, cwd)))
                        m = missing[name] = Missing(name, [], dirs)
                        result.missing.append(m)
                    if req.path not in m.needed_by:
                        m.needed_by.append(req.path)
                    continue
                path, real, how = hit
                lib = by_real.get(real)
                if lib is None:
                    if len(by_real) >= MAX_OBJECTS:
                        result.errors.append(f"more than {MAX_OBJECTS} libraries: stopped")
                        return result
                    lib = by_real[real] = Library(name, path, real, how)
                    result.libraries.append(lib)
                    found_now.append((lib, req))
                by_name[name] = lib
                _add_user(lib, req.path)
        level = _next_level(found_now, reader, by_name, result)
    return result


def _musl_builtin(name: str) -> bool:
    """musl's loader answers for these itself (``ldso/dynlink.c``: ``load_library``)."""
    return name.startswith(MUSL_BUILTIN)


def _add_user(lib: Library, user: str) -> None:
    if user not in lib.needed_by:
        lib.needed_by.append(user)


def _next_level(found: list[tuple[Library, Requester]], reader: FileReader,
                by_name: dict[str, Library], result: Closure) -> list[tuple[Requester, list[str]]]:
    """Read and parse the libraries found at this level; their needs are the next level."""
    if not found:
        return []
    contents = reader.read_many([lib.real for lib, _ in found])
    level = []
    for lib, parent in found:
        data = contents.get(lib.real)
        if data is None:
            lib.error = "not readable (not a regular file, or too large)"
            result.errors.append(f"{lib.path}: {lib.error}")
            continue
        try:
            lib.elf = parse_elf(data, lib.path)
        except ElfError as exc:
            lib.error = str(exc)
            result.errors.append(lib.error)
            continue
        if lib.elf.soname:
            by_name.setdefault(lib.elf.soname, lib)
        req = Requester(lib.path, posixpath.dirname(lib.path), lib.elf.rpath, lib.elf.runpath,
                        lib.elf.nodeflib, parent)
        level.append((req, lib.elf.needed))
    return level
