"""The rules file: TOML keys and values, dive's ``.dive-ci`` read unchanged, and every
mistake reported with the file, line and key (exit 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from inspector.check.config import (
    DEFAULT_TOML,
    RULE_ORDER,
    load,
    parse_bytes,
    parse_dive_ci,
    parse_toml,
)
from inspector.errors import RulesError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inspector" / "check" / "rules.example.toml"

# go-humanize ParseBytes, as dive parses highestWastedBytes
SIZES = [
    ("plain", "1000", 1000),
    ("MB is 1000^2", "20MB", 20_000_000),
    ("Mb spelled as in dive's .dive-ci", "20Mb", 20_000_000),
    ("MiB is 1024^2", "48MiB", 48 * 1024 * 1024),
    ("space and fraction", "1.5 GiB", int(1.5 * 1024 ** 3)),
    ("k", "2k", 2000),
    ("B", "512B", 512),
]


@pytest.mark.parametrize(("name", "text", "expected"), SIZES, ids=[c[0] for c in SIZES])
def test_parse_bytes(name, text, expected):
    assert parse_bytes(text) == expected


@pytest.mark.parametrize("text", ["", "MB", "12 parsecs", "-1", "1e9"])
def test_parse_bytes_rejects(text):
    with pytest.raises(ValueError):
        parse_bytes(text)


BAD_TOML = [
    ("syntax", "[rules]\nmax_files = \n", "line 2"),
    ("unknown rule", "[rules]\nforbid_categories = []\nforbid_shells = true\n", "line 3: forbid_shells: unknown rule"),
    ("unknown category", "[rules]\n\nforbid_categories = [\"shell\", \"shel\"]\n",
     "line 3: forbid_categories: unknown categories shel"),
    ("flag not bool", "[rules]\nforbid_setuid = \"yes\"\n", "line 2: forbid_setuid: expected true or false"),
    ("list not list", "[rules]\nforbid_paths = \"/bin/sh\"\n", "line 2: forbid_paths: expected a list"),
    ("bad size", "[rules]\nmax_size = \"big\"\n", "line 2: max_size: not a size"),
    ("negative count", "[rules]\nmax_files = -3\n", "line 2: max_files: must not be negative"),
    ("dive range", "[rules]\nlowestEfficiency = 1.5\n", "line 2: lowestEfficiency: outside the allowed range"),
    ("dive not a number", "[rules]\nhighestUserWastedPercent = \"lots\"\n",
     "line 2: highestUserWastedPercent: invalid value"),
    ("warn_only names an unknown rule", "warn_only = [\"nope\"]\n[rules]\n", "line 1: warn_only: unknown rule 'nope'"),
    ("unknown top-level key", "rule = 1\n", "line 1: rule: unknown top-level key"),
]


@pytest.mark.parametrize(("name", "text", "fragment"), BAD_TOML, ids=[c[0] for c in BAD_TOML])
def test_bad_toml_names_line_and_key(name, text, fragment):
    with pytest.raises(RulesError) as err:
        parse_toml(text, "ci/rules.toml")
    assert str(err.value).startswith("ci/rules.toml: ")
    assert fragment in str(err.value)


def test_toml_runs_exactly_the_named_rules_in_order():
    rules = parse_toml('warn_only = ["max_files"]\n[rules]\nmax_files = 10\n'
                       'lowest-efficiency = 0.5\nforbid_setuid = false\n'
                       'forbid_categories = ["shell"]\n')
    assert [(r.key, r.value, r.warn_only) for r in rules.rules] == [
        ("forbid_categories", ["shell"], False), ("max_files", 10, True),
        ("lowestEfficiency", 0.5, False)]


def test_example_file_parses_and_names_every_rule():
    rules = load(str(EXAMPLE))
    assert [r.key for r in rules.rules] == list(RULE_ORDER)
    assert {r.key for r in rules.rules if r.warn_only} == {"require_nonroot_user", "max_files"}


def test_defaults():
    rules = load(None)
    assert rules.source == "defaults"
    assert [r.key for r in rules.rules] == [r.key for r in parse_toml(DEFAULT_TOML).rules]
    by_key = {r.key: r for r in rules.rules}
    assert by_key["forbid_categories"].value == ["shell", "package_manager"]
    assert by_key["lowestEfficiency"].value == 0.9 and by_key["highestUserWastedPercent"].value == 0.1
    assert "highestWastedBytes" not in by_key  # dive's default: disabled
    assert by_key["require_nonroot_user"].warn_only


# dive's own files (wagoodman/dive .data/.dive-ci and cmd/dive/cli/testdata/…), verbatim
DIVE_DATA = """---
plugins:
  - plugin1

rules:
  # If the efficiency is measured below X%, mark as failed. (expressed as a percentage between 0-1)
  lowestEfficiency: 0.95

  # If the amount of wasted space is at least X or larger than X, mark as failed. (expressed in B, KB, MB, and GB)
  highestWastedBytes: 20Mb

  # If the amount of wasted space makes up for X% of the image, mark as failed. (fail if the threshold is met or crossed; expressed as a percentage between 0-1)
  highestUserWastedPercent: 0.5

  plugin1/rule1: error
"""
DIVE_CASES = [
    ("dive .data/.dive-ci", DIVE_DATA,
     [("lowestEfficiency", 0.95), ("highestWastedBytes", 20_000_000), ("highestUserWastedPercent", 0.5)]),
    ("dive-ci-legacy.yaml", "rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 20MB\n"
                            "  highestUserWastedPercent: 0.20\n",
     [("lowestEfficiency", 0.95), ("highestWastedBytes", 20_000_000), ("highestUserWastedPercent", 0.2)]),
    ("missing keys take dive's defaults", "rules:\n  lowestEfficiency: 0.5\n",
     [("lowestEfficiency", 0.5), ("highestUserWastedPercent", 0.1)]),
    ("disabled spellings", "rules:\n  lowestEfficiency: disabled\n  highestWastedBytes: off\n"
                           "  highestUserWastedPercent: 'false'\n", []),
    ("empty file", "", [("lowestEfficiency", 0.9), ("highestUserWastedPercent", 0.1)]),
]


@pytest.mark.parametrize(("name", "text", "expected"), DIVE_CASES, ids=[c[0] for c in DIVE_CASES])
def test_dive_ci_read_unchanged(name, text, expected, tmp_path):
    path = tmp_path / ".dive-ci"
    path.write_text(text)
    rules = load(str(path))
    assert [(r.key, r.value) for r in rules.rules] == expected


def test_dive_ci_errors_name_line_and_key():
    with pytest.raises(RulesError, match=r"\.dive-ci: line 3: highestUserWastedPercent: outside"):
        parse_dive_ci("rules:\n  lowestEfficiency: 0.9\n  highestUserWastedPercent: 2\n")
    with pytest.raises(RulesError, match=r"not valid YAML"):
        parse_dive_ci("rules: [\n")


CLI_ERRORS = [
    ("missing file", None, "cannot read the rules file"),
    ("bad key", "[rules]\nforbid_everything = true\n", "line 2: forbid_everything: unknown rule"),
]


@pytest.mark.parametrize(("name", "text", "fragment"), CLI_ERRORS, ids=[c[0] for c in CLI_ERRORS])
def test_cli_rules_errors_exit_2_before_opening_images(name, text, fragment, tmp_path):
    rules = tmp_path / "rules.toml"
    if text is not None:
        rules.write_text(text)
    proc = subprocess.run([sys.executable, "-m", "inspector", "check", "oci:/nowhere:t",
                           "--rules", str(rules), "--cache-dir", str(tmp_path / "c")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert fragment in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
