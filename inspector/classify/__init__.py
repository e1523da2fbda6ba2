"""File categories and findings; the rules are data (``rules.toml``), not code.

``classify_image(fs, catalog)`` gives every non-directory entry of the merged filesystem
exactly one category (first matching rule; busybox and its applet links are ``shell``;
unmatched symlinks take their target's category; the rest is ``application``).
Symlinks and hardlinks count 0 bytes, so the categories' bytes add up to ``fs.file_bytes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from inspector.catalog.fspath import Resolver
from inspector.classify.rules import NO_RULE, Rules, load_rules
from inspector.index.entries import DIR, FILE, HARDLINK, SYMLINK
from inspector.index.merge import IMPLIED_ROW, MergedFS

CATEGORY_ORDER = (
    "shell", "package_manager", "package_database", "core_utilities", "network_tools",
    "interpreter", "compiler_toolchain", "documentation", "locale", "shared_library",
    "certificates", "timezone_data", "configuration", "application",
)
FALLBACK = "application"
BUSYBOX = "busybox"
#: mode bits
SETUID, SETGID, STICKY, WORLD_WRITE = 0o4000, 0o2000, 0o1000, 0o002


@dataclass
class CategoryTotal:
    files: int = 0
    bytes: int = 0
    paths: list[str] = field(default_factory=list)  # sorted, all of them

    def as_json(self) -> dict:
        return {"files": self.files, "bytes": self.bytes, "paths": self.paths}


@dataclass
class Classification:
    #: path → category name, for every non-directory entry
    categories: dict[str, str] = field(default_factory=dict)
    totals: dict[str, CategoryTotal] = field(default_factory=dict)
    findings: dict[str, list[str]] = field(default_factory=lambda: {
        "setuid": [], "setgid": [], "world_writable": [], "login_users": []})


@lru_cache(maxsize=1)
def default_rules() -> Rules:
    return load_rules()


def _is_program(head: bytes | None) -> bool:
    return head is not None and (head.startswith(b"\x7fELF") or head.startswith(b"#!"))


def classify_image(fs: MergedFS, catalog=None, rules: Rules | None = None) -> Classification:
    """Categories, per-category totals (in ``CATEGORY_ORDER``) and findings for ``fs``.
    ``catalog`` is accepted for the pipeline's shape; the rules are by path and content."""
    rules = rules or default_rules()
    names = rules.categories
    result = Classification()
    categories = result.categories
    totals = {name: CategoryTotal() for name in CATEGORY_ORDER}
    for name in names:
        totals.setdefault(name, CategoryTotal())
    findings = result.findings
    setuid, setgid, writable = findings["setuid"], findings["setgid"], findings["world_writable"]
    layers, entries = fs.layers, fs.entries
    rule_for = rules.rule_for
    pending_links: list[str] = []

    for path in fs.sorted_paths():
        packed = entries[path]
        row = packed & 0xFFFFFFFF
        if row == IMPLIED_ROW:
            continue
        index = layers[packed >> 32]
        kind = index.kinds[row]
        mode = index.modes[row]
        if kind != SYMLINK:
            if mode & WORLD_WRITE and not mode & STICKY and kind in (FILE, HARDLINK, DIR):
                writable.append(path)
            if kind != DIR:
                if mode & SETUID:
                    setuid.append(path)
                if mode & SETGID:
                    setgid.append(path)
        if kind == DIR:
            continue
        if kind in (SYMLINK, HARDLINK):
            target = index.targets.get(row) or ""
            if target.rstrip("/").rsplit("/", 1)[-1] == BUSYBOX:
                categories[path] = "shell"
                continue
        rule = rule_for(path, _is_program(index.heads.get(row)) if kind == FILE else False)
        if rule == NO_RULE and kind == SYMLINK:
            pending_links.append(path)
            continue
        categories[path] = names[rule] if rule != NO_RULE else FALLBACK

    if pending_links:
        resolver = Resolver(fs)
        for path in pending_links:
            real = resolver.resolve(path)
            categories[path] = categories.get(real, FALLBACK) if real else FALLBACK

    for path, name in categories.items():
        total = totals[name]
        total.files += 1
        packed = entries[path]
        row = packed & 0xFFFFFFFF
        index = layers[packed >> 32]
        if index.kinds[row] == FILE:
            total.bytes += index.sizes[row]
        total.paths.append(path)
    for total in totals.values():
        total.paths.sort()
    result.totals = totals
    findings["login_users"] = login_users(fs, categories)
    return result


def login_users(fs: MergedFS, categories: dict[str, str]) -> list[str]:
    """``"user:shell"`` for each ``/etc/passwd`` user whose login shell resolves (symlinks
    followed inside the image) to an entry classified ``shell`` — a shell a person could
    log in to. ``nologin``/``false`` exist in most images but are not shells."""
    data = fs.captured("/etc/passwd")
    if not data:
        return []
    resolver = Resolver(fs)
    out = []
    for line in data.decode("utf-8", "surrogateescape").splitlines():
        parts = line.split(":")
        if len(parts) < 7 or not parts[0] or line.startswith("#"):
            continue
        shell = parts[6].strip()
        if not shell.startswith("/"):
            continue
        real = resolver.resolve(shell)
        if real is not None and (categories.get(real) == "shell"
                                 or categories.get(shell) == "shell"):
            out.append(f"{parts[0]}:{shell}")
    return out
