"""The modules a Python application imports, against what a base's Python has.

Imports are read statically (``ast``, nothing runs) from the application's ``.py`` files:
absolute imports only, and not those inside a ``try`` (an optional import has a fallback).
A base provides a top-level module when its interpreter has it built in (a ``PyInit_NAME``
symbol in the interpreter's ELF) or a file or package of that name sits in one of the
directories Debian's Python searches: the standard library ``/usr/lib/pythonX.Y`` and its
``lib-dynload``, ``/usr/local/lib/pythonX.Y/dist-packages``, ``/usr/lib/python3/dist-packages``.
The application's own modules (its files, copied along) count as provided.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Iterable

from inspector.index.entries import DIR

#: bytes of the application's Python sources read at most (the rest is not checked)
SOURCE_BUDGET = 64 << 20
#: one source file read at most (a larger one is skipped)
SOURCE_MAX = 1 << 20
#: always there: the interpreter cannot start without them
CORE = frozenset(("sys", "builtins", "marshal", "_imp", "_warnings", "_io", "_thread",
                  "_frozen_importlib", "_frozen_importlib_external", "_weakref", "posix"))
_PYINIT = re.compile(rb"PyInit_([A-Za-z0-9_]+)\x00")
_EXT = re.compile(r"^([A-Za-z0-9_]+)(\.cpython-[^.]*|\.abi3)?\.so$")


def imports(sources: dict[str, bytes]) -> dict[str, list[str]]:
    """Top-level module → the files that import it (outside ``try``), for each parsable
    source (a file that does not parse is skipped: Python 2, a template, nesting past the
    parser's limits)."""
    out: dict[str, list[str]] = {}
    for path, data in sorted(sources.items()):
        try:
            tree = ast.parse(data, filename=path)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for name in _names(tree):
            users = out.setdefault(name, [])
            if path not in users:
                users.append(path)
    return out


def _names(tree: ast.AST) -> Iterable[str]:
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try | ast.TryStar):
            guarded.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.partition(".")[0]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            if node.module != "__future__":
                yield node.module.partition(".")[0]


def app_modules(app_paths: Iterable[str], roots: Iterable[str]) -> set[str]:
    """Top-level modules the application's own files provide: a ``.py`` file or a package
    directory directly in one of ``roots`` (the script's directory, the working directory)
    or in any ``site-packages``/``dist-packages`` directory among its files."""
    roots = {r.rstrip("/") or "/" for r in roots}
    out: set[str] = set()
    for path in app_paths:
        parts = path.split("/")
        for i in range(1, len(parts) - 1):
            parent = "/".join(parts[:i + 1]) or "/"
            if parent in roots or parts[i] in ("site-packages", "dist-packages"):
                _add_module(out, parts[i + 1])
        if (posixpath.dirname(path) or "/") in roots:
            _add_module(out, parts[-1])
    return out


def _add_module(out: set[str], name: str) -> None:
    if name.endswith(".py"):
        out.add(name[:-3])
    elif m := _EXT.match(name):
        out.add(m.group(1))
    elif name.isidentifier():
        out.add(name)


def version_of(interpreter: str) -> str | None:
    """``3.11`` from ``/usr/bin/python3.11``."""
    m = re.search(r"python(\d+\.\d+)$", interpreter)
    return m.group(1) if m else None


def base_modules(fs, version: str, interpreter_elf: bytes | None) -> set[str]:
    """Top-level modules a base's Python ``version`` finds (see the module docstring)."""
    out = set(CORE)
    if interpreter_elf:
        out.update(m.decode() for m in _PYINIT.findall(interpreter_elf))
    dirs = [f"/usr/lib/python{version}", f"/usr/lib/python{version}/lib-dynload",
            f"/usr/local/lib/python{version}/dist-packages", "/usr/lib/python3/dist-packages",
            f"/usr/local/lib/python{version}/site-packages", f"/usr/lib/python{version}/site-packages"]
    wanted = set(dirs)
    for path in fs.entries:
        parent, _, name = path.rpartition("/")
        if parent in wanted and (fs.kind(path) == DIR or name.endswith((".py", ".so"))):
            _add_module(out, name)
    return out
