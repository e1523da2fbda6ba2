"""Fit: which distroless base would this application run on, and what would it save.

    result = fit(analysis, [static, base, cc])            # analyses: current image, candidates
    inspector fit IMAGE [--base REF …] [--entrypoint PATH] [--format text|markdown|json]

Steps: the program that really runs (``entry``: Entrypoint + Cmd through PATH, symlinks,
``env``, shebangs); its ``DT_NEEDED`` closure as the loader finds it (``elf``, ``ldso``,
``closure``), each library mapped to its package; the application's own files (``app``);
each candidate base judged (``bases``); sizes and vanished categories for the smallest
that fits, and a Dockerfile fragment to start from (``render``). File contents come from
the layers (``files``); nothing in the image is executed.
"""

from __future__ import annotations

import posixpath

from inspector.analysis import Analysis
from inspector.catalog.fspath import MAX_HOPS, Resolver
from inspector.fit import pymods
from inspector.fit.app import app_files, package_runtime
from inspector.fit.bases import LANGUAGE_IMAGES, LANGUAGE_SAMPLES, Needs, choose, evaluate, savings
from inspector.fit.closure import closure
from inspector.fit.elf import ElfError, parse_elf
from inspector.fit.entry import EntryResolver, FitError, config_argv, env_of
from inspector.fit.files import FileReader, ImageFiles
from inspector.fit.ldso import file_exists, search_path
from inspector.fit.model import FitResult, LibraryRow
from inspector.index.entries import DIR, FILE, SYMLINK

__all__ = ["FitError", "FitResult", "fit"]

#: bytes of likely libraries read in the first pass over the layers (see ``prefetch``)
PREFETCH_BYTES = 128 << 20
PREFETCH_DIRS = ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
                 "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib")


def _package(analysis: Analysis, *paths: str) -> str | None:
    for path in paths:
        i = analysis.catalog.owners.get(path)
        if i is not None:
            pkg = analysis.catalog.packages[i]
            return f"{pkg.name} ({pkg.type})"
    return None


def prefetch(fs, entry: EntryResolver, argv: list[str], env: dict[str, str],
             cap: int = PREFETCH_BYTES) -> list[str]:
    """What the analysis will most likely read, so that one pass over each layer serves it:
    the entrypoint, the ld.so.conf files, and the shared libraries in the usual
    directories (up to ``cap`` bytes; the closure reads anything else level by level)."""
    resolver = entry.resolver
    out = []
    hit = entry.lookup(argv[0]) if argv else None
    real = resolver.resolve(hit[0]) if hit else None
    if real:
        out.append(real)
    dirs = {resolver.directory(d) for d in PREFETCH_DIRS}
    dirs |= {resolver.directory(d) for d in env.get("LD_LIBRARY_PATH", "").split(":") if d}
    conf = resolver.directory("/etc/ld.so.conf.d")
    total = 0
    for path in fs.entries:
        parent = path[:path.rfind("/")] or "/"
        name = path[len(parent) + 1:]
        if parent == conf or path == "/etc/ld.so.conf":
            out.append(path)
        elif parent in dirs and ".so" in name and fs.kind(path) == FILE:
            total += fs.size(path)
            if total > cap:
                break
            out.append(path)
    return out


def _runs(fs, current: Analysis, program) -> set[str]:
    """What the entrypoint runs, which the new image must have whoever owns it: the program
    itself when it runs on its own (else the scripts the interpreter runs), with its
    package's run-time files, and the symlinks on the way there (``/usr/bin/awk`` →
    ``/etc/alternatives/awk`` → ``/usr/bin/mawk``)."""
    own = [program.path] if program.interpreter_needed is None else list(program.scripts)
    paths = package_runtime(fs, current.catalog, own)
    if program.interpreter_needed is None:
        for step in program.chain:
            paths.update(_links(fs, step.path))
    return {p for p in paths if fs.kind(p) != DIR}


def _python_imports(fs, reader: FileReader, app: list[str], program, cwd: str
                    ) -> dict[str, list[str]]:
    """What the application's Python files import, less its own modules (``pymods``): the
    scripts first, then its other ``.py`` files, up to ``pymods.SOURCE_BUDGET`` bytes."""
    wanted, total = [], 0
    for path in [*program.scripts, *(p for p in app if p.endswith(".py"))]:
        if path in wanted or path not in fs.entries or fs.kind(path) != FILE:
            continue
        size = fs.size(path)
        if size > pymods.SOURCE_MAX or total + size > pymods.SOURCE_BUDGET:
            continue
        total += size
        wanted.append(path)
    sources = {p: d for p, d in reader.read_many(wanted).items() if d is not None}
    roots = {posixpath.dirname(s) for s in program.scripts} | {cwd}
    own = pymods.app_modules(app, roots)
    return {m: users for m, users in pymods.imports(sources).items() if m not in own}


