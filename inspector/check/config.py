"""The rules file of ``inspector check``: TOML (``rules.example.toml`` documents every key),
or dive's ``.dive-ci`` (YAML) read unchanged.

A TOML file runs exactly the rules it names under ``[rules]``; a rule set to ``false`` or
``"disabled"`` is off; ``warn_only = ["key", …]`` makes those rules report without failing.
A ``.dive-ci`` runs dive's three rules, with dive's defaults for the keys it omits
(dive ``options/ci.go``: the file is applied on top of ``DefaultCIRules``). With no file,
``DEFAULT_RULES`` apply. Every mistake raises ``RulesError`` naming the file, line and key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inspector.errors import RulesError

#: dive's CI rule keys (camelCase, as ``.dive-ci`` spells them) → its snake-case spelling
DIVE_KEYS = {"lowestEfficiency": "lowest-efficiency", "highestWastedBytes": "highest-wasted-bytes",
             "highestUserWastedPercent": "highest-user-wasted-percent"}
#: dive ``options/ci_rules.go`` ``DefaultCIRules``
DIVE_DEFAULTS = {"lowestEfficiency": "0.9", "highestWastedBytes": "disabled",
                 "highestUserWastedPercent": "0.1"}
#: rule key → the kind of value it takes
OUR_KEYS = {
    "forbid_categories": "names", "forbid_paths": "names", "forbid_packages": "names",
    "max_size": "bytes", "max_files_size": "bytes", "max_files": "count",
    "forbid_setuid": "flag", "forbid_world_writable": "flag", "forbid_login_users": "flag",
    "require_nonroot_user": "flag",
    "max_vulns": "severities",  # {critical = 0, high = 5}: needs --vulns (inspector.vulns)
}
RULE_ORDER = (*OUR_KEYS, *DIVE_KEYS)
#: the rules when no file is given: no shell, no package manager, no risky modes, and
#: dive's defaults; a root user only warns (most distroless tags run as root)
DEFAULT_TOML = """\
warn_only = ["require_nonroot_user"]

