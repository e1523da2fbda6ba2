"""The linear-time glob matcher (``inspector.globmatch``): the same answers as
``fnmatch.fnmatchcase`` on ordinary globs, the rules file's path semantics, POSIX's
meaning for ``[]x]``, a clear error for ``[z-a]``, and no backtracking on ``**a**a…**b``."""

from __future__ import annotations

import fnmatch
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.globmatch import MAX_PATTERN, GlobError, GlobSet, compile_glob

ROOT = Path(__file__).resolve().parents[1]

# (name, glob, subject): each compared with fnmatch.fnmatchcase, not with a written answer
FNMATCH = [
    ("literal", "bash", "bash"),
    ("literal-miss", "bash", "dash"),
    ("star-suffix", "*.so", "libc.so"),
    ("star-mid", "lib*.so*", "libssl.so.3"),
    ("star-crosses-slash", "/usr/*", "/usr/lib/x86_64/libc.so"),
    ("question", "?ash", "dash"),
    ("question-needs-one", "?ash", "ash"),
    ("class", "[bd]ash", "dash"),
    ("class-range", "lib[a-c]*", "libbz2"),
    ("negated-class", "[!b]ash", "bash"),
    ("bracket-first-literal", "[]x]", "]"),
    ("bracket-first-literal-x", "[]x]", "x"),
    ("negated-bracket-first", "[!]x]", "y"),
    ("unclosed-bracket-literal", "a[b", "a[b"),
    ("empty-brackets-literal", "a[]", "a[]"),
    ("nested-open-bracket", "[[]x", "[x"),
    ("caret-is-literal", "[^a]", "^"),
    ("backslash-literal", "a\\*", "a\\bc"),
    ("dash-at-end", "[a-]", "-"),
    ("dash-at-start", "[-a]", "-"),
    ("star-only", "*", ""),
    ("stars", "a**b", "a/x/b"),
    ("latest-is-itself", "latest", "latest"),
    ("latest-is-not-a-prefix", "latest", "latest-1"),
    ("unicode", "caf?", "café"),
    ("many-stars", "*a*b*c*", "xxaxxbxxcxx"),
    ("many-stars-miss", "*a*b*c*", "xxcxxbxxaxx"),
]


@pytest.mark.parametrize(("name", "glob", "subject"), FNMATCH, ids=[c[0] for c in FNMATCH])
def test_agrees_with_fnmatch(name, glob, subject):
    assert compile_glob(glob).match(subject) is fnmatch.fnmatchcase(subject, glob)


def test_agrees_with_fnmatch_on_random_globs():
    rng = random.Random(23)
    alphabet, chars = "ab/*?[]!-.", "ab/.-]!["
    for _ in range(20_000):
        glob = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 7)))
        subject = "".join(rng.choice(chars) for _ in range(rng.randint(0, 8)))
        try:
            matcher = compile_glob(glob)
        except GlobError:  # a reversed range: fnmatch silently matches nothing there
            continue
        assert matcher.match(subject) is fnmatch.fnmatchcase(subject, glob), (glob, subject)


def _old_path_regex(glob: str) -> re.Pattern[str]:
    """check/evaluate.py's translation before the matcher (for globs without a class):
    ``*``/``?`` within a segment, ``**`` across, relative globs at any depth."""
    out = "" if glob.startswith("/") else "(?:.*/)?"
    i = 0
    while i < len(glob):
        if glob.startswith("**", i):
            out, i = out + ".*", i + 2
            continue
        out += {"*": "[^/]*", "?": "[^/]"}.get(glob[i], re.escape(glob[i]))
        i += 1
    return re.compile(f"(?:{out})/?\\Z")


def test_path_globs_agree_with_the_old_translation():
    rng = random.Random(7)
    for _ in range(20_000):
        glob = "".join(rng.choice("ab/*?.") for _ in range(rng.randint(1, 7)))
        path = "/" + "".join(rng.choice("ab/.") for _ in range(rng.randint(0, 8)))
        if path.endswith("/"):  # paths never end in "/" (the index normalises names)
            continue
        new = GlobSet([glob], pathname=True, anywhere=True).match(path)
        assert new is bool(_old_path_regex(glob).match(path)), (glob, path)


