"""``scope = "own"`` in a check rule: the rule measures only the layers above the base
(hello-debian = debian-12-slim + one app layer)."""

from __future__ import annotations

import pytest

from inspector.analysis import analyze, open_image
from inspector.check.config import parse_toml
from inspector.check.evaluate import evaluate
from inspector.errors import RulesError
from inspector.options import Options
from inspector.provenance import given_base


@pytest.fixture(scope="module")
def hello(tmp_path_factory):
    options = Options(cache_dir=tmp_path_factory.mktemp("cache"), quiet=True)
    analysis = analyze(open_image("sample:hello-debian", options), options)
    return analysis, options


#: (name, rule line, status on the whole image, status on own only)
CASES = [
    ("shell present in the base only", 'forbid_categories = {value = ["shell"], scope = "%s"}',
     "fail", "pass"),
    ("login users come from the base's /etc/passwd", 'forbid_login_users = {value = true, scope = "%s"}',
     "fail", "pass"),
    ("base packages", 'forbid_packages = {value = ["bash", "libc6"], scope = "%s"}', "fail", "pass"),
    ("the app's package is own", 'forbid_packages = {value = ["stdlib"], scope = "%s"}',
     "fail", "fail"),
    ("paths: the base's bash", 'forbid_paths = {value = ["/usr/bin/bash"], scope = "%s"}',
     "fail", "pass"),
    ("paths: the app", 'forbid_paths = {value = ["/app/**"], scope = "%s"}', "fail", "fail"),
    ("one own file", 'max_files = {value = 1, scope = "%s"}', "fail", "pass"),
    ("no own file allowed", 'max_files = {value = 0, scope = "%s"}', "fail", "fail"),
    ("own bytes under 5 MB", 'max_files_size = {value = "5MB", scope = "%s"}', "fail", "pass"),
]


@pytest.mark.parametrize("name,line,whole,own", CASES, ids=[c[0] for c in CASES])
def test_scope_own_measures_only_the_own_layers(hello, name, line, whole, own):
    analysis, _ = hello
    (image,) = evaluate(analysis, parse_toml("[rules]\n" + line % "image"))
    (mine,) = evaluate(analysis, parse_toml("[rules]\n" + line % "own"))
    assert (image.status, mine.status) == (whole, own), (image.message, mine.message)
    assert (image.scope, mine.scope) == ("image", "own")
    assert "above sample:debian-12-slim" in mine.message


def test_given_base_is_used(hello):
    analysis, options = hello
    whole = given_base(analysis, "sample:hello-debian", options)  # every layer is base
    (v,) = evaluate(analysis, parse_toml('[rules]\nmax_files = {value = 0, scope = "own"}\n'),
                    base=whole)
    assert v.status == "pass" and "no layers" in v.message


#: (name, rule line, fragment of the one-line error)
BAD = [
    ("unknown scope", 'max_files = {value = 1, scope = "base"}', "scope must be one of"),
    ("no value", 'max_files = {scope = "own"}', "value = "),
    ("extra key", 'max_files = {value = 1, scope = "own", x = 1}', "unknown keys: x"),
    ("the config user has no layer", 'require_nonroot_user = {value = true, scope = "own"}',
     "takes no scope"),
    ("dive's rules", 'lowestEfficiency = {value = 0.9, scope = "own"}', "takes no scope"),
]


@pytest.mark.parametrize("name,line,fragment", BAD, ids=[c[0] for c in BAD])
def test_bad_scope_is_one_line(name, line, fragment):
    with pytest.raises(RulesError) as exc:
        parse_toml("[rules]\n" + line, "r.toml")
    text = str(exc.value)
    assert "\n" not in text and fragment in text and "r.toml: line 2" in text