[rules]
forbid_categories = ["shell", "package_manager"]
forbid_setuid = true
forbid_world_writable = true
forbid_login_users = true
require_nonroot_user = true
lowestEfficiency = 0.9
highestWastedBytes = "disabled"
highestUserWastedPercent = 0.1
"""
#: go-humanize ``ParseBytes`` units (case-insensitive; ``k``/``kb`` are 1000, ``ki``/``kib`` 1024)
_UNITS = {"": 1, "b": 1}
for _i, _p in enumerate("kmgtpe", 1):
    _UNITS.update({_p: 1000 ** _i, _p + "b": 1000 ** _i, _p + "i": 1024 ** _i, _p + "ib": 1024 ** _i})
_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([a-z]*)\s*$")
_OFF = ("", "disabled", "off", "false")


@dataclass
class Rule:
    key: str
    value: object  # list[str] | int | float | bool, parsed
    config: str  # the value as configured, for the report
    warn_only: bool = False

    @property
    def names(self) -> list[str]:
        """The value of a list rule (categories, path globs, package globs)."""
        if not isinstance(self.value, list):
            raise TypeError(f"rule {self.key} does not take a list")
        return self.value

    @property
    def limit(self) -> float:
        """The value of a numeric rule (bytes, a count, a ratio), unchanged (an int stays one)."""
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            raise TypeError(f"rule {self.key} does not take a number")
        return self.value


@dataclass
class RuleSet:
    rules: list[Rule]
    source: str  # the file, or "defaults"


def parse_bytes(text: str) -> int:
    """``"20MB"`` → 20000000, ``"1.5 GiB"`` → 1610612736 (go-humanize's units)."""
    m = _SIZE.match(text.lower())
    if not m or m.group(2) not in _UNITS:
        raise ValueError(f"not a size: {text!r} (e.g. 50MB, 48MiB, 1000000)")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def _line_of(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^[ \t]*[\"']?{re.escape(key)}[\"']?[ \t]*[=:]", re.M)
    m = pattern.search(text)
    return text.count("\n", 0, m.start()) + 1 if m else None


class _Where:
    def __init__(self, path: str, text: str) -> None:
        self.path, self.text = path, text

    def error(self, key: str, message: str) -> RulesError:
        line = _line_of(self.text, key)
        at = f"line {line}: " if line else ""
        return RulesError(f"{self.path}: {at}{key}: {message}",
                          hint="see inspector/check/rules.example.toml")


def dive_rule(key: str, raw: object, where: _Where) -> Rule | None:
    """One of dive's rules from its configured value, parsed as dive does (``None`` when
    disabled: ``""``, ``disabled``, ``off``, ``false``)."""
    text = str(raw).lower() if isinstance(raw, bool) else str(raw)
    if text.strip().lower() in _OFF:
        return None
    try:
        value: float | int = parse_bytes(text) if key == "highestWastedBytes" else float(text)
    except ValueError as exc:
        raise where.error(key, f"invalid value {text!r}: {exc}") from None
    if key != "highestWastedBytes" and not 0 <= value <= 1:
        raise where.error(key, f"outside the allowed range (0-1): {text}")
    return Rule(key, value, text)


def _our_rule(key: str, raw: object, where: _Where,
              categories: Callable[[list[str]], set[str]]) -> Rule | None:
    kind = OUR_KEYS[key]
    if raw is False or (isinstance(raw, str) and raw.strip().lower() in _OFF):
        return None
    if kind == "flag":
        if raw is not True:
            raise where.error(key, f"expected true or false, got {raw!r}")
        return Rule(key, True, "true")
    if kind == "severities":
        return _severities_rule(key, raw, where)
    if kind == "names":
        if not isinstance(raw, list) or not all(isinstance(v, str) and v for v in raw):
            raise where.error(key, f"expected a list of strings, got {raw!r}")
        if key == "forbid_categories":
            known = categories(raw)
            unknown = sorted(set(raw) - known)
            if unknown:
                raise where.error(key, f"unknown categories {', '.join(unknown)} "
                                       f"(known: {', '.join(sorted(known))})")
        return Rule(key, list(raw), ", ".join(raw))
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise where.error(key, f"expected a number{' or a size' if kind == 'bytes' else ''}, "
                               f"got {raw!r}")
    try:
        value = parse_bytes(str(raw)) if kind == "bytes" else int(str(raw))
    except ValueError as exc:
        raise where.error(key, str(exc)) from None
    if value < 0:
        raise where.error(key, f"must not be negative: {raw!r}")
    return Rule(key, value, str(raw))


def _severities_rule(key: str, raw: object, where: _Where) -> Rule:
    """``{critical = 0, high = 5}``: at most that many findings of each severity named
    (each severity on its own), from the scanner report given with ``--vulns``."""
    from inspector.vulns.model import SEVERITIES

    if not isinstance(raw, dict) or not raw:
        raise where.error(key, f"expected a table of severity limits, e.g. "
                               f"{{critical = 0, high = 5}}, got {raw!r}")
    for name, limit in raw.items():
        if name not in SEVERITIES:
            raise where.error(key, f"unknown severity {name!r} (known: {', '.join(SEVERITIES)})")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise where.error(key, f"{name}: expected a count (0 or more), got {limit!r}")
    return Rule(key, dict(raw), ", ".join(f"{k}={v}" for k, v in raw.items()))


def known_categories(names: list[str] | None = None) -> set[str]:
    """The category names the classifier gives: ``CATEGORY_ORDER``, and only when ``names``
    has others, the categories its rules file names (compiling the rules costs ~0.1 s)."""
    from inspector.classify import CATEGORY_ORDER, FALLBACK, default_rules

    known = {*CATEGORY_ORDER, FALLBACK}
    if names is None or not set(names) <= known:
        known |= set(default_rules().categories)
    return known


def parse_toml(text: str, path: str = "rules") -> RuleSet:
    where = _Where(path, text)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: not valid TOML: {exc}") from None
    for key in doc:
        if key not in ("rules", "warn_only"):
            raise where.error(key, "unknown top-level key (expected [rules] and warn_only)")
    table = doc.get("rules", {})
    if not isinstance(table, dict):
        raise where.error("rules", "expected a [rules] table")
    warn = doc.get("warn_only", [])
    if not isinstance(warn, list) or not all(isinstance(k, str) for k in warn):
        raise where.error("warn_only", f"expected a list of rule keys, got {warn!r}")
    snake = {v: k for k, v in DIVE_KEYS.items()}
    table = {snake.get(k, k): v for k, v in table.items()}
    for key in table:
        if key not in RULE_ORDER:
            raise where.error(key, f"unknown rule (known: {', '.join(RULE_ORDER)})")
    for key in warn:
        if key not in RULE_ORDER:
            raise where.error("warn_only", f"unknown rule {key!r} (known: {', '.join(RULE_ORDER)})")
    rules = []
    for key in RULE_ORDER:
        if key not in table:
            continue
        rule = (dive_rule(key, table[key], where) if key in DIVE_KEYS
                else _our_rule(key, table[key], where, known_categories))
        if rule is not None:
            rule.warn_only = key in warn
            rules.append(rule)
    return RuleSet(rules, path)


def parse_dive_ci(text: str, path: str = ".dive-ci") -> RuleSet:
    """dive's ``.dive-ci``: YAML with a ``rules:`` mapping; other keys are ignored, as dive
    ignores them."""
    import yaml

    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise RulesError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    where = _Where(path, text)
    table = doc.get("rules") if isinstance(doc, dict) else None
    if table is None:
        table = {}
    if not isinstance(table, dict):
        raise where.error("rules", "expected a mapping of dive rules")
    values = dict(DIVE_DEFAULTS)
    for key in DIVE_KEYS:
        if table.get(key) is not None:
            values[key] = table[key]
    rules = [dive_rule(key, values[key], where) for key in DIVE_KEYS]
    return RuleSet([r for r in rules if r is not None], path)


def is_dive_ci(path: Path, text: str) -> bool:
    if path.name == ".dive-ci" or path.suffix in (".yaml", ".yml"):
        return True
    return path.suffix != ".toml" and re.search(r"^rules:\s*(#.*)?$", text, re.M) is not None


def load(path: str | None) -> RuleSet:
    """The rules in ``path`` (TOML or ``.dive-ci``), or the defaults."""
    if path is None:
        rules = parse_toml(DEFAULT_TOML, "defaults")
        rules.source = "defaults"
        return rules
    file = Path(path)
    try:
        text = file.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"cannot read the rules file {path}: "
                         f"{getattr(exc, 'strerror', None) or exc}") from None
    return parse_dive_ci(text, path) if is_dive_ci(file, text) else parse_toml(text, path)
