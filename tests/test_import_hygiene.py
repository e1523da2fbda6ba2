"""Import hygiene. Only ``inspector/tui/`` may import textual or rich: the headless core
stays headless (every other module imported into a fresh interpreter, then ``sys.modules``
is checked; and no import statement outside ``tui/`` names them). The import graph of ``inspector/`` (imports inside functions too) has no circle
through the modules of ``NO_CIRCLES``, and follows the architecture page's "may import"
table, written down here as ``MAY_IMPORT``."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "inspector"
FORBIDDEN = ("textual", "rich")


def modules() -> list[str]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[:2] == ["inspector", "tui"] or parts[-1] == "__main__":
            continue  # __main__ runs the program when imported (it only calls cli.main)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append(".".join(parts))
    return out


CHECK = f"""
FORBIDDEN = {FORBIDDEN!r}
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(sorted(m for m in sys.modules if m.split(".")[0] in FORBIDDEN))
"""


def _loads(names: list[str]) -> str:
    proc = subprocess.run([sys.executable, "-c", CHECK, *names], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_module_list_is_not_empty():
    names = modules()
    assert "inspector.cli" in names and "inspector.index.tarwalk" in names


def test_no_textual_or_rich_outside_tui():
    """Every module outside ``tui/`` imported into one interpreter loads neither (what
    one module loads alone is part of what all of them load together); on failure, each
    is imported alone to name the culprits."""
    if _loads(modules()) == "[]":
        return
    culprits = {name: got for name in modules() if (got := _loads([name])) != "[]"}
    raise AssertionError(f"imports of textual/rich outside tui/: {culprits}")


def test_no_module_outside_tui_names_textual_or_rich():
    """Not even inside a function: the import graph's edges out of the package."""
    known = _module_files()
    for name, path in known.items():
        if covers("inspector.tui", name):
            continue
        named = {m.split(".")[0] for m in _imported(ast.parse(path.read_text()), known)}
        assert not named & set(FORBIDDEN), f"{name} imports {sorted(named & set(FORBIDDEN))}"


# --- the import graph: every import of inspector/, those inside functions included ------

