"""Package types and purls spelled once (issue 29 item 7): each cataloger module takes its
type from its registry row and builds its own purl (as syft keeps ``packageURL`` in each
cataloger package); ``Package.type``'s ``Literal`` is exactly the registered types; the
SBOM asks the cataloger of a package's type and knows no type itself."""

from __future__ import annotations

import ast
from importlib import import_module
from pathlib import Path
from typing import get_args

from inspector.catalog.builder import OSInfo, Package, PackageType, Purl, purl
from inspector.catalog.registry import CATALOGERS, module_of

ROOT = Path(__file__).resolve().parents[2]


def test_the_literal_is_the_registered_types():
    assert sorted(get_args(PackageType)) == sorted(c.type for c in CATALOGERS)
    assert len({c.type for c in CATALOGERS}) == len(CATALOGERS), "a type reported twice"


def test_each_cataloger_exports_its_type_and_purl():
    debian = OSInfo("debian", "12")
    for row in CATALOGERS:
        module = import_module(f"inspector.catalog.{row.module}")
        assert module.TYPE == row.type, row.module
        assert module_of(row.type) == module.__name__
        p = Package(module.TYPE, "name", "1.0")
        assert purl(p, debian) == module.purl(p, debian), row.module


#: (name, package, the purl fields): a type no cataloger reports still gets a purl
UNREGISTERED = [
    ("unknown type", Package("cargo", "serde", "1.0"), Purl("generic", None, "serde", "1.0", {})),  # type: ignore[arg-type]
    ("unknown type, no version", Package("x", "y", ""), Purl("generic", None, "y", None, {})),  # type: ignore[arg-type]
]


def test_a_type_no_cataloger_reports_is_generic():
    for name, package, expected in UNREGISTERED:
        assert purl(package, OSInfo()) == expected, name


def test_sbom_names_no_package_type():
    """The purl if-chain is gone: the SBOM module compares ``.type`` with no literal."""
    tree = ast.parse((ROOT / "inspector" / "sbom" / "__init__.py").read_text())
    types = set(get_args(PackageType))
    literals = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    assert not literals & types, sorted(literals & types)