def _links(fs, path: str) -> list[str]:
    """The symlinks ``path`` goes through as a last component (at most ``MAX_HOPS``)."""
    out: list[str] = []
    resolver = Resolver(fs)
    for _ in range(MAX_HOPS):
        at = resolver.parent_resolved(path)
        if at is None or at not in fs.entries or fs.kind(at) != SYMLINK:
            break
        out.append(at)
        target = fs.target(at)
        path = posixpath.normpath(posixpath.join(posixpath.dirname(at), target))
    return out


def fit(current: Analysis, bases: list[Analysis], entrypoint: str | None = None,
        reader: FileReader | None = None) -> FitResult:
    """The verdict for ``current`` against each of ``bases`` (in the order given)."""
    fs, what = current.fs, current.reference
    reader = reader or ImageFiles(current.image, fs)
    config = current.config
    cfg = config.get("config") or {}
    env = env_of(config)
    cwd = cfg.get("WorkingDir") or "/"
    argv = config_argv(config, entrypoint)
    entry = EntryResolver(fs, reader, env, cwd, what)
    # a pass over a streamed layer serves every read; by range, each read costs its bytes
    ahead = 0 if getattr(reader, "by_range", False) else PREFETCH_BYTES
    reader.read_many(prefetch(fs, entry, argv, env, ahead))
    program = entry.resolve(argv)
    try:
        elf = parse_elf(program.data, f"{what}: {program.path}")
    except ElfError as exc:
        raise FitError(exc.message) from exc
    resolver = Resolver(fs)

    def read_text(path: str) -> str | None:
        data = reader.read_many([path]).get(path)
        return None if data is None else data.decode("utf-8", "replace")

    sp = search_path(fs, resolver, elf.machine, elf.bits, elf.interpreter, env, read_text)
    found = closure(program.path, elf, sp, file_exists(fs, resolver), reader, cwd)
    app = app_files(fs, current.catalog, _runs(fs, current, program))
    language = program.language
    bases = [b for b in bases if LANGUAGE_SAMPLES.get(b.reference, language) == language]
    imports = _python_imports(fs, reader, app.paths, program, cwd) if language == "python" else {}
    needs = Needs(program, elf, found, set(app.paths), app.bytes, current, imports)
    candidates = [evaluate(b, needs) for b in bases]
    chosen = choose(candidates)
    saved = None
    if chosen is not None:
        base = next(b for b in bases if b.reference == chosen.reference)
        saved = savings(current, base, chosen, app.paths)
    rows = [LibraryRow(lib.name, lib.path, lib.real, lib.how, _package(current, lib.real, lib.path),
                       fs.size(lib.real) if lib.real in fs.entries else 0, lib.needed_by)
            for lib in found.all_objects()]
    findings = list(program.findings)
    if language in LANGUAGE_IMAGES:
        bundled = [ref for ref, lang in LANGUAGE_SAMPLES.items() if lang == language]
        how = (f"its bundled stand-in {bundled[0]} is a candidate" if bundled
               else f"try --base {LANGUAGE_IMAGES[language]}")
        findings.append(f"a {language} application: distroless has a {language} image, "
                        f"{LANGUAGE_IMAGES[language]} ({how})")
    result = FitResult(
        reference=what, argv=program.argv, chain=[(s.path, s.note) for s in program.chain],
        program=program.path, kind=elf.kind, machine=elf.machine, interpreter=elf.interpreter,
        language=language, interpreters=[n for n, _ in program.interpreters],
        libraries=rows, missing=[(m.name, m.needed_by) for m in found.missing],
        app_files=app.paths, app_bytes=app.bytes, app_roots=app.roots,
        candidates=candidates, chosen=chosen, savings=saved, dockerfile="",
        findings=findings, warnings=[*found.errors, *getattr(reader, "notices", ())],
        env=[e for e in cfg.get("Env") or [] if not str(e).startswith("PATH=")],
        workdir=cfg.get("WorkingDir") or "",
        entrypoint=[entrypoint] if entrypoint else list(cfg.get("Entrypoint") or []),
        cmd=[] if entrypoint else list(cfg.get("Cmd") or []), final_argv=program.final_argv,
        runs=list(program.runs) if program.runs else None)
    from inspector.fit.render import dockerfile

    result.dockerfile = dockerfile(result)
    return result
