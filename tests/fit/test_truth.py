"""The closure against the loader's own answer: a real debootstrap root (curl, python3),
programs built here (g++, gcc with $ORIGIN runpaths, a missing and a symlinked library, a
static Go binary, scripts), and ``chroot ROOT ldd`` as the truth (tests only: ldd runs the
loader, which inspector never does)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from inspector.catalog.fspath import Resolver
from inspector.fit.closure import closure
from inspector.fit.elf import parse_elf
from inspector.fit.entry import EntryResolver
from inspector.fit.files import DirectoryFiles
from inspector.fit.ldso import file_exists, search_path
from inspector.index.merge import merge
from tests.catalog.fsbuild import TEST_ROOTS, debootstrap_root, tar_directory_index
from tests.tools import require_tool

#: per process: two runs sharing the cached root do not clash
WORK = f"opt/fittest-{os.getpid()}"
CPP = '#include <iostream>\nint main() { std::cout << "hi" << std::endl; }\n'
LIB = "int f(void) { return 1; }\n"
MAIN = "int f(void);\nint main(void) { return f(); }\n"
GO = 'package main\n\nimport "os"\n\nfunc main() { os.Exit(0) }\n'


def fit_root() -> Path:
    """``debootstrap --variant=minbase --include=curl,python3 bookworm``, cached across runs
    (``tests.catalog.fsbuild.debootstrap_root``)."""
    return debootstrap_root(include=("curl", "python3"))


def _cc(compiler: str, *args: str, cwd: Path) -> None:
    subprocess.run([compiler, *args], cwd=cwd, check=True, capture_output=True)


def _build_programs(dest: Path) -> None:
    src = dest / "src"
    for d in (src, dest / "bin", dest / "lib", dest / "gone"):
        d.mkdir(parents=True, exist_ok=True)
    (src / "cpp.cpp").write_text(CPP)
    (src / "lib.c").write_text(LIB)
    (src / "main.c").write_text(MAIN)
    _cc("g++", "-o", "../bin/cpp", "cpp.cpp", cwd=src)
    _cc("gcc", "-shared", "-fPIC", "-o", "../lib/liborigin.so", "lib.c", cwd=src)
    for name, dtags in (("runpath", "--enable-new-dtags"), ("rpath", "--disable-new-dtags")):
        _cc("gcc", "-o", f"../bin/{name}", "main.c", "-L../lib", "-lorigin",
            f"-Wl,{dtags},-rpath,$ORIGIN/../lib", cwd=src)
    # a symlinked library: libsym.so.1 -> libsym.so.1.0.0 (soname libsym.so.1)
    _cc("gcc", "-shared", "-fPIC", "-Wl,-soname,libsym.so.1", "-o", "../lib/libsym.so.1.0.0",
        "lib.c", cwd=src)
    (dest / "lib/libsym.so.1").symlink_to("libsym.so.1.0.0")
    (dest / "lib/libsym.so").symlink_to("libsym.so.1")
    _cc("gcc", "-o", "../bin/symlinked", "main.c", "-L../lib", "-lsym",
        "-Wl,-rpath,$ORIGIN/../lib", cwd=src)
    # a missing library: linked against, then removed
    _cc("gcc", "-shared", "-fPIC", "-o", "../gone/libgone.so", "lib.c", cwd=src)
    _cc("gcc", "-o", "../bin/missing", "main.c", "-L../gone", "-lgone", cwd=src)
    shutil.rmtree(dest / "gone")
    (src / "main.go").write_text(GO)
    (src / "go.mod").write_text("module fittest\n\ngo 1.19\n")
    # Go's build cache is content-addressed: kept with the roots, the standard library is
    # compiled once per machine, not on every run
    env = dict(os.environ, CGO_ENABLED="0", GOCACHE=str(TEST_ROOTS.parent / "go-build"),
               GOPATH=str(src / "gopath"), GOFLAGS="-mod=mod")
    subprocess.run(["go", "build", "-o", "../bin/gostatic", "."], cwd=src, env=env, check=True,
                   capture_output=True)
    shutil.rmtree(src)
    (dest / "bin/run.sh").write_text("#!/bin/sh\nexec curl --version\n")
    (dest / "bin/tool.py").write_text("#!/usr/bin/env python3\nprint('hi')\n")
    for script in ("run.sh", "tool.py"):
        (dest / "bin" / script).chmod(0o755)


@pytest.fixture(scope="module")
def world():
    for tool in ("gcc", "g++", "go"):
        require_tool(tool)
    root = fit_root()
    dest = root / WORK
    shutil.rmtree(dest, ignore_errors=True)
    try:
        _build_programs(dest)
        fs = merge([tar_directory_index(root)])
        yield root, fs
    finally:
        shutil.rmtree(dest, ignore_errors=True)


def truth(root: Path, program: str) -> tuple[set[str], set[str]]:
    """(real paths loaded, names not found) as ``ldd`` reports them in the root (``ld.so
    --list`` stops at the first missing library; ldd's trace mode lists it as not found)."""
    proc = subprocess.run(["chroot", str(root), "ldd", program], capture_output=True, text=True)
    loaded, missing = set(), set()
    for line in proc.stdout.splitlines():
        line = line.strip()
        if "=> not found" in line:
            missing.add(line.split()[0])
        elif "=>" in line:
            path = line.split("=>", 1)[1].split("(")[0].strip()
            if path:
                loaded.add(_real(root, path))
        elif line.startswith("/"):
            loaded.add(_real(root, line.split()[0]))
    return loaded, missing


def _real(root: Path, path: str) -> str:
    """``path`` with every symlink followed inside ``root`` (absolute targets are the root's)."""
    parts, done, hops = [p for p in path.split("/") if p], "", 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            done = done.rsplit("/", 1)[0]
            continue
        here = root / (done + "/" + part).lstrip("/")
        if here.is_symlink() and hops < 40:
            hops += 1
            target = os.readlink(here)
            parts = [p for p in target.split("/") if p and p != "."] + parts
            if target.startswith("/"):
                done = ""
            continue
        done += "/" + part
    return done or "/"


def ours(root: Path, fs, argv: list[str]):
    reader = DirectoryFiles(root)
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
    program = EntryResolver(fs, reader, env, "/", "root").resolve(argv)
    elf = parse_elf(program.data, program.path)
    resolver = Resolver(fs)

    def read_text(path):
        data = reader.read_many([path]).get(path)
        return None if data is None else data.decode()

    sp = search_path(fs, resolver, elf.machine, elf.bits, elf.interpreter, env, read_text)
    return program, elf, closure(program.path, elf, sp, file_exists(fs, resolver), reader)


CASES = [
    ("curl", ["curl", "--version"], "/usr/bin/curl", False),
    ("python3 (a symlink on PATH)", ["python3"], "/usr/bin/python3.11", False),
    ("C++ built with g++", [f"/{WORK}/bin/cpp"], f"/{WORK}/bin/cpp", False),
    ("$ORIGIN in DT_RUNPATH", [f"/{WORK}/bin/runpath"], f"/{WORK}/bin/runpath", False),
    ("$ORIGIN in DT_RPATH", [f"/{WORK}/bin/rpath"], f"/{WORK}/bin/rpath", False),
    ("a symlinked library", [f"/{WORK}/bin/symlinked"], f"/{WORK}/bin/symlinked", False),
    ("a missing library", [f"/{WORK}/bin/missing"], f"/{WORK}/bin/missing", False),
    ("static Go binary", [f"/{WORK}/bin/gostatic"], f"/{WORK}/bin/gostatic", True),
    ("shell script → its shell", [f"/{WORK}/bin/run.sh"], "/usr/bin/dash", False),
    ("#!/usr/bin/env python3 script", [f"/{WORK}/bin/tool.py"], "/usr/bin/python3.11", False),
]


@pytest.mark.parametrize(("name", "argv", "program", "static"), CASES, ids=[c[0] for c in CASES])
def test_closure_equals_the_loaders_answer(world, name, argv, program, static):
    root, fs = world
    prog, elf, result = ours(root, fs, argv)
    assert prog.path == program
    assert elf.static is static
    loaded, missing = truth(root, program)
    if static:
        assert (loaded, missing, result.all_objects()) == (set(), set(), [])
        return
    assert {lib.real for lib in result.all_objects()} == loaded
    assert {m.name for m in result.missing} == missing
    assert not result.errors


def test_special_cases_are_what_they_claim(world):
    root, fs = world
    _, _, symlinked = ours(root, fs, [f"/{WORK}/bin/symlinked"])
    sym = next(lib for lib in symlinked.libraries if lib.name == "libsym.so.1")
    assert (sym.path, sym.real, sym.how) == (f"/{WORK}/lib/libsym.so.1",
                                             f"/{WORK}/lib/libsym.so.1.0.0", "RUNPATH" if
                                             sym.how == "RUNPATH" else "RPATH")
    _, _, missing = ours(root, fs, [f"/{WORK}/bin/missing"])
    assert [m.name for m in missing.missing] == ["libgone.so"]
    _, elf, runpath = ours(root, fs, [f"/{WORK}/bin/runpath"])
    assert elf.runpath == ["$ORIGIN/../lib"] and not elf.rpath
    assert next(x for x in runpath.libraries if x.name == "liborigin.so").how == "RUNPATH"
    prog, _, _ = ours(root, fs, [f"/{WORK}/bin/tool.py"])
    assert prog.language == "python" and prog.scripts == [f"/{WORK}/bin/tool.py"]
