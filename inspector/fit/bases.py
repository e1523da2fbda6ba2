"""Candidate bases: does the program (or its interpreter) find everything it needs there?

A base fits when it has the loader, every needed library by soname in a directory its
loader searches (the application's own files are copied along, at the same paths), and
the script interpreter. When only OS libraries are missing and the image has them, the
base fits once they are copied (listed, with where they go).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from inspector.analysis import Analysis
from inspector.catalog.fspath import Resolver
from inspector.fit import pymods
from inspector.fit.closure import Closure
from inspector.fit.elf import ElfError, ElfInfo, parse_elf
from inspector.fit.entry import DEFAULT_PATH, Program, env_of, language_of
from inspector.fit.files import ImageFiles
from inspector.fit.ldso import Requester, file_exists, find, search_path
from inspector.fit.model import COPY, FITS, NO, Candidate, Savings
from inspector.index.entries import DIR

#: the bundled distroless samples tried by default, smallest first (a language image only
#: for an application in that language: ``LANGUAGE_SAMPLES``)
SAMPLE_BASES = ("sample:distroless-static", "sample:distroless-base", "sample:distroless-cc",
                "sample:distroless-python3")
LANGUAGE_SAMPLES = {"sample:distroless-python3": "python"}
#: what a Dockerfile says for a bundled sample
PUBLISHED = {"distroless-static": "gcr.io/distroless/static-debian12",
             "distroless-base": "gcr.io/distroless/base-debian12",
             "distroless-cc": "gcr.io/distroless/cc-debian12",
             "distroless-static-debug": "gcr.io/distroless/static-debian12:debug",
             "distroless-python3": "gcr.io/distroless/python3-debian12",
             "debian-12-slim": "debian:12-slim"}
#: the distroless image for a script's language (named in the report; pass it as --base)
LANGUAGE_IMAGES = {"python": "gcr.io/distroless/python3-debian12",
                   "node": "gcr.io/distroless/nodejs22-debian12",
                   "java": "gcr.io/distroless/java17-debian12"}


#: OCI architecture → ELF machine name (as ``elf.MACHINES`` spells it)
ARCHITECTURES = {"amd64": "x86_64", "arm64": "arm64", "386": "i386", "arm": "arm",
                 "ppc64le": "ppc64", "s390x": "s390x", "riscv64": "riscv64"}


@dataclass
class Needs:
    """What the application asks of a base (computed once from the current image)."""

    program: Program
    elf: ElfInfo
    closure: Closure
    app: set[str]  # the application's own paths (copied along)
    app_bytes: int  # their regular files' bytes
    analysis: Analysis  # the current image
    #: a Python application's imports not among its own modules: module → importing files
    imports: dict[str, list[str]] = field(default_factory=dict)


def label_of(reference: str) -> str:
    return reference.removeprefix("sample:")


def from_ref(reference: str) -> str:
    return PUBLISHED.get(label_of(reference), reference) if reference.startswith("sample:") else reference


def non_dir_count(analysis: Analysis) -> int:
    fs = analysis.fs
    return len(fs.entries) - fs.count_kind(DIR)


def evaluate(base: Analysis, needs: Needs) -> Candidate:
    cand = Candidate(label_of(base.reference), base.reference, from_ref(base.reference))
    fs = base.fs
    resolver = Resolver(fs)
    in_base = file_exists(fs, resolver)

    def exists(path: str) -> str | None:
        return in_base(path) or (path if path in needs.app else None)

    cand.base_files, cand.base_bytes = non_dir_count(base), fs.file_bytes
    passwd = fs.captured("/etc/passwd") or b""
    cand.nonroot = any(line.startswith(b"nonroot:") for line in passwd.split(b"\n"))
    arch = ARCHITECTURES.get(str(base.config.get("architecture")), base.config.get("architecture"))
    if arch and arch != needs.elf.machine:
        cand.missing.append(f"architecture {needs.elf.machine} (the base is {arch})")
    elif needs.program.interpreter_needed:
        real = _interpreter(needs.program.interpreter_needed, base, resolver, cand)
        if real and needs.imports:
            _python_modules(base, real, needs, cand)
    else:
        _libraries(base, needs, exists, cand)
    copyable = all(m.startswith("lib:") for m in cand.missing)
    cand.missing = [m.removeprefix("lib:") for m in cand.missing]
    cand.verdict = FITS if not cand.missing else COPY if copyable and cand.copy else NO
    if cand.verdict != COPY:
        cand.copy, cand.copy_bytes = [], 0
    cand.result_files = cand.base_files + len(needs.app) + len(cand.copy)
    cand.result_bytes = cand.base_bytes + needs.app_bytes + cand.copy_bytes
    return cand


def _interpreter(name: str, base: Analysis, resolver: Resolver, cand: Candidate) -> str | None:
    """A script's interpreter: the path it names, or its name on the base's PATH (its real
    path when found)."""
    env = env_of(base.config)
    tries = [name] if name.startswith("/") else []
    tries += [posixpath.join(d, posixpath.basename(name))
              for d in (env.get("PATH") or DEFAULT_PATH).split(":") if d.startswith("/")]
    for path in tries:
        real = resolver.resolve(path)
        if real and base.fs.kind(real) != DIR and base.fs.mode(real) & 0o111:
            return real
    what = "shell" if language_of(name) == "shell" else "interpreter"
    cand.missing.append(f"{what} {name}")
    return None


def _python_modules(base: Analysis, interpreter: str, needs: Needs, cand: Candidate) -> None:
    """The modules the application imports that the base's Python does not have."""
    version = pymods.version_of(interpreter)
    if version is None:
        return
    elf = ImageFiles(base.image, base.fs).read_many([interpreter]).get(interpreter)
    have = pymods.base_modules(base.fs, version, elf)
    for name in sorted(set(needs.imports) - have):
        users = needs.imports[name]
        cand.missing.append(f"python module {name} (imported by {users[0]}"
                            + (f" and {len(users) - 1} more" if len(users) > 1 else "") + ")")


