"""Import hygiene. Only ``inspector/tui/`` may import textual or rich: the headless core
stays headless (every other module imported into a fresh interpreter, then ``sys.modules``
is checked; and no import statement outside ``tui/`` names them). The import graph of
``inspector/`` (imports inside functions too) has no circle anywhere, and follows the
architecture page's "may import" table, written down here as ``MAY_IMPORT``: every module
is ruled by a row, and the page's table and the rows name the same packages."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import pytest

from inspector.commands import NAMES

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


def _imported(tree: ast.AST, known: dict[str, Path], typing: bool = False) -> Iterator[str]:
    """The inspector modules a file imports, at any depth (function bodies too); an ``if
    TYPE_CHECKING:`` block is left out (it never runs) unless ``typing``. ``from pkg import
    name`` counts as importing ``pkg.name`` when that is a module."""
    todo = [tree]
    while todo:
        node = todo.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking_only(child) and not typing:
                todo.extend(child.orelse)
                continue
            if isinstance(child, ast.Import):
                yield from (alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                for alias in child.names:
                    full = f"{child.module}.{alias.name}"
                    yield full if full in known else child.module
            todo.append(child)


@lru_cache(maxsize=2)
def import_graph(typing: bool = False) -> dict[str, frozenset[str]]:
    """module → the inspector modules it imports (file to file); with ``typing``, the
    imports for the type checker only (``if TYPE_CHECKING:``) too."""
    known = _module_files()
    return {name: frozenset(m for m in _imported(ast.parse(path.read_text()), known, typing)
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
    """``inspector.index`` covers the package and every module under it; ``inspector``
    (the package's ``__init__``) covers only itself."""
    return module == pattern or (pattern != "inspector" and module.startswith(pattern + "."))


#: circles the whole-graph check tolerates for now: (package, why, what removes it).
#: Empty: no module of inspector/ sits on an import circle (issue 29 item 2).
CIRCLE_EXCEPTIONS: list[tuple[str, str, str]] = []


#: groups that must sit on no import circle even counting the imports for the type checker
#: only (``if TYPE_CHECKING:``): (name, modules). state.py once imported the app for its
#: type, the app imports the screens, the screens import state: a circle in the design
NO_TYPED_CIRCLES = [("the TUI", ["inspector.tui"])]

#: the TUI's modules below the widgets and screens (no screen, no app)
TUI_SUPPORT = tuple(f"inspector.tui.{m}" for m in (
    "binary", "bindings", "commands", "export", "format", "loader", "messages", "overview",
    "paths", "scan", "serve", "shown", "state"))

#: the architecture page's "may import" table as data ("Packages and what each may import"),
#: one row per row of the page, plus the package's ``__init__`` and ``__main__``:
#: (modules, what they may import of inspector). A name covers a package and everything
#: under it, except ``inspector`` itself (the package's ``__init__``: ``__version__``),
#: which covers only itself; the most specific row rules a module. As the page says, every
#: module may also import its own package (``own_package``: not in ``tui/``, whose rows say
#: which of its parts) and ``userfile`` and ``globmatch`` (``ANY``). ``()`` is the
#: standard library only.
ROOT_PACKAGE = "inspector"
#: "any module may import ``userfile`` and ``globmatch``"
ANY = ("inspector.userfile", "inspector.globmatch")
#: the page's "analysis and below": the rows from ``visible`` to ``analysis_cache``
BELOW_ANALYSIS = ("inspector.analysis", "inspector.analysis_cache", "inspector.classify",
                  "inspector.catalog", "inspector.index", "inspector.sources",
                  "inspector.content", "inspector.cache", "inspector.cache_admin",
                  "inspector.cache_kinds", "inspector.codehash", "inspector.options",
                  "inspector.oci", "inspector.reference", "inspector.errors",
                  "inspector.visible", *ANY)
#: the page's "the products": the headless products (each builds on those its row names)
PRODUCTS = ("inspector.compare", "inspector.report", "inspector.check", "inspector.sbom",
            "inspector.fit", "inspector.audit", "inspector.vulns", "inspector.provenance")
#: the page's "the support modules": the TUI's modules below the widgets and screens
TUI_SUPPORT = tuple(f"inspector.tui.{m}" for m in (
    "binary", "bindings", "commands", "export", "format", "loader", "messages", "overview",
    "paths", "scan", "serve", "shown", "state"))
#: the words of the page's second column for these groups
GROUPS = {"stdlib": (), "analysis and below": BELOW_ANALYSIS, "the products": PRODUCTS,
          "the support modules": TUI_SUPPORT}
MAY_IMPORT = [
    (ROOT_PACKAGE, ()),
    ("inspector.__main__", ("inspector.cli",)),
    ("inspector.visible", ()),
    ("inspector.codehash", ()),
    ("inspector.errors", ("inspector.visible",)),
    ("inspector.reference", ("inspector.errors",)),
    ("inspector.options", ("inspector.oci.platform",)),
    ("inspector.userfile", ("inspector.errors",)),
    ("inspector.globmatch", ()),
    ("inspector.oci", ("inspector.errors",)),
    ("inspector.cache_kinds", ("inspector.codehash",)),
    ("inspector.cache_admin", ("inspector.cache_kinds", "inspector.options")),
    ("inspector.cache", ("inspector.cache_admin", "inspector.cache_kinds", "inspector.codehash",
                         "inspector.errors")),
    ("inspector.sources", ("inspector.oci", "inspector.errors", "inspector.options",
                           "inspector.reference", "inspector.cache", "inspector.cache_admin",
                           "inspector.visible")),
    ("inspector.index", ("inspector.sources.base", "inspector.sources.streams",
                         "inspector.catalog.reads", "inspector.catalog.registry", "inspector.cache",
                         "inspector.cache_kinds", "inspector.codehash", "inspector.errors")),
    ("inspector.catalog.reads", ()),
    ("inspector.catalog.registry", ("inspector.catalog.reads",)),
    ("inspector.catalog", ("inspector.index", "inspector.errors")),
    ("inspector.classify", ("inspector.catalog", "inspector.index", "inspector.errors")),
    ("inspector.content", ("inspector.index", "inspector.sources", "inspector.errors")),
    ("inspector.analysis", BELOW_ANALYSIS),
    ("inspector.analysis_cache", BELOW_ANALYSIS),
    ("inspector.compare", (*BELOW_ANALYSIS, "inspector.report.sizes", "inspector.provenance")),
    ("inspector.report", (*BELOW_ANALYSIS, "inspector.compare", "inspector.sbom", "inspector.vulns",
                          "inspector.provenance", ROOT_PACKAGE)),
    ("inspector.check", (*BELOW_ANALYSIS, "inspector.compare.security", "inspector.vulns",
                         "inspector.provenance")),
    ("inspector.sbom", (*BELOW_ANALYSIS, "inspector.provenance", ROOT_PACKAGE)),
    ("inspector.fit", (*BELOW_ANALYSIS, "inspector.compare", "inspector.report")),
    ("inspector.audit", (*BELOW_ANALYSIS, "inspector.check", "inspector.fit", "inspector.report")),
    ("inspector.vulns", BELOW_ANALYSIS),
    ("inspector.provenance", (*BELOW_ANALYSIS, "inspector.vulns.model")),
    ("inspector.outfile", ("inspector.errors", "inspector.reference", "inspector.sources.samples")),
    ("inspector.completion", ("inspector.sources.samples",)),
    ("inspector.config", (ROOT_PACKAGE, "inspector.errors", "inspector.oci", "inspector.visible",
                          "inspector.index.tarscan")),
    # the TUI: everything headless, never the CLI or its commands. Inside it (the page's
    # "The TUI's structure"): only the app imports a screen (its routing: a screen opens
    # another through ``state.AppState``), a screen no other screen but their base class,
    # a widget no screen; nothing in tui/ imports the app
    ("inspector.tui", (*BELOW_ANALYSIS, *PRODUCTS, "inspector.tui.widgets", *TUI_SUPPORT)),
    ("inspector.tui.app", (*BELOW_ANALYSIS, *PRODUCTS, "inspector.tui")),
    ("inspector.tui.screens", (*BELOW_ANALYSIS, *PRODUCTS, "inspector.tui.screens.base",
                               "inspector.tui.widgets", *TUI_SUPPORT)),
    ("inspector.tui.widgets", (*BELOW_ANALYSIS, *PRODUCTS, "inspector.tui.widgets", *TUI_SUPPORT)),
    # the commands: everything headless (and the TUI's server for ``serve``), never the CLI
    ("inspector.commands", (*BELOW_ANALYSIS, *PRODUCTS, "inspector.outfile", "inspector.completion",
                            "inspector.config", "inspector.tui.serve")),
    ("inspector.cli", ("inspector.commands", "inspector.config", "inspector.errors",
                       "inspector.options", "inspector.visible", "inspector.report.compare",
                       "inspector.tui")),
]


def own_package(row: str) -> tuple[str, ...]:
    """What a row may import besides its list: its own package (not in ``tui/``) and ``ANY``."""
    return (*ANY, *(() if covers("inspector.tui", row) else (row,)))


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    assert "inspector.cli" in graph["inspector.__main__"]
    assert "inspector.report.compare" in graph["inspector.cli"]  # imported inside a function


def test_no_import_circle_anywhere():
    """Over the whole import graph (lazy imports included), not only named groups."""
    found = [sorted(c) for c in circles(import_graph())
             if not any(covers(package, m) for package, _, _ in CIRCLE_EXCEPTIONS for m in c)]
    assert not found, f"import circles: {found}"


def test_every_module_has_a_may_import_row():
    """A new package or module cannot escape the table."""
    uncovered = sorted(m for m in import_graph() if rule_of(m) is None)
    assert not uncovered, f"no MAY_IMPORT row covers {uncovered}"


def _module(name: str) -> str:
    """A page name as a module: ``oci/`` → ``inspector.oci``, ``cli.py`` → ``inspector.cli``,
    ``tui.screens.base`` → ``inspector.tui.screens.base``, ``inspector`` → itself."""
    name = name.removesuffix("/").removesuffix(".py").replace("/", ".")
    return ROOT_PACKAGE if name == ROOT_PACKAGE else "inspector." + name


def page_table() -> dict[str, set[str]]:
    """The architecture page's "Packages and what each may import" table: the module of
    each row's first column → the modules its second column allows (names in backticks,
    and the words of ``GROUPS``)."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## Packages and what each may import", 1)[1]
    table = [line for line in section.split("\n\n| package |", 1)[1].split("\n\n", 1)[0].splitlines()
             if line.startswith("|")][1:]
    rows = {}
    for line in table:
        first, second = line.split("|")[1:3]
        (name,) = first.split("`")[1::2]
        allowed = {_module(n) for n in second.split("`")[1::2]}
        words = [w.strip() for w in "".join(second.split("`")[0::2]).split(",")]
        for word in filter(None, words):
            assert word in GROUPS, f"{name}: {word!r} is no group of the page"
            allowed |= set(GROUPS[word])
        rows[_module(name)] = allowed
    return rows


def test_the_page_and_the_rows_name_the_same_modules():
    rows = {r[0] for r in MAY_IMPORT} - {ROOT_PACKAGE, "inspector.__main__"}
    named = set(page_table())
    assert "inspector.cli" in named and "inspector.oci" in named
    assert not named - rows, f"on the page, not in MAY_IMPORT: {sorted(named - rows)}"
    assert not rows - named, f"in MAY_IMPORT, not on the page: {sorted(rows - named)}"


def test_the_page_and_the_rows_allow_the_same():
    """Row by row, the page's second column is ``MAY_IMPORT``'s list."""
    page = page_table()
    differ = {row: (sorted(page[row] - set(allowed)), sorted(set(allowed) - page[row]))
              for row, allowed in MAY_IMPORT if row in page and page[row] != set(allowed)}
    assert not differ, f"(only on the page, only in MAY_IMPORT) per row: {differ}"


def rule_of(module: str) -> tuple[str, tuple[str, ...]] | None:
    """The most specific ``MAY_IMPORT`` row covering ``module``."""
    return max((r for r in MAY_IMPORT if covers(r[0], module)), key=lambda r: len(r[0]),
               default=None)


@pytest.mark.parametrize(("name", "modules"), NO_TYPED_CIRCLES,
                         ids=[n for n, _ in NO_TYPED_CIRCLES])
def test_no_import_circle_counting_type_checking(name, modules):
    graph = import_graph(typing=True)
    assert all(any(covers(m, g) for g in graph) for m in modules), "a listed module is gone"
    for circle in circles(graph):
        inside = sorted(c for c in circle if any(covers(m, c) for m in modules))
        assert not inside, f"{name}: {', '.join(inside)} on the circle {sorted(circle)}"


@pytest.mark.parametrize(("importers", "allowed"), MAY_IMPORT, ids=[r[0] for r in MAY_IMPORT])
def test_may_import(importers, allowed):
    graph = import_graph()
    assert any(covers(importers, m) for m in graph), f"the row {importers} names no module"
    broken = []
    for module, targets in sorted(graph.items()):
        rule = rule_of(module)
        if rule is None or rule[0] != importers:
            continue  # a more specific row rules this module
        ok = (*allowed, *own_package(importers))
        broken += [f"{module} → {t}" for t in sorted(targets) if not any(covers(a, t) for a in ok)]
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
    # the JSON export writes CPEs (``catalog.cpe``): neither the SBOM writers' package (its
    # purl library) nor the scanner overlay (loaded for ``--vulns`` only)
    ("inspector.report.export", ("inspector.sbom", "packageurl", "inspector.vulns")),
    # the CLI imports a command's module when that command runs (``commands.Registry``)
    ("inspector.cli", tuple(f"inspector.commands.{name}" for name in NAMES)),
]


@pytest.mark.parametrize(("name", "unwanted"), LIGHT_IMPORTS, ids=[n for n, _ in LIGHT_IMPORTS])
def test_importing_does_not_load(name, unwanted):
    code = f"import sys, {name}; print(sorted(m for m in {unwanted!r} if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]", f"import {name} loads {proc.stdout.strip()}"


#: the files a module reads as data (named on the page too)
DATA_SUFFIXES = (".py", ".c", ".toml", ".js", ".css")


def _has_code(init: Path) -> bool:
    """Whether a package's ``__init__.py`` defines something (not only a docstring,
    imports and ``__all__``)."""
    return any(isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
               for node in ast.parse(init.read_text()).body)


def test_every_module_is_placed_on_the_page():
    """The page's "Every module, placed" names each file of ``inspector/`` by its path
    (a package's ``__init__.py`` where it defines something)."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## Every module, placed", 1)[1].split("\n## ", 1)[0]
    named = set(section.split("\n- ", 1)[1].split("`")[1::2])  # the list, not its intro
    files = [p for p in sorted(PACKAGE.rglob("*")) if p.suffix in DATA_SUFFIXES
             and "__pycache__" not in p.parts and (p.name != "__init__.py" or _has_code(p))]
    missing = [p.relative_to(PACKAGE).as_posix() for p in files
               if p.relative_to(PACKAGE).as_posix() not in named]
    assert not missing, f"named nowhere in the page's module map: {missing}"
    gone = sorted(n for n in named if n.endswith(DATA_SUFFIXES) and not (PACKAGE / n).exists()
                  and n != "config.toml")  # the user's file, which config.py reads
    assert not gone, f"the module map names files that do not exist: {gone}"
