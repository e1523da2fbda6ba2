"""The rules of ``inspector check``, one entry each (dive's ``runtime/ci/rule.go`` shape:
a key, how its value is validated, what it measures and says).

``RULES`` maps a rule key, as a TOML ``[rules]`` table or dive's ``.dive-ci`` spells it,
to a ``RuleDef``:

- ``kind``: the value it takes, which names its validator (``config.py``: ``flag``,
  ``categories``, ``path_globs``, ``name_globs``, ``bytes``, ``count``, ``severities``; dive's
  ``ratio`` and ``dive_bytes``, where ``disabled``/``off`` turn the rule off);
- ``measure``: ``(rule, analysis, vulns) -> Measured`` (``measures.py``: failed, figure,
  message, offending paths);
- ``scoped``: whether the rule takes ``scope = "own"`` (``scope.py``: it then measures
  only the image's own layers, above its base); not for the config's user nor dive's
  three rules, whose figures are not per layer;
- ``dive``: for dive's own rules, the snake-case spelling (``lowest-efficiency``) a TOML
  file may use, and the key's default in dive's ``DefaultCIRules`` (a ``.dive-ci`` runs
  exactly these, its values over the defaults).

The table's order is the report's. A new rule is one entry here and its measure
(``rules.example.toml`` documents it; ``tests/check``); a new kind of value also needs its
validator in ``config.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from inspector.check import measures as m


class Dive(NamedTuple):
    spelling: str  # dive's snake-case key
    default: str  # dive ``options/ci_rules.go`` ``DefaultCIRules``


class RuleDef(NamedTuple):
    kind: str
    measure: Callable[..., m.Measured]  # (Rule, Analysis, vulns: Overlay | None)
    dive: Dive | None = None
    scoped: bool = True


RULES: dict[str, RuleDef] = {
    "forbid_categories": RuleDef("categories", m.forbid_categories),
    "forbid_paths": RuleDef("path_globs", m.forbid_paths),
    "forbid_packages": RuleDef("name_globs", m.forbid_packages),
    "max_size": RuleDef("bytes", m.max_size),
    "max_files_size": RuleDef("bytes", m.max_files_size),
    "max_files": RuleDef("count", m.max_files),
    "forbid_setuid": RuleDef("flag", m.forbid_setuid),
    "forbid_world_writable": RuleDef("flag", m.forbid_world_writable),
    "forbid_login_users": RuleDef("flag", m.forbid_login_users),
    "require_nonroot_user": RuleDef("flag", m.require_nonroot_user, scoped=False),
    # {critical = 0, high = 5}: needs --vulns (inspector.vulns)
    "max_vulns": RuleDef("severities", m.max_vulns),
    "lowestEfficiency": RuleDef("ratio", m.lowest_efficiency, Dive("lowest-efficiency", "0.9"),
                                  scoped=False),
    "highestWastedBytes": RuleDef("dive_bytes", m.highest_wasted_bytes,
                                  Dive("highest-wasted-bytes", "disabled"), scoped=False),
    "highestUserWastedPercent": RuleDef("ratio", m.highest_user_wasted_percent,
                                        Dive("highest-user-wasted-percent", "0.1"),
                                        scoped=False),
}


def measure(rule: Any, analysis: Any, vulns: Any = None) -> m.Measured:
    """What ``rule`` (a ``config.Rule``) measures in ``analysis``."""
    return RULES[rule.key].measure(rule, analysis, vulns)
