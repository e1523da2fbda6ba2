"""File categories and findings; the rules are data (``rules.toml``), not code.

``classify_image(fs, catalog)`` is the entry point ``analysis`` calls (issue 4 fills it in)."""

from __future__ import annotations

from dataclasses import dataclass, field

from inspector.index.merge import MergedFS

CATEGORY_ORDER = (
    "shell", "package_manager", "package_database", "core_utilities", "network_tools",
    "interpreter", "compiler_toolchain", "documentation", "locale", "shared_library",
    "certificates", "timezone_data", "configuration", "application",
)


@dataclass
class CategoryTotal:
    files: int = 0
    bytes: int = 0
    paths: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"files": self.files, "bytes": self.bytes, "paths": self.paths}


@dataclass
class Classification:
    #: path → category name, for every non-directory entry
    categories: dict[str, str] = field(default_factory=dict)
    totals: dict[str, CategoryTotal] = field(default_factory=dict)
    findings: dict[str, list[str]] = field(default_factory=lambda: {
        "setuid": [], "setgid": [], "world_writable": [], "login_users": []})


def classify_image(fs: MergedFS, catalog) -> Classification:
    return Classification()
