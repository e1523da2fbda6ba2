"""The rules file of ``inspector check``: TOML (``rules.example.toml`` documents every key),
or dive's ``.dive-ci`` (YAML) read unchanged.

A TOML file runs exactly the rules it names under ``[rules]``; a rule set to ``false`` or
``"disabled"`` is off; ``warn_only = ["key", …]`` makes those rules report without failing.
A ``.dive-ci`` runs dive's three rules, with dive's defaults for the keys it omits
(dive ``options/ci.go``: the file is applied on top of ``DefaultCIRules``). With no file,
``DEFAULT_RULES`` apply. Every mistake raises ``RulesError`` naming the file, line and key.
"""

from __future__ import annotations

import math
import re
import reprlib
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inspector import userfile
from inspector.check.rules import RULES
from inspector.errors import RulesError
from inspector.globmatch import GlobError, GlobSet
from inspector.visible import visible

#: the rule keys, in report order (the table of ``rules.py``; read again on every parse)
RULE_ORDER = tuple(RULES)


def _dive_keys() -> dict[str, str]:
    """dive's CI rule keys (camelCase, as ``.dive-ci`` spells them) → its snake-case spelling."""
    return {key: r.dive.spelling for key, r in RULES.items() if r.dive is not None}
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
#: the largest size or count a rule takes (a signed 64-bit integer, as dive's)
MAX_NUMBER = 2 ** 63 - 1
#: how much of a wrong value an error line shows
_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = _SHORT.maxlong = 60
_SHORT.maxlist = _SHORT.maxdict = 4
_SHORT.maxlevel = 2


@dataclass
class Rule:
    key: str
    value: object  # list[str] | int | float | bool, parsed
    config: str  # the value as configured, for the report
    warn_only: bool = False
    #: "image" (every layer) or "own" (only the layers above the base: ``scope.py``)
    scope: str = "image"

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
        raise ValueError(f"not a size: {_show(text)} (e.g. 50MB, 48MiB, 1000000)")
    value = float(m.group(1)) * _UNITS[m.group(2)]
    if not math.isfinite(value) or value > MAX_NUMBER:
        raise ValueError(f"too large: {_show(text)} (at most {MAX_NUMBER} bytes)")
    return int(value)


def _clip(text: str, most: int = 120) -> str:
    """Text from the file for an error line: at most ``most`` characters, visible."""
    return visible(text if len(text) <= most else text[:most] + "…")


def _show(value: object) -> str:
    """A wrong value for an error line: short, and with control characters visible."""
    return visible(_SHORT.repr(value))


