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
#: basenames remembered between calls (per rules) before the memo is cleared
NAME_CACHE_MAX = 1 << 18
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
    dir_rule, paths_exact = rules.dir_rule, rules.paths.exact
    names_match, commands_match, bin_dirs = rules.names.match, rules.commands.match, rules.bin_dirs
    by_name, by_command = rules.name_cache, rules.command_cache
    if len(by_name) > NAME_CACHE_MAX or len(by_command) > NAME_CACHE_MAX:
        by_name.clear()
        by_command.clear()
    pending_links: list[str] = []
    per_rule = [totals[name] for name in names]
    fallback = totals[FALLBACK]
    shell = totals["shell"]

    last_parent, parent_rule, parent_bin = None, NO_RULE, False
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
        if kind == SYMLINK or kind == HARDLINK:
            target = index.targets.get(row) or ""
            if target.rstrip("/").rpartition("/")[2] == BUSYBOX:
                categories[path] = "shell"
                shell.files += 1
                shell.paths.append(path)
                continue
        parent, _, base = path.rpartition("/")
        parent = parent or "/"
        if parent != last_parent:  # sorted paths: siblings come together
            last_parent, parent_rule, parent_bin = parent, dir_rule(parent), parent in bin_dirs
        best = parent_rule
        rule = paths_exact.get(path, NO_RULE)
        if rule < best:
            best = rule
        rule = by_name.get(base)
        if rule is None:
            rule = by_name[base] = names_match(base)
        if rule < best:
            best = rule
        if parent_bin or (kind == FILE and mode & 0o111 and _is_program(index.heads.get(row))):
            rule = by_command.get(base)
            if rule is None:
                rule = by_command[base] = commands_match(base)
            if rule < best:
                best = rule
        if best == NO_RULE:
            if kind == SYMLINK:
                pending_links.append(path)
                continue
            total = fallback
            categories[path] = FALLBACK
        else:
            total = per_rule[best]
            categories[path] = names[best]
        total.files += 1
        if kind == FILE:
            total.bytes += index.sizes[row]
        total.paths.append(path)

    if pending_links:  # unmatched symlinks: their target's category (0 bytes either way)
        resolver = Resolver(fs)
        touched = set()
        for path in pending_links:
            real = resolver.resolve(path)
            name = categories.get(real, FALLBACK) if real else FALLBACK
            categories[path] = name
            total = totals[name]
            total.files += 1
            total.paths.append(path)
            touched.add(name)
        for name in touched:
            totals[name].paths.sort()
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
