"""The category rules (``rules.toml``), precompiled for one pass over every path.

Matching a path costs a few dict lookups: exact paths and basenames are dicts; a rule's
globs of one kind are one regex alternation for all rules (alternatives in rule order,
each anchored, so the first alternative that matches is the lowest rule); directory rules
are resolved once per distinct directory and cached. No fnmatch per rule per file.

``[[content]]`` rules are numbered before the ``[[rule]]`` path rules, so one lowest-index
match serves both steps: an index below ``content_end`` is generic content, which the
package table does not override. The ``[[package]]`` table is one matcher per packaging
system (``deb``/``apk``/``rpm`` package types), looked up once per package.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

from inspector.errors import InspectorError

GLOB_CHARS = frozenset("*?[")
NO_RULE = 1 << 30
#: catalog package type → the package table's key for its names
PACKAGE_SYSTEMS = {"deb": "debian", "apk": "alpine", "rpm": "fedora"}
#: the packaged rules (package data next to this module; importlib.resources would cost
#: ~30 ms of imports on every run for the same path)
RULES_FILE = Path(__file__).with_name("rules.toml")


def _is_glob(pattern: str) -> bool:
    return not GLOB_CHARS.isdisjoint(pattern)


class _Matcher:
    """Exact strings → lowest rule index; globs → one combined regex."""

    def __init__(self) -> None:
        self.exact: dict[str, int] = {}
        self._globs: list[tuple[int, str]] = []
        self.regex: re.Pattern[str] | None = None
        self.groups: dict[str, int] = {}

    def add(self, rule: int, pattern: str) -> None:
        if _is_glob(pattern):
            self._globs.append((rule, pattern))
        else:
            self.exact.setdefault(pattern, rule)

    def compile(self) -> None:
        if not self._globs:
            return
        parts = []
        for i, (rule, pattern) in enumerate(self._globs):
            name = f"g{i}"
            self.groups[name] = rule
            parts.append(f"(?P<{name}>{fnmatch.translate(pattern)})")
        self.regex = re.compile("|".join(parts))

    def match(self, text: str) -> int:
        best = self.exact.get(text, NO_RULE)
        if self.regex is not None:
            m = self.regex.match(text)
            if m is not None and m.lastgroup is not None:  # a match names its alternative
                rule = self.groups[m.lastgroup]
                if rule < best:
                    best = rule
        return best


class Rules:
    """The compiled rules (a plain class: one is built per process, and a dataclass costs
    every process ~0.7 ms to create at import, a warm export too, which builds none)."""

    def __init__(self, bin_dirs: frozenset[str] = frozenset()) -> None:
        self.categories: list[str] = []  # per rule (content rules first)
        #: rules below this index are [[content]] rules (they win over the package table)
        self.content_end = 0
        #: [[package]] table: one name matcher per package type, and each entry's category
        self.packages: dict[str, _Matcher] = {}
        self.package_categories: list[str] = []
        self.bin_dirs = bin_dirs
        self.paths = _Matcher()
        self.dirs = _Matcher()
        self.commands = _Matcher()
        self.names = _Matcher()
        self._dir_cache: dict[str, int] = {"/": NO_RULE, "": NO_RULE}
        #: basename → lowest ``names`` / ``commands`` rule (memo filled by ``classify_image``)
        self.name_cache: dict[str, int] = {}
        self.command_cache: dict[str, int] = {}

    def dir_rule(self, directory: str) -> int:
        """Lowest rule whose ``dirs`` match ``directory`` or one of its ancestors.
        Iterative (a hostile layer nests thousands of directories): climb to the nearest
        cached ancestor, then fill the cache on the way back down."""
        cache = self._dir_cache
        hit = cache.get(directory)
        if hit is not None:
            return hit
        todo = []
        while hit is None:
            todo.append(directory)
            directory = directory[:directory.rfind("/")] or "/"
            hit = cache.get(directory)
        for directory in reversed(todo):
            hit = min(self.dirs.match(directory), hit)
            cache[directory] = hit
        return hit

    def package_category(self, package_type: str, name: str) -> str | None:
        """The package table's category for an OS package, ``None`` if it is not listed."""
        matcher = self.packages.get(PACKAGE_SYSTEMS.get(package_type, ""))
        if matcher is None:
            return None
        if not matcher.groups:  # compiled on first use: an image has one packaging system
            matcher.compile()
        rule = matcher.match(name)
        return None if rule == NO_RULE else self.package_categories[rule]


def load_rules(text: str | None = None) -> Rules:
    """Parse and precompile the rules (``text`` for tests; default: the packaged file)."""
    if text is None:
        text = RULES_FILE.read_text("utf-8")
    import tomllib  # only when rules are compiled (a warm analysis cache needs none)

    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InspectorError(f"classification rules: not valid TOML ({exc})") from exc
    rules = Rules(bin_dirs=frozenset(doc.get("bin_dirs", ())))
    content = doc.get("content", ())
    rules.content_end = len(content)
    for i, rule in enumerate([*content, *doc.get("rule", ())]):
        rules.categories.append(rule["category"])
        for pattern in rule.get("paths", ()):
            rules.paths.add(i, pattern)
        for pattern in rule.get("dirs", ()):
            rules.dirs.add(i, pattern.rstrip("/") or "/")
        for pattern in rule.get("commands", ()):
            rules.commands.add(i, pattern)
        for pattern in rule.get("names", ()):
            rules.names.add(i, pattern)
    for i, entry in enumerate(doc.get("package", ())):
        unknown = set(entry) - {"category", *PACKAGE_SYSTEMS.values()}
        if unknown:
            raise InspectorError(f"classification rules: [[package]] {entry.get('category')!r}: "
                                 f"unknown key(s) {sorted(unknown)} (use "
                                 f"{', '.join(PACKAGE_SYSTEMS.values())})")
        rules.package_categories.append(entry["category"])
        for system in PACKAGE_SYSTEMS.values():
            for pattern in entry.get(system, ()):
                rules.packages.setdefault(system, _Matcher()).add(i, pattern)
    for matcher in (rules.paths, rules.dirs, rules.commands, rules.names):
        matcher.compile()
    if any(_is_glob(p) for p in rules.paths.exact) or rules.paths.regex is not None:
        raise InspectorError("classification rules: `paths` must be exact (use `dirs` or `names`)")
    return rules
