"""``DirTree`` finds children and cumulative sizes on demand from the sorted paths
(``inspector.index.subtrees``, issue 16): on random multi-layer filesystems, with the
layers' removed paths as ghosts, every directory has the children, bytes and file count
the per-entry pass it replaced (``reference_tree``) gives it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.index import subtrees
from inspector.index.entries import DIR, FILE, HARDLINK, SYMLINK, LayerIndex
from inspector.index.merge import merge
from inspector.index.subtrees import KeptSums
from inspector.index.tree import DirTree, layer_marks
from tests.tui.reference_tree import children_and_totals

#: names that sort around "/" ("-" and "." before it, "0" right after it) and nest, so
#: siblings interleave with subtrees in path order
NAMES = ["/a", "/a/b", "/a/b/c", "/a-x", "/a.txt", "/a0", "/a/b-", "/a/b/c/d", "/b",
         "/b/é", "/a-x/y", "/z/q/r", "/a/b.d/e"]
KINDS = [FILE, FILE, DIR, SYMLINK, HARDLINK]

member = st.tuples(st.sampled_from(NAMES), st.sampled_from(KINDS), st.integers(0, 1000))
layer_spec = st.tuples(st.lists(member, max_size=10),
                       st.lists(st.sampled_from(NAMES), max_size=2),
                       st.lists(st.sampled_from(["/a", "/a/b", "/z"]), max_size=1))


def _index(members, whiteouts, opaque) -> LayerIndex:
    index = LayerIndex()
    for path, kind, size in members:
        row = index.add(path, kind, size if kind == FILE else 0, 0o644, 0, 0)
        if kind in (SYMLINK, HARDLINK):
            index.targets[row] = "/a"
    index.whiteouts.extend(whiteouts)
    index.opaque.extend(opaque)
    return index


def _check(fs, ghosts, marks) -> None:
    tree = DirTree(fs, ghosts=ghosts, marks=marks)
    children, totals, counts = children_and_totals(fs, ghosts)
    assert {d: sorted(k) for d, k in children.items()} == \
        {d: sorted(tree.children[d]) for d in tree.children}
    for path in [*fs.entries, *tree.ghosts, "/"]:
        assert (path in tree.children) == (path in children), path
        if path in children:
            assert tree.totals()[path] == totals[path], path
            assert tree.file_count(path) == counts[path], path


@settings(max_examples=300, deadline=None)
@given(layers=st.lists(layer_spec, min_size=1, max_size=3))
def test_same_children_and_totals_as_the_per_entry_pass(layers):
    fs_layers = [_index(*spec) for spec in layers]
    top = len(fs_layers) - 1
    fs = merge(fs_layers)
    marks, ghosts = layer_marks(fs, top)
    _check(fs, ghosts, marks)


EDGES = [
    ("empty", [], {}),
    ("sibling names sort between a directory and its subtree",
     [("/d", DIR, 0), ("/d-x", FILE, 3), ("/d.txt", FILE, 5), ("/d/e", FILE, 7),
      ("/d0", FILE, 11)], {}),
    ("implied parents only", [("/x/y/z", FILE, 2)], {}),
    ("ghosts under a removed directory", [("/keep", FILE, 1)],
     {"/gone/deep/file": False, "/gone": True}),
    ("non-UTF-8 name", [("/d/\udcff", FILE, 9), ("/d/a", FILE, 1)], {}),
]


@pytest.mark.parametrize(("name", "members", "ghosts"), EDGES, ids=[e[0] for e in EDGES])
def test_edge_cases_match_the_reference(name, members, ghosts):
    fs = merge([_index(members, [], [])])
    _check(fs, ghosts, {})


@settings(max_examples=200, deadline=None)
@given(layers=st.lists(layer_spec, min_size=1, max_size=3),
       kept=st.sets(st.sampled_from([*NAMES, "/not/here", "/a/gone"])),
       sparse=st.sampled_from([1, 10_000]))
def test_kept_sums_are_a_recount_of_the_kept_entries(layers, kept, sparse, monkeypatch_sparse):
    """What a filter shows below each directory: ``KeptSums`` by bisection (few kept) and
    by one pass (many kept) against a recount over the kept entries."""
    fs = merge([_index(*spec) for spec in layers])
    tree = DirTree(fs)
    monkeypatch_sparse(sparse)
    shown = KeptSums(tree.sums(), frozenset(kept))
    for d in ["/", *(p for p in fs.entries if p in tree.children)]:
        below = [p for p in kept if p in fs.entries and p.startswith("/" if d == "/" else d + "/")]
        want_bytes = sum(fs.size(p) for p in below if fs.kind(p) == FILE)
        want_count = sum(1 for p in below if fs.kind(p) != DIR)
        assert shown.of(d) == (want_bytes, want_count), d


@pytest.fixture(scope="module")
def monkeypatch_sparse():
    """Sets ``subtrees.SPARSE`` for one example (hypothesis and function fixtures do not
    mix); restored after the module."""
    old = subtrees.SPARSE

    def set_sparse(value: int) -> None:
        subtrees.SPARSE = value

    yield set_sparse
    subtrees.SPARSE = old
