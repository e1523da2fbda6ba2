"""File categories and findings; the rules are data (``rules.toml``), not code.

``classify_image(fs, catalog)`` gives every non-directory entry of the merged filesystem
exactly one category. Evidence, in order (``rules.toml`` says it in full): busybox and its
applet links are ``shell``; generic content by path (docs, locales, time zones,
certificates, development files, libraries); the owning OS package's table category for
its executables; path rules; an unmatched symlink takes its target's category; the rest is
``system`` when an OS package owns it, else ``application``. A file an OS package owns is
never ``application``.
Symlinks and hardlinks count 0 bytes, so the categories' bytes add up to ``fs.file_bytes``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache
from itertools import compress
from typing import overload

from inspector.catalog.fspath import Resolver
from inspector.classify.rows import (
    FALLBACK,
    OWNED_FALLBACK,
    SHELL,
    row_rules,
    tally_rows,
    tally_rows_c,
)
from inspector.classify.rules import NO_RULE, Rules, load_rules
from inspector.index.entries import DIR, FILE, HARDLINK, SYMLINK
from inspector.index.merge import MergedFS

#: the category contract (export, compare, TUI order): what distroless strips leads
CATEGORY_ORDER = (
    "shell", "package_manager", "package_database", "core_utilities", "network_tools",
    "interpreter", "compiler_toolchain", "development", "documentation", "locale",
    "shared_library", "certificates", "timezone_data", "configuration", "system",
    "application",
)
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
class Findings:
    """What a security reviewer asks about first; each list sorted by path."""

    setuid: list[str] = field(default_factory=list)  # files with the setuid bit
    setgid: list[str] = field(default_factory=list)  # files with the setgid bit
    #: files and directories anyone may write (sticky directories such as /tmp excepted)
    world_writable: list[str] = field(default_factory=list)
    #: ``"user:shell"`` for /etc/passwd users whose login shell is a real shell here
    login_users: list[str] = field(default_factory=list)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def items(self) -> list[tuple[str, list[str]]]:
        return [(name, getattr(self, name)) for name in self.names()]

    def as_json(self) -> dict[str, list[str]]:
        return dict(self.items())

    @overload
    def get(self, name: str) -> list[str] | None: ...
    @overload
    def get(self, name: str, default: list[str]) -> list[str]: ...

    def get(self, name: str, default: list[str] | None = None) -> list[str] | None:
        """One finding by its name (for names that come from data: a gate's config)."""
        return getattr(self, name) if name in self.names() else default

    @classmethod
    def from_json(cls, data: dict) -> Findings:
        return cls(**{name: list(data.get(name, ())) for name in cls.names()})


#: the findings' names, in their display order
FINDING_NAMES = Findings.names()


#: the code of "no category" (directories) in ``Classification.codes``
NO_CODE = 255


class Classification:
    """Every non-directory entry's category, per-category totals, findings.

    Categories are kept as a column: ``codes[i]`` is the category (an index into
    ``names``, ``NO_CODE`` for none) of ``paths[i]``, where ``paths`` is the merged
    filesystem's ``sorted_paths()``. The ``path → name`` map (``categories``) is built
    only when something asks for all of it; on a million entries that dict costs ~0.3 s
    and ~100 MB, and neither the export, the cache nor the TUI's first paint need it."""

    def __init__(self, categories: dict[str, str] | None = None,
                 totals: dict[str, CategoryTotal] | None = None,
                 findings: Findings | None = None, *, codes: bytes | bytearray | None = None,
                 names: Sequence[str] = (), paths: list[str] | None = None) -> None:
        self.totals = totals if totals is not None else {}
        self.findings = findings if findings is not None else Findings()
        if codes is not None and (paths is None or len(paths) != len(codes)):
            raise ValueError("a category column needs the paths it is aligned with")
        self.codes, self.paths = codes, paths
        self.names = names if isinstance(names, list) else list(names)
        self._categories = categories if categories is not None or codes is not None else {}

    @property
    def categories(self) -> dict[str, str]:
        """path → category name, for every non-directory entry (built on first use)."""
        if self._categories is None:
            assert self.codes is not None and self.paths is not None
            self._categories = categories_map(self.paths, self.codes, self.names)
        return self._categories

    def category_of(self, path: str) -> str | None:
        """``categories.get(path)`` without building the map (a bisect in the column)."""
        if self._categories is not None:
            return self._categories.get(path)
        assert self.codes is not None and self.paths is not None
        paths = self.paths
        i = bisect_left(paths, path)
        if i == len(paths) or paths[i] != path or self.codes[i] == NO_CODE:
            return None
        return self.names[self.codes[i]]

    def count(self) -> int:
        """How many entries have a category (``len(categories)``)."""
        if self.codes is not None:
            return len(self.codes) - self.codes.count(NO_CODE)
        return len(self.categories)

    def column(self, paths: list[str]) -> tuple[bytes | bytearray, list[str]]:
        """``(codes, names)`` for ``paths`` (the filesystem's sorted paths): the stored
        column when it is aligned with them, else one made from the map."""
        if self.codes is not None and (self.paths is paths or self.paths == paths):
            return self.codes, self.names
        names = sorted(set(self.categories.values()))
        code = {name: i for i, name in enumerate(names)}
        code[None] = NO_CODE  # type: ignore[index]
        return bytes(map(code.__getitem__, map(self.categories.get, paths))), names  # type: ignore[arg-type]


def categories_map(paths: list[str], codes: bytes | bytearray, names: Sequence[str]) -> dict[str, str]:
    """``path → name`` from a code column, without a Python-level loop per path:
    ``bytes.translate`` makes the mask, ``compress`` applies it."""
    coded = bytearray(b"\1" * 256)
    coded[NO_CODE] = 0
    keep = codes.translate(coded)
    return dict(zip(compress(paths, keep), map(names.__getitem__, compress(codes, keep)),
                    strict=True))


@lru_cache(maxsize=1)
def default_rules() -> Rules:
    return load_rules()


def classify_image(fs: MergedFS, catalog=None, rules: Rules | None = None) -> Classification:
    """Categories, per-category totals (in ``CATEGORY_ORDER``) and findings for ``fs``.
    ``catalog`` gives each file's owning package (its evidence next to the path); without
    it every file counts as unowned."""
    cls = categorize(fs, catalog, rules or default_rules())
    cls.findings = find_findings(fs, cls)
    return cls


class _Codes(dict):
    """category name → its code, assigned in order of first use; ``names`` by code."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def __missing__(self, name: str) -> int:
        if len(self) >= NO_CODE:
            raise ValueError(f"more than {NO_CODE} categories")
        code = self[name] = len(self)
        self.names.append(name)
        return code


def categorize(fs: MergedFS, catalog, rules: Rules) -> Classification:
    """The category of every non-directory entry (as a column over ``fs.sorted_paths()``)
    and the per-category totals; no findings yet. The per-entry loop runs in C when the
    accelerator is built (``_tarscan.classify_rows``: the same decisions, the same rule
    tables and memos), else in Python (``rows.tally_rows``, the reference)."""
    by_name, by_command = rules.name_cache, rules.command_cache
    if len(by_name) > NAME_CACHE_MAX or len(by_command) > NAME_CACHE_MAX:
        by_name.clear()
        by_command.clear()
    paths = fs.sorted_paths()
    loop = row_rules(rules, catalog)
    state = _State(paths, rules)
    if not tally_rows_c(fs, loop, state.codes, state.code_of, state.totals, state.pending):
        state = _State(paths, rules)  # (a declined C pass may have filled some of it)
        tally_rows(fs, loop, state.codes, state.code_of, state.totals, state.pending)
    cls = Classification(totals=state.totals, codes=state.codes, names=state.code_of.names,
                         paths=paths)
    if state.pending:
        _classify_links(fs, rules, cls, state.code_of, state.pending)
    cls.codes = bytes(state.codes)
    return cls


class _State:
    """What the per-entry loop fills: codes, totals, the symlinks left for later."""

    def __init__(self, paths: list[str], rules: Rules) -> None:
        self.codes = bytearray(b"\xff" * len(paths))  # NO_CODE
        self.code_of = _Codes()
        self.code_of[SHELL]  # code 0, as both loops number them
        self.totals = {name: CategoryTotal() for name in CATEGORY_ORDER}
        for name in (*rules.categories, *rules.package_categories):
            self.totals.setdefault(name, CategoryTotal())
        self.pending: list[tuple[int, str, bool]] = []


def find_findings(fs: MergedFS, cls: Classification) -> Findings:
    """setuid/setgid files, world-writable entries (not sticky directories), login users.
    Apart from categorizing and cheap: per layer, the rows with a special mode bit are
    picked in C (``compress`` over the mode column); only those are looked at, and only
    if that row is what the merged filesystem shows at its path."""
    findings = Findings()
    setuid, setgid, writable = findings.setuid, findings.setgid, findings.world_writable
    is_at = fs.is_at
    special = SETUID | SETGID | WORLD_WRITE
    for li, index in enumerate(fs.layers):
        modes, kinds, paths = index.modes, index.kinds, index.paths
        for row in compress(range(len(modes)), map(special.__and__, modes)):
            path = paths[row]
            if not is_at(path, li, row):
                continue  # replaced or removed by a later layer
            mode, kind = modes[row], kinds[row]
            if kind == SYMLINK:
                continue
            if mode & WORLD_WRITE and not mode & STICKY and kind in (FILE, HARDLINK, DIR):
                writable.append(path)
            if kind != DIR:
                if mode & SETUID:
                    setuid.append(path)
                if mode & SETGID:
                    setgid.append(path)
    for found in (setuid, setgid, writable):
        found.sort()
    findings.login_users = login_users(fs, cls)
    return findings


def _classify_links(fs: MergedFS, rules: Rules, cls: Classification, code_of: _Codes,
                    links: list[tuple[int, str, bool]]) -> None:
    """Symlinks no rule names take their target's category (0 bytes either way): a file's
    category, or a directory's rule (``/usr/local/man`` → documentation); a link an OS
    package owns is ``system`` where that would say ``application``."""
    resolver = Resolver(fs)
    totals, codes = cls.totals, cls.codes
    assert isinstance(codes, bytearray)  # still being filled in
    touched = set()
    for i, path, owned in links:
        real = resolver.resolve(path)
        name = cls.category_of(real) if real else None
        if name is None and real is not None and fs.kind(real) == DIR:
            rule = rules.dir_rule(real)
            name = rules.categories[rule] if rule != NO_RULE else None
        if name is None or name == FALLBACK:
            name = OWNED_FALLBACK if owned else FALLBACK
        codes[i] = code_of[name]
        total = totals[name]
        total.files += 1
        total.paths.append(path)
        touched.add(name)
    for name in touched:
        totals[name].paths.sort()


def login_users(fs: MergedFS, cls: Classification) -> list[str]:
    """``"user:shell"`` for each ``/etc/passwd`` user whose login shell resolves (symlinks
    followed inside the image) to an entry classified ``shell`` — a shell a person could
    log in to. ``nologin``/``false`` exist in most images but are not shells."""
    data = fs.captured("/etc/passwd")
    if not data:
        return []
    resolver = Resolver(fs)
    out = []
    # glibc reads /etc/passwd a line per "\n"; str.splitlines() would also break at
    # "\r", "\x0b", "\x85", U+2028 … and turn "ok\rEVIL:…" into a user EVIL
    for line in data.decode("utf-8", "surrogateescape").split("\n"):
        parts = line.split(":")
        if len(parts) < 7 or not parts[0] or line.startswith("#"):
            continue
        shell = parts[6].strip()
        if not shell.startswith("/"):
            continue
        real = resolver.resolve(shell)
        if real is not None and (cls.category_of(real) == SHELL
                                 or cls.category_of(shell) == SHELL):
            out.append(f"{parts[0]}:{shell}")
    return out