def _libraries(base: Analysis, needs: Needs, exists, cand: Candidate) -> None:
    elf, closure = needs.elf, needs.closure
    if elf.static:
        return
    if elf.interpreter and exists(elf.interpreter) is None:
        cand.missing.append(f"loader {elf.interpreter}")
    reader = ImageFiles(base.image, base.fs)

    def read_text(path: str) -> str | None:
        data = reader.read_many([path]).get(path)
        return None if data is None else data.decode("utf-8", "replace")

    env = env_of(needs.analysis.config)
    sp = search_path(base.fs, Resolver(base.fs), elf.machine, elf.bits, elf.interpreter, env,
                     read_text)
    objects = {lib.real: lib for lib in closure.libraries}
    main = Requester(closure.program, posixpath.dirname(closure.program), elf.rpath,
                     elf.runpath, elf.nodeflib)
    cwd = (needs.analysis.config.get("config") or {}).get("WorkingDir") or "/"
    app_fs = needs.analysis.fs
    provided: dict[str, str] = {}  # soname → its real path in the base
    for lib in closure.libraries:
        if lib.real in needs.app or lib.path in needs.app:
            continue
        user = objects.get(lib.needed_by[0]) if lib.needed_by else None
        req = main
        if user is not None and user.elf is not None:
            req = Requester(user.path, posixpath.dirname(user.path), user.elf.rpath,
                            user.elf.runpath, user.elf.nodeflib, main)
        hit = find(lib.name, req, sp, exists, cwd)
        if hit is not None:
            provided[lib.name] = hit[1]
            continue
        cand.missing.append(f"lib:{lib.name}")
        directory = posixpath.dirname(lib.path)
        searched = directory in sp.default_dirs or lib.how in ("RPATH", "RUNPATH", "path")
        dest = lib.path if searched or not sp.default_dirs else \
            posixpath.join(sp.default_dirs[min(1, len(sp.default_dirs) - 1)], lib.name)
        cand.copy.append((lib.path, dest))
        cand.copy_bytes += app_fs.size(lib.real) if lib.real in app_fs.entries else 0
    for m in closure.missing:
        cand.missing.append(f"{m.name} (not found in the image either)")
    _versions(base, reader, provided, needs, cand)


def _version_key(name: str) -> tuple:
    prefix, _, rest = name.partition("_")
    return prefix, tuple(int(n) if n.isdigit() else -1 for n in rest.split("."))


