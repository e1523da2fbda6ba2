"""``inspector check --vulns`` with a ``max_vulns = {critical = 0, high = 5}`` rule: the
limits against the report's counts (counted here from the fixture), the scanner shown in
the verdict, and the rule's own mistakes (exit 2)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from inspector.check.config import parse_toml
from inspector.errors import RulesError
from tests.vulns.conftest import assert_report_error, doc, fixture

SLIM = "sample:debian-12-slim"
SLIM_GRYPE = fixture("grype-debian-12-slim.json")


def _counts() -> Counter:
    return Counter(m["vulnerability"]["severity"].lower()
                   for m in doc("grype-debian-12-slim.json")["matches"])


def _rules(tmp_path, table: str) -> str:
    path = tmp_path / "rules.toml"
    path.write_text(f"[rules]\nmax_vulns = {table}\n")
    return str(path)


def test_limits_at_the_counts_pass(run, tmp_path):
    n = _counts()
    rules = _rules(tmp_path, f"{{critical = {n['critical']}, high = {n['high']}}}")
    r = run("check", SLIM, "--rules", rules, "--vulns", SLIM_GRYPE, "--format", "json")
    assert r.code == 0, r.err
    [verdict] = json.loads(r.out)["images"][0]["verdicts"]
    assert verdict["rule"] == "max_vulns" and verdict["status"] == "pass"
    assert verdict["measured"] == {"critical": n["critical"], "high": n["high"]}


def test_one_over_fails_and_names_the_findings(run, tmp_path):
    n = _counts()
    rules = _rules(tmp_path, f"{{critical = {n['critical'] - 1}, high = {n['high']}}}")
    r = run("check", SLIM, "--rules", rules, "--vulns", SLIM_GRYPE)
    assert r.code == 1, r.err
    critical = [m for m in doc("grype-debian-12-slim.json")["matches"]
                if m["vulnerability"]["severity"] == "Critical"]
    for m in critical:
        assert f"{m['vulnerability']['id']} (critical) in {m['artifact']['name']}" in r.out
    assert "grype 0.61.1, database built 2023-05-17T01:32:43Z" in r.out


def test_rule_without_vulns_is_a_usage_error(run, tmp_path):
    r = run("check", SLIM, "--rules", _rules(tmp_path, "{critical = 0}"))
    assert r.code == 2
    assert len(r.lines) == 1 and "--vulns" in r.lines[0]


def test_check_refuses_another_images_report(run):
    r = run("check", "sample:distroless-static", "--vulns", SLIM_GRYPE)
    assert_report_error(r, "grype-debian-12-slim.json")


BAD = [  # (name, value, fragment of the message)
    ("not a table", "5", "table of severity limits"),
    ("empty table", "{}", "table of severity limits"),
    ("unknown severity", "{severe = 1}", "unknown severity"),
    ("negative", "{high = -1}", "high"),
    ("not a count", '{high = "5"}', "high"),
    ("a boolean", "{high = true}", "high"),
]


@pytest.mark.parametrize(("name", "value", "fragment"), BAD, ids=[c[0] for c in BAD])
def test_bad_limits(name, value, fragment):
    with pytest.raises(RulesError) as err:
        parse_toml(f"[rules]\nmax_vulns = {value}\n", "rules.toml")
    assert "max_vulns" in str(err.value) and fragment in str(err.value)
    assert "line 2" in str(err.value)
