"""The rules of ``check`` are one table (issue 29 item 6, dive's ``runtime/ci/rule.go``
shape): key → kind of value (its validator), measure, dive spelling. A new rule is one
entry; ``.dive-ci`` keys and their snake-case TOML spellings map onto the same entries."""

from __future__ import annotations

import pytest

from inspector.check.config import RULE_ORDER, parse_dive_ci, parse_toml
from inspector.check.evaluate import evaluate
from inspector.check.measures import Measured
from inspector.check.rules import RULES, RuleDef
from inspector.errors import RulesError
from tests.check.test_check import BASE, DIRTY, analysed

#: the kinds config.py validates (a new kind needs its validator there)
KINDS = {"flag", "categories", "path_globs", "name_globs", "bytes", "count", "severities",
         "ratio", "dive_bytes"}


def test_every_entry_has_a_known_kind_and_a_measure():
    assert tuple(RULES) == RULE_ORDER
    for key, rule in RULES.items():
        assert rule.kind in KINDS, key
        assert callable(rule.measure), key
        assert (rule.dive is not None) == (rule.kind in ("ratio", "dive_bytes")), key


def _layers(analysis) -> Measured:
    n = len(analysis.layers)
    return Measured(n > 1, n, f"{n} layer(s)", [])


@pytest.fixture
def max_layers(monkeypatch):
    """A rule a contributor adds: one entry (a count, measured by a function)."""
    monkeypatch.setitem(RULES, "max_layers",
                        RuleDef("count", lambda rule, a, vulns: _layers(a)))


def test_a_new_rule_is_one_entry(max_layers, tmp_path):
    ruleset = parse_toml("[rules]\nmax_layers = 1\n")
    assert [r.key for r in ruleset.rules] == ["max_layers"]
    with pytest.raises(RulesError, match="max_layers"):  # validated as its kind says
        parse_toml("[rules]\nmax_layers = -1\n")
    a = analysed(tmp_path, BASE, DIRTY)
    try:
        (v,) = evaluate(a, ruleset)
    finally:
        a.image.close()
    assert (v.rule, v.status, v.measured, v.message) == ("max_layers", "fail", 2, "2 layer(s)")


#: (name, dive key, its snake-case spelling in TOML, value, parsed value)
DIVE = [
    ("efficiency", "lowestEfficiency", "lowest-efficiency", "0.95", 0.95),
    ("wasted bytes", "highestWastedBytes", "highest-wasted-bytes", "20MB", 20_000_000),
    ("user wasted", "highestUserWastedPercent", "highest-user-wasted-percent", "0.2", 0.2),
]


@pytest.mark.parametrize(("name", "key", "snake", "value", "parsed"), DIVE, ids=[d[0] for d in DIVE])
def test_dive_keys_map_onto_the_table(name, key, snake, value, parsed):
    assert RULES[key].dive is not None and RULES[key].dive.spelling == snake
    (from_dive,) = [r for r in parse_dive_ci(f"rules:\n  {key}: {value}\n").rules if r.key == key]
    (from_toml,) = parse_toml(f'[rules]\n{snake} = "{value}"\n').rules
    assert from_dive.key == from_toml.key == key
    assert from_dive.value == from_toml.value == parsed


def test_dive_defaults_come_from_the_table():
    defaults = {k: r.dive.default for k, r in RULES.items() if r.dive is not None}
    assert defaults == {"lowestEfficiency": "0.9", "highestWastedBytes": "disabled",
                        "highestUserWastedPercent": "0.1"}  # dive options/ci_rules.go
    got = {r.key: r.config for r in parse_dive_ci("rules: {}\n").rules}
    assert got == {k: v for k, v in defaults.items() if v != "disabled"}


def test_measure_goes_through_the_table(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setitem(RULES, "forbid_setuid", RuleDef(
        "flag", lambda rule, a, vulns: seen.append(rule.key) or Measured(False, 0, "ok", [])))
    a = analysed(tmp_path, BASE, DIRTY)
    try:
        (v,) = evaluate(a, parse_toml("[rules]\nforbid_setuid = true\n"))
    finally:
        a.image.close()
    assert seen == ["forbid_setuid"] and v.status == "pass"