def _versions(base: Analysis, reader: ImageFiles, provided: dict[str, str], needs: Needs,
              cand: Candidate) -> None:
    """Symbol versions (DT_VERNEED) of the program, its own libraries and the ones to copy,
    against what the base's libraries define (DT_VERDEF): a program built on a newer
    distribution does not start on an older base."""
    copied = {src for src, _ in cand.copy}
    needers = [needs.elf] + [lib.elf for lib in needs.closure.libraries if lib.elf is not None
                             and (lib.real in needs.app or lib.path in copied)]
    wanted: dict[str, set[str]] = {}
    for elf in needers:
        for file, names in elf.versions.items():
            if file in provided:
                wanted.setdefault(file, set()).update(names)
    contents = reader.read_many(sorted({provided[f] for f in wanted}))
    for file in sorted(wanted):
        data = contents.get(provided[file])
        try:
            defines = set(parse_elf(data, provided[file]).defines) if data else set()
        except ElfError:
            defines = set()
        if not defines:
            if file == "libc.so.6":
                _glibc(base, needers, cand)
            continue
        lacking = sorted(wanted[file] - defines, key=_version_key)
        if lacking:
            worst = lacking[-1]
            prefix = _version_key(worst)[0]
            top = max((d for d in defines if _version_key(d)[0] == prefix), key=_version_key,
                      default=None)
            cand.missing.append(f"{file} {worst} (the base's has "
                                + (f"up to {top})" if top else f"no {prefix} versions)"))


def glibc_version(analysis: Analysis) -> tuple[int, ...] | None:
    """The base's glibc (``libc6``/``glibc`` package) as (major, minor), if it has one."""
    for pkg in analysis.catalog.packages:
        if pkg.name in ("libc6", "glibc") and pkg.type in ("deb", "rpm"):
            m = re.match(r"(\d+)\.(\d+)", pkg.version.split(":")[-1])
            if m:
                return int(m.group(1)), int(m.group(2))
    return None


def _glibc(base: Analysis, elves: list[ElfInfo], cand: Candidate) -> None:
    """When the base's libc cannot be read: its package version against GLIBC_x.y needs."""
    have = glibc_version(base)
    if have is None:
        return
    wanted = max((v for e in elves if (v := e.glibc_needed())), default=None)
    if wanted is not None and wanted > have:
        want = ".".join(map(str, wanted))
        cand.missing.append(f"glibc {want} (the base has {have[0]}.{have[1]})")


#: runtimes a base exists to provide (distroless cc: "for C++/Rust binaries"): copying them
#: onto a smaller base is not what anyone does when a base with them fits as well
RUNTIME_LIBS = frozenset(("libstdc++.so.6", "libgcc_s.so.1", "libgomp.so.1", "libatomic.so.1"))


def _runtime_copies(c: Candidate) -> int:
    return sum(posixpath.basename(dest) in RUNTIME_LIBS for _, dest in c.copy)


def choose(candidates: list[Candidate]) -> Candidate | None:
    """The smallest base that fits; failing that, among those that fit with copies, the one
    that copies fewest C/C++ runtimes (cc rather than base + libstdc++), then the smallest."""
    fitting = [c for c in candidates if c.verdict == FITS]
    if fitting:
        return min(fitting, key=lambda c: c.base_bytes)
    fitting = [c for c in candidates if c.verdict == COPY]
    if fitting:
        return min(fitting, key=lambda c: (_runtime_copies(c), c.base_bytes))
    return None


def savings(current: Analysis, base: Analysis, chosen: Candidate, app: list[str]) -> Savings:
    """Sizes before/after, and the categories that disappear (the compare machinery)."""
    from inspector.compare import compare_analyses

    result = compare_analyses([current, base], labels=["current", chosen.label])
    app_categories = {current.classification.category_of(p) for p in app}
    gone = [(row.name, row.per_image[0].files, row.per_image[0].bytes)
            for row in result.categories
            if row.per_image[0].files and not row.per_image[1].files
            and row.name not in app_categories]
    return Savings(chosen.label, non_dir_count(current), current.fs.file_bytes,
                   chosen.result_files, chosen.result_bytes, gone)