def _module_files() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported(tree: ast.AST, known: dict[str, Path]) -> Iterator[str]:
    """The inspector modules a file imports, at any depth (function bodies too); an ``if
    TYPE_CHECKING:`` block is left out (it never runs). ``from pkg import name`` counts
    as importing ``pkg.name`` when that is a module."""
    todo = [tree]
    while todo:
        node = todo.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking_only(child):
                todo.extend(child.orelse)
                continue
            if isinstance(child, ast.Import):
                yield from (alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                for alias in child.names:
                    full = f"{child.module}.{alias.name}"
                    yield full if full in known else child.module
            todo.append(child)


@lru_cache(maxsize=1)
def import_graph() -> dict[str, frozenset[str]]:
    """module → the inspector modules it imports (file to file)."""
    known = _module_files()
    return {name: frozenset(m for m in _imported(ast.parse(path.read_text()), known)
                            if m in known and m != name)
            for name, path in known.items()}


def circles(graph: dict[str, frozenset[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(component)
    return found


def covers(pattern: str, module: str) -> bool:
    """``inspector.index`` covers the package and every module under it."""
    return module == pattern or module.startswith(pattern + ".")


#: groups of modules that must sit on no import circle (issue 29 item 1): (name, modules)
NO_CIRCLES = [
    ("the caches", ["inspector.cache", "inspector.cache_kinds", "inspector.cache_admin",
                    "inspector.commands.cache", "inspector.options", "inspector.analysis",
                    "inspector.analysis_cache", "inspector.index.cache",
                    "inspector.report.export_cache", "inspector.sources.engine_record",
                    "inspector.sources.daemon", "inspector.sources.registry.blobcache"]),
    ("index and catalog", ["inspector.index", "inspector.catalog"]),
    ("the CLI and its commands", ["inspector.cli", "inspector.commands", "inspector.check",
                                  "inspector.completion", "inspector.fit"]),
    ("the SBOM writers", ["inspector.sbom"]),
]

#: the architecture page's "may import" table as data: (modules, what they may import of
#: inspector). A name covers a package and everything under it; a module's own package
#: is not implied (list it). ``()`` is the standard library only.
MAY_IMPORT = [
    ("inspector.visible", ()),
    ("inspector.codehash", ()),
    ("inspector.globmatch", ()),
    ("inspector.userfile", ("inspector.errors",)),
    ("inspector.errors", ("inspector.visible",)),
    ("inspector.reference", ("inspector.errors",)),
    ("inspector.options", ("inspector.oci.platform",)),
    ("inspector.oci", ("inspector.oci", "inspector.errors")),
    ("inspector.catalog.reads", ()),
    ("inspector.catalog.registry", ("inspector.catalog.reads",)),
    ("inspector.catalog", ("inspector.catalog", "inspector.index")),
    ("inspector.cache_kinds", ("inspector.codehash",)),
    ("inspector.cache_admin", ("inspector.cache_kinds", "inspector.options")),
    ("inspector.cache", ("inspector.cache_admin", "inspector.cache_kinds", "inspector.codehash",
                         "inspector.errors", "inspector.options")),
    ("inspector.index", ("inspector.index", "inspector.sources.base", "inspector.sources.streams",
                         "inspector.catalog.reads", "inspector.catalog.registry", "inspector.cache",
                         "inspector.cache_kinds", "inspector.codehash", "inspector.errors",
                         "inspector.globmatch")),
    # the commands: everything headless (and the TUI's server for ``serve``), never the CLI
    ("inspector.commands", ("inspector.commands", "inspector.analysis", "inspector.audit",
                            "inspector.cache", "inspector.cache_admin", "inspector.check",
                            "inspector.compare", "inspector.completion", "inspector.config",
                            "inspector.errors", "inspector.fit", "inspector.oci",
                            "inspector.options", "inspector.outfile", "inspector.reference",
                            "inspector.report", "inspector.sources", "inspector.visible",
                            "inspector.vulns", "inspector.tui.serve")),
    ("inspector.check", ("inspector.check", "inspector.analysis", "inspector.classify",
                         "inspector.compare.security", "inspector.errors", "inspector.visible",
                         "inspector.vulns", "inspector.globmatch", "inspector.userfile")),
    ("inspector.completion", ("inspector.sources.samples",)),
    ("inspector.sources.daemon", ("inspector.sources", "inspector.oci", "inspector.errors",
                                  "inspector.options", "inspector.cache", "inspector.visible")),
]


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    assert "inspector.cli" in graph["inspector.__main__"]
    assert "inspector.report.compare" in graph["inspector.cli"]  # imported inside a function


@pytest.mark.parametrize(("name", "modules"), NO_CIRCLES, ids=[n for n, _ in NO_CIRCLES])
def test_no_import_circle(name, modules):
    graph = import_graph()
    assert all(any(covers(m, g) for g in graph) for m in modules), "a listed module is gone"
    for circle in circles(graph):
        inside = sorted(c for c in circle if any(covers(m, c) for m in modules))
        assert not inside, f"{name}: {', '.join(inside)} on the circle {sorted(circle)}"


@pytest.mark.parametrize(("importers", "allowed"), MAY_IMPORT, ids=[r[0] for r in MAY_IMPORT])
def test_may_import(importers, allowed):
    graph = import_graph()
    broken = []
    for module, targets in sorted(graph.items()):
        rule = max((r for r in MAY_IMPORT if covers(r[0], module)), key=lambda r: len(r[0]), default=None)
        if rule is None or rule[0] != importers:
            continue  # a more specific row rules this module
        broken += [f"{module} → {t}" for t in sorted(targets) if not any(covers(a, t) for a in allowed)]
    assert not broken, "; ".join(broken)


def test_circles_finds_a_circle():
    graph = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset({"a"})}
    assert circles(graph) == [{"a", "b", "c"}]
    assert circles({"a": frozenset({"b"}), "b": frozenset()}) == []


#: (module, what importing it must not load): the walker's capture table is built without
#: the catalogers, the merge or the layer step (measured in a fresh interpreter)
LIGHT_IMPORTS = [
    ("inspector.index.capture", ("inspector.catalog.builder", "inspector.catalog.dpkg",
                                 "inspector.catalog.fspath", "inspector.index.merge",
                                 "inspector.index.layerstep")),
    ("inspector.index.tarscan", ("inspector.catalog.builder", "inspector.index.merge")),
]


@pytest.mark.parametrize(("name", "unwanted"), LIGHT_IMPORTS, ids=[n for n, _ in LIGHT_IMPORTS])
def test_importing_does_not_load(name, unwanted):
    code = f"import sys, {name}; print(sorted(m for m in {unwanted!r} if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]", f"import {name} loads {proc.stdout.strip()}"
