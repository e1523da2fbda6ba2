"""The TUI filter in bulk (``index/treefilter.py``) keeps what the per-path loop it
replaced kept (``filter_reference``): on random filesystems with hostile names (newlines,
``[``, ``*``, ``\\``, non-UTF-8 surrogates, names sorting around ``/``), random filters of
every form (glob on names or paths, ``re:``, marks incl. unmarked, sets of paths, all
combined), inspect's per-layer view and compare's dict marks with ghosts: the same kept
set, rows, depths, expanded directories and folder sums; then ``expand_all`` and the size
sort on top. Plus a named table whose expectations are written by hand, and the glob's
``re`` translation against ``globmatch``."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.globmatch import GlobError, compile_glob, regex_source
from inspector.index.entries import DIR, FILE, SYMLINK, LayerIndex
from inspector.index.merge import merge
from inspector.index.tree import (
    ADDED,
    MODIFIED,
    REMOVED,
    DirTree,
    TreeFilter,
    TreeRows,
    layer_marks,
)
from tests.index.filter_reference import ReferenceRows

#: characters of names: around "/" in sort order ("-", ".", "0"; NUL, which a PAX or TOC
#: name may hold, below it), glob and regex syntax, a newline, a backslash, non-ASCII and
#: two surrogate escapes (bytes that are not UTF-8)
NAME_CHARS = "ab.-0\0\n[]*?\\! é\udcff\udc80"
GLOB_CHARS = "ab*?[]!-\\\n/.é\udcff"
REGEXES = ["a", "^/a", "a$", "\n", r"b\Z", ".", "[[]", "a.b", "^a", "(?m)^b", r"\.", "é",
           "\udcff", "/a/", "a|b$", r"\\", r"\[", "^/[^/]*$", "(?s)a.b", r"\*"]
MARKS = [ADDED, MODIFIED, REMOVED, None, "absent"]

name = st.text(NAME_CHARS, min_size=1, max_size=4).filter(lambda s: s not in (".", ".."))
path = st.lists(name, min_size=1, max_size=3).map(lambda parts: "/" + "/".join(parts))
member = st.tuples(path, st.sampled_from([FILE, FILE, DIR, SYMLINK]), st.integers(0, 99))
layer_spec = st.tuples(st.lists(member, max_size=12), st.lists(path, max_size=2))
pattern = st.one_of(st.just(""), st.text(GLOB_CHARS, min_size=1, max_size=6).map(lambda g: (g, False)),
                    st.sampled_from(REGEXES).map(lambda r: (r, True)))
a_filter = st.tuples(pattern, st.none() | st.frozensets(st.sampled_from(MARKS)),
                     st.none() | st.frozensets(path, max_size=8))


def _index(members, whiteouts) -> LayerIndex:
    index = LayerIndex()
    for p, kind, size in members:
        row = index.add(p, kind, size if kind == FILE else 0, 0o644, 0, 0)
        if kind == SYMLINK:
            index.targets[row] = "a"
    index.whiteouts.extend(whiteouts)
    return index


def _filter(spec, fs) -> TreeFilter:
    pat, marks, only = spec
    text, regex = pat if pat else ("", False)
    if only is not None:  # some of the filesystem's own paths too, not only random ones
        only = only | frozenset(list(fs.entries)[::3])
    return TreeFilter(pattern=text, regex=regex, marks=marks, only=only)


def _same(tree: DirTree, flt: TreeFilter, expanded: set[str]) -> None:
    new, ref = TreeRows(tree), ReferenceRows(tree)
    new.expanded, ref.expanded = set(expanded), set(expanded)
    try:
        ref.set_filter(flt)
    except (GlobError, re.error) as exc:
        with pytest.raises(type(exc)):
            new.set_filter(flt)
        return
    new.set_filter(flt)
    assert new.keep == ref.keep
    assert (new.rows, list(new.depths)) == (ref.rows, list(ref.depths))
    assert new.expanded == ref.expanded
    assert [new.size(p) for p in new.rows] == [ref.size(p) for p in ref.rows]
    new.expand_all()
    ref.expand_all()
    assert new.expanded == ref.expanded
    assert (new.rows, list(new.depths)) == (ref.rows, list(ref.depths))
    assert [new.size(p) for p in new.rows] == [ref.size(p) for p in ref.rows]
    new.set_sort("size")
    ref.set_sort("size")
    assert new.rows == ref.rows


@settings(max_examples=400, deadline=None)
@given(layers=st.lists(layer_spec, min_size=1, max_size=3), spec=a_filter,
       at=st.integers(0, 2), open_some=st.booleans())
def test_inspect_view_keeps_what_the_per_path_loop_kept(layers, spec, at, open_some):
    """A layer's view as the inspect screen builds it: its marks (``LayerMarks``) and the
    paths it removed as ghosts."""
    indexes = [_index(*s) for s in layers]
    layer = min(at, len(indexes) - 1)
    fs = merge(indexes[:layer + 1])
    marks, ghosts = layer_marks(fs, layer)
    tree = DirTree(fs, ghosts=ghosts, marks=marks)
    expanded = set(list(tree.children)[::2]) if open_some else set()
    _same(tree, _filter(spec, fs), expanded)


@settings(max_examples=300, deadline=None)
@given(members=st.lists(member, max_size=14), ghosts=st.dictionaries(path, st.booleans(), max_size=6),
       labels=st.dictionaries(path, st.sampled_from([ADDED, MODIFIED, REMOVED, "absent"]), max_size=8),
       spec=a_filter)
def test_compare_view_keeps_what_the_per_path_loop_kept(members, ghosts, labels, spec):
    """A compare column: dict marks (also on paths the tree lacks), ghosts of paths only
    other images have (below this image's files too: a symlink here shown as a directory)."""
    fs = merge([_index(members, [])])
    files = [p for p in fs.entries if fs.kind(p) != DIR]
    ghosts = dict(ghosts)
    for p in files[:2]:
        ghosts[p + "/other"] = False
    marks = dict(labels)
    marks.update({p: ADDED for p in list(fs.entries)[::2]})
    tree = DirTree(fs, ghosts=ghosts, marks=marks)
    _same(tree, _filter(spec, fs), set())


def _fs(*paths: str):
    index = LayerIndex()
    for p in paths:
        index.add(p.rstrip("/"), DIR if p.endswith("/") else FILE, 1, 0o644, 0, 0)
    return merge([index])


EDGES = [
    # (name, paths ("/" at the end: a directory), filter, kept paths but "/" and ancestors
    # written out by hand)
    ("a glob does not match across a newline in a name", ["/x/a\nb.so", "/x/b.so"],
     TreeFilter("b.so"), {"/x", "/x/b.so"}),
    ("a star matches a newline", ["/x/a\nb.so"], TreeFilter("a*b.so"), {"/x", "/x/a\nb.so"}),
    ("a name glob sees only the name after a newline-named directory",
     ["/d\n/b.so", "/d\nb.so"], TreeFilter("b.so"), {"/d\n", "/d\n/b.so"}),
    ("re: ^ is the path's start, not a line's", ["/x/a\nb"], TreeFilter("^b", regex=True), set()),
    ("re: (?m)^ is a line's start", ["/x/a\nb"], TreeFilter("(?m)^b", regex=True),
     {"/x", "/x/a\nb"}),
    ("re: $ also before a final newline (re.search's)", ["/x/a\n"], TreeFilter("a$", regex=True),
     {"/x", "/x/a\n"}),
    ("an unclosed [ is literal", ["/x/[ab", "/x/a"], TreeFilter("[ab"), {"/x", "/x/[ab"}),
    ("a backslash is not an escape", ["/x/a\\b", "/x/a*"], TreeFilter("a\\*"), {"/x", "/x/a\\b"}),
    ("] first in a class is literal", ["/x/]", "/x/a", "/x/b"], TreeFilter("[]a]"),
     {"/x", "/x/]", "/x/a"}),
    ("negated class", ["/x/a", "/x/b"], TreeFilter("[!a]"), {"/x", "/x/b"}),
    ("? is one character, a surrogate too", ["/x/\udcff", "/x/ab"], TreeFilter("?"),
     {"/x", "/x/\udcff"}),
    ("a glob with / matches the path, * across /", ["/x/y/z", "/xy"], TreeFilter("/x*z"),
     {"/x", "/x/y", "/x/y/z"}),
    ("a directory matching by name is kept without its files", ["/lib/", "/lib/a.so"],
     TreeFilter("lib"), {"/lib"}),
    ("siblings sorting between a directory and its files", ["/a/x.so", "/a.b/y.so", "/a-c"],
     TreeFilter("*.so"), {"/a", "/a/x.so", "/a.b", "/a.b/y.so"}),
    ("a set of paths, some absent", ["/x/a", "/x/b"],
     TreeFilter(only=frozenset({"/x/a", "/gone"})), {"/x", "/x/a"}),
    ("unmarked (None): an implied directory, no layer wrote it", ["/x/a"],
     TreeFilter(marks=frozenset({None})), {"/x"}),
    ("added: what the layer wrote", ["/x/a"], TreeFilter(marks=frozenset({ADDED})),
     {"/x", "/x/a"}),
]


@pytest.mark.filterwarnings("error")  # no FutureWarning over the TUI
@pytest.mark.parametrize(("name", "paths", "flt", "expected"), EDGES, ids=[e[0] for e in EDGES])
def test_edge_cases(name, paths, flt, expected):
    fs = _fs(*paths)
    marks, ghosts = layer_marks(fs, 0)
    rows = TreeRows(DirTree(fs, ghosts=ghosts, marks=marks))
    rows.set_filter(flt)
    assert (rows.keep or set()) - {"/"} == expected
    rows.expand_all()  # (a pattern opens the way to its matches itself)
    assert set(rows.rows) == expected  # every kept path is shown, "/" is no row


ORDER = [
    # (name, paths, pattern, rows in order): a filtered view with every match open
    ("a directory's files before its siblings a.b and a-b",
     ["/a/x.so", "/a.b/y.so", "/a-c.so", "/a0.so"], "*.so",
     ["/a", "/a/x.so", "/a-c.so", "/a.b", "/a.b/y.so", "/a0.so"]),
    ("a NUL in a name sorts below '/' too", ["/a/x", "/a\0b/x"], "x",
     ["/a", "/a/x", "/a\0b", "/a\0b/x"]),
]


@pytest.mark.parametrize(("name", "paths", "glob", "expected"), ORDER, ids=[o[0] for o in ORDER])
def test_rows_are_in_tree_order(name, paths, glob, expected):
    rows = TreeRows(DirTree(_fs(*paths)))
    rows.set_filter(TreeFilter(glob))
    assert rows.rows == expected
    assert list(rows.depths) == [p.count("/") - 1 for p in expected]


@settings(max_examples=2000, deadline=None)
@given(glob=st.text(GLOB_CHARS, max_size=8), subject=st.text(NAME_CHARS + "/", max_size=10))
def test_glob_as_re_matches_what_globmatch_matches(glob, subject):
    try:
        want = compile_glob(glob).match(subject)
    except GlobError:
        with pytest.raises(GlobError):
            regex_source(glob)
        return
    assert bool(re.match(regex_source(glob), subject)) == want
    if glob:  # (an empty pattern filters nothing: no matcher is asked)
        flt = TreeFilter(glob)
        subjects = ["/d/" + subject]
        assert bool(next(iter(flt.bulk_matcher()(subjects)))) == flt.matcher()(subjects[0])


def test_a_hostile_glob_takes_linear_time():
    """``*a`` eight times then ``*b``: a plain ``.*a.*a…`` translation backtracks through
    every placement of the eight ``a`` (70 s on 60 characters, about n^8 steps: 6,000
    characters would not finish); the atomic groups answer at once."""
    flt = TreeFilter("*a" * 8 + "*b")
    subjects = ["/" + "a" * 60, "/" + "a" * 6000]
    assert [bool(m) for m in flt.bulk_matcher()(subjects)] == [False, False]