# (name, globs, path, matches): the rules file's forbid_paths meaning
PATHS = [
    ("star stays in a segment", ["/usr/*"], "/usr/bin/x", False),
    ("double star spans", ["/usr/**"], "/usr/bin/x", True),
    ("relative at any depth", [".git/**"], "/app/.git/config", True),
    ("relative is whole names", ["id_rsa"], "/root/.ssh/my_id_rsa", False),
    ("class never matches a slash", ["/a[!x]b"], "/a/b", False),
    ("question never matches a slash", ["/a?b"], "/a/b", False),
    ("second glob of a set", ["/nowhere", "/bin/?h"], "/bin/sh", True),
    ("anchored glob is anchored", ["/bin/sh"], "/usr/bin/sh", False),
]


@pytest.mark.parametrize(("name", "globs", "path", "matches"), PATHS, ids=[c[0] for c in PATHS])
def test_path_semantics(name, globs, path, matches):
    globset = GlobSet(globs, pathname=True, anywhere=True)
    assert globset.match(path) is matches
    assert (globset.filter_paths(["/", path, path + "-other"])[:1] == [path]) is matches


def test_filter_paths_is_match_over_sorted_paths():
    paths = sorted(f"/d{i % 7}/sub{i % 3}/f{i}.{'so' if i % 2 else 'txt'}" for i in range(300))
    for globs in (["*.so"], ["/d1/**"], ["sub2/*"], ["/d?/sub[01]/f1*"]):
        globset = GlobSet(globs, pathname=True, anywhere=True)
        assert globset.filter_paths(paths) == [p for p in paths if globset.match(p)]


BAD = [
    ("reversed range", "[z-a]", "z-a"),
    ("reversed range among others", "lib[a-c9-0]", "9-0"),
    ("too long", "*" * (MAX_PATTERN + 1), "longer"),
]


@pytest.mark.parametrize(("name", "glob", "fragment"), BAD, ids=[c[0] for c in BAD])
def test_bad_globs_are_errors(name, glob, fragment):
    with pytest.raises(GlobError, match=re.escape(fragment)):
        compile_glob(glob)


def test_ignorecase_for_the_tui_search():
    assert compile_glob("*.SO", ignorecase=True).match("libc.so")
    assert compile_glob("[A-C]x", ignorecase=True).match("bx")
    assert not compile_glob("*.SO").match("libc.so")


# the matcher runs in a child with a timeout: a backtracking regression fails, never hangs
PATHOLOGICAL = """
from inspector.globmatch import GlobSet, compile_glob
glob = "**a" * 30 + "**b"
assert not compile_glob(glob).match("a" * 10_000)
assert not GlobSet(["/" + glob], pathname=True, anywhere=True).match("/" + "a" * 10_000)
assert not GlobSet([glob], pathname=True, anywhere=True).match("/a" * 5_000)
assert compile_glob(glob).match("a" * 10_000 + "b")
print("ok")
"""


def test_pathological_globs_take_linear_time():
    proc = subprocess.run([sys.executable, "-c", PATHOLOGICAL], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, env={"PYTHONPATH": str(ROOT)})
    assert proc.stdout.strip() == "ok", proc.stderr


def test_the_memo_stays_bounded_and_right(monkeypatch):
    """Past ``_MAX_STATES`` DFA states the memo starts afresh: answers do not change."""
    import inspector.globmatch as globmatch

    monkeypatch.setattr(globmatch, "_MAX_STATES", 8)
    rng = random.Random(3)
    for _ in range(2_000):
        glob = "".join(rng.choice("ab*?[]!") for _ in range(rng.randint(0, 9)))
        try:
            matcher = compile_glob(glob)
        except GlobError:
            continue
        for _ in range(5):
            subject = "".join(rng.choice("ab]") for _ in range(rng.randint(0, 12)))
            assert matcher.match(subject) is fnmatch.fnmatchcase(subject, glob), (glob, subject)
        assert len(matcher._sets) <= 8