def _line_of(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^[ \t]*[\"']?{re.escape(key)}[\"']?[ \t]*[=:]", re.M)
    m = pattern.search(text)
    return text.count("\n", 0, m.start()) + 1 if m else None


class _Where:
    def __init__(self, path: str, text: str) -> None:
        self.path, self.text = path, text

    def error(self, key: str, message: str, line: int | None = None) -> RulesError:
        line = line or _line_of(self.text, key)
        at = f"line {line}: " if line else ""
        shown = _clip(key, 60)
        return RulesError(f"{self.path}: {at}{shown}: {message}", where=self.path, field=key,
                          hint="see inspector/check/rules.example.toml")

    def unparsable(self, exc: BaseException, what: str) -> RulesError:
        """The parser gave up without a line of its own: nesting past Python's stack, or a
        number past Python's digit limit. Find the line and key ourselves."""
        if isinstance(exc, RecursionError):
            line = userfile.deep_line(self.text)
            reason = f"nested more than {userfile.MAX_DEPTH} levels deep"
        else:
            line = userfile.long_number_line(self.text)
            reason = "a number with more than 4300 digits"
        key = userfile.key_at(self.text, line) if line else None
        if key is None:
            at = f"line {line}: " if line else ""
            return RulesError(f"{self.path}: {at}not valid {what}: {reason}", where=self.path)
        return self.error(key, f"not valid {what}: {reason}", line)


def dive_rule(key: str, raw: object, where: _Where) -> Rule | None:
    """One of dive's rules from its configured value, parsed as dive does (``None`` when
    disabled: ``""``, ``disabled``, ``off``, ``false``)."""
    if not isinstance(raw, str | int | float):  # a list or table (str() of one can be huge)
        raise where.error(key, f"expected a number, got {_show(raw)}")
    text = str(raw).lower() if isinstance(raw, bool) else str(raw)
    if text.strip().lower() in _OFF:
        return None
    try:
        in_bytes = RULES[key].kind == "dive_bytes"
        value: float | int = parse_bytes(text) if in_bytes else float(text)
    except ValueError as exc:
        raise where.error(key, f"invalid value {_show(text)}: {exc}") from None
    if not in_bytes and not 0 <= value <= 1:  # NaN too
        raise where.error(key, f"outside the allowed range (0-1): {_show(text)}")
    return Rule(key, value, text)


def _our_rule(key: str, raw: object, where: _Where,
              categories: Callable[[list[str]], set[str]]) -> Rule | None:
    kind = RULES[key].kind
    if raw is False or (isinstance(raw, str) and raw.strip().lower() in _OFF):
        return None
    if kind == "flag":
        if raw is not True:
            raise where.error(key, f"expected true or false, got {_show(raw)}")
        return Rule(key, True, "true")
    if kind == "severities":
        return _severities_rule(key, raw, where)
    if kind in ("categories", "path_globs", "name_globs"):
        if not isinstance(raw, list) or not all(isinstance(v, str) and v for v in raw):
            raise where.error(key, f"expected a list of strings, got {_show(raw)}")
        if kind == "categories":
            known = categories(raw)
            unknown = sorted(set(raw) - known)
            if unknown:
                raise where.error(key, f"unknown categories {_clip(', '.join(unknown))} "
                                       f"(known: {', '.join(sorted(known))})")
        else:  # path or package globs: compiled now, so a bad one fails before any work
            try:
                GlobSet(raw, pathname=kind == "path_globs")
            except GlobError as exc:
                raise where.error(key, f"bad glob: {visible(exc)}") from None
        return Rule(key, list(raw), ", ".join(raw))
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise where.error(key, f"expected a number{' or a size' if kind == 'bytes' else ''}, "
                               f"got {_show(raw)}")
    if isinstance(raw, int) and raw < 0 or isinstance(raw, str) and raw.strip().startswith("-"):
        raise where.error(key, f"must not be negative: {_show(raw)}")
    try:
        value = parse_bytes(str(raw)) if kind == "bytes" else _count(raw)
    except ValueError as exc:
        raise where.error(key, str(exc)) from None
    return Rule(key, value, str(raw))


def _severities_rule(key: str, raw: object, where: _Where) -> Rule:
    """``{critical = 0, high = 5}``: at most that many findings of each severity named
    (each severity on its own), from the scanner report given with ``--vulns``."""
    from inspector.vulns.model import SEVERITIES

    if not isinstance(raw, dict) or not raw:
        raise where.error(key, f"expected a table of severity limits, e.g. "
                               f"{{critical = 0, high = 5}}, got {_show(raw)}")
    for name, limit in raw.items():
        if name not in SEVERITIES:
            raise where.error(key, f"unknown severity {_show(name)} "
                                   f"(known: {', '.join(SEVERITIES)})")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_NUMBER:
            raise where.error(key, f"{name}: expected a count (0 to {MAX_NUMBER}), "
                                   f"got {_show(limit)}")
    return Rule(key, dict(raw), ", ".join(f"{k}={v}" for k, v in raw.items()))


def _count(raw: int | str) -> int:
    """A whole number of files, 0..MAX_NUMBER (a long digit string is refused before
    ``int()``, which would raise past 4300 digits)."""
    if isinstance(raw, str):
        text = raw.strip()
        if not re.fullmatch(r"[0-9]+", text):
            raise ValueError(f"not a whole number: {_show(raw)}")
        raw = int(text) if len(text) <= 20 else MAX_NUMBER + 1
    if raw > MAX_NUMBER:
        raise ValueError(f"too large (at most {MAX_NUMBER})")
    return raw


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
        raise RulesError(f"{path}: not valid TOML: {exc}", where=path) from None
    except (RecursionError, ValueError) as exc:
        raise where.unparsable(exc, "TOML") from None
    for key in doc:
        if key not in ("rules", "warn_only"):
            raise where.error(key, "unknown top-level key (expected [rules] and warn_only)")
    table = doc.get("rules", {})
    if not isinstance(table, dict):
        raise where.error("rules", "expected a [rules] table")
    warn = doc.get("warn_only", [])
    if not isinstance(warn, list) or not all(isinstance(k, str) for k in warn):
        raise where.error("warn_only", f"expected a list of rule keys, got {_show(warn)}")
    snake = {v: k for k, v in _dive_keys().items()}
    table = {snake.get(k, k): v for k, v in table.items()}
    for key in table:
        if key not in RULES:
            raise where.error(key, f"unknown rule (known: {', '.join(RULES)})")
    for key in warn:
        if key not in RULES:
            raise where.error("warn_only", f"unknown rule {_show(key)} "
                                           f"(known: {', '.join(RULES)})")
    rules = []
    for key, definition in RULES.items():
        if key not in table:
            continue
        raw, scope = _scoped(key, table[key], where)
        rule = (dive_rule(key, raw, where) if definition.dive is not None
                else _our_rule(key, raw, where, known_categories))
        if rule is not None:
            rule.warn_only = key in warn
            rule.scope = scope
            rules.append(rule)
    return RuleSet(rules, path)


def _scoped(key: str, raw: object, where: _Where) -> tuple[object, str]:
    """A rule written ``{value = …, scope = "own"}`` → ``(value, scope)``; any other
    value is itself, with scope ``"image"``."""
    if not isinstance(raw, dict) or "scope" not in raw:
        return raw, "image"
    from inspector.check.scope import SCOPES

    scope = raw["scope"]
    if scope not in SCOPES:
        raise where.error(key, f"scope must be one of {', '.join(SCOPES)}, got {_show(scope)}")
    extra = sorted(set(raw) - {"scope", "value"})
    if "value" not in raw or extra:
        raise where.error(key, 'with a scope, write {value = …, scope = "own"}'
                               + (f" (unknown keys: {_clip(', '.join(extra))})" if extra else ""))
    if scope == "own" and not RULES[key].scoped:
        scoped = ", ".join(k for k, r in RULES.items() if r.scoped)
        raise where.error(key, f'takes no scope = "own" (its figure is not per layer; '
                               f"rules that do: {scoped})")
    return raw["value"], scope


def parse_dive_ci(text: str, path: str = ".dive-ci") -> RuleSet:
    """dive's ``.dive-ci``: YAML with a ``rules:`` mapping; other keys are ignored, as dive
    ignores them. Anchors and aliases are refused: a 1 kB "billion laughs" file expands
    to gigabytes, and dive's file never needs them."""
    import yaml

    from inspector.check.yamlsafe import AliasFound, load_yaml

    where = _Where(path, text)
    try:
        doc = load_yaml(text) or {}
    except AliasFound as exc:
        key = userfile.key_at(text, exc.line) or "rules"
        raise where.error(key, "YAML anchors and aliases are not allowed (dive's .dive-ci "
                               "never needs them)", exc.line) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or " ".join(str(exc).split())
        raise RulesError(f"{path}: {at}not valid YAML: {visible(problem)}", where=path) from None
    except (RecursionError, ValueError) as exc:
        raise where.unparsable(exc, "YAML") from None
    table = doc.get("rules") if isinstance(doc, dict) else None
    if table is None:
        table = {}
    if not isinstance(table, dict):
        raise where.error("rules", "expected a mapping of dive rules")
    values: dict[str, object] = {key: r.dive.default for key, r in RULES.items()
                                 if r.dive is not None}  # dive's DefaultCIRules
    for key in values:
        if table.get(key) is not None:
            values[key] = table[key]
    rules = [dive_rule(key, value, where) for key, value in values.items()]
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
    text = userfile.read_text(path, "the rules file", error=RulesError)
    file = userfile.expand(path, "the rules file", RulesError)
    shown = visible(str(path))
    return parse_dive_ci(text, shown) if is_dive_ci(file, text) else parse_toml(text, shown)
