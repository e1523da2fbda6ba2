"""The headless tree model: children by directory, totals, expand/collapse splicing,
sorting, filters, search, ghosts and per-layer marks."""

from __future__ import annotations

import pytest

from inspector.index.merge import merge
from inspector.index.tree import (
    ADDED,
    MODIFIED,
    REMOVED,
    DirTree,
    TreeFilter,
    TreeRows,
    compile_search,
    layer_marks,
)
from tests.tui.helpers import layer

BASE = layer([
    ("/bin", "dir", 0), ("/bin/sh", "file", 100, 0o4755), ("/bin/ls", "file", 50),
    ("/etc", "dir", 0), ("/etc/passwd", "file", 10), ("/etc/ssl/certs/ca.crt", "file", 7),
    ("/lib", "symlink", "usr/lib"), ("/usr/share/doc/a/copyright", "file", 1000),
])
TOP = layer([("/etc/passwd", "file", 12), ("/app", "file", 5)],
            whiteouts=["/usr/share/doc"])


@pytest.fixture
def fs():
    return merge([BASE])


def test_children_and_totals(fs):
    tree = DirTree(fs)
    assert sorted(tree.children["/"]) == ["/bin", "/etc", "/lib", "/usr"]
    assert tree.size("/etc") == 17 and tree.file_count("/etc") == 2
    assert tree.size("/usr") == 1000  # implied directories count too
    assert tree.size("/bin/sh") == 100 and tree.size("/lib") == 0


EXPAND_CASES = [
    # (name, actions, expected rows)
    ("top level only", [], ["/bin", "/etc", "/lib", "/usr"]),
    ("expand etc", [("expand", "/etc")], ["/bin", "/etc", "/etc/passwd", "/etc/ssl", "/lib", "/usr"]),
    ("expand then collapse", [("expand", "/etc"), ("collapse", "/etc")],
     ["/bin", "/etc", "/lib", "/usr"]),
    ("nested expansion survives collapse of the parent",
     [("expand", "/etc"), ("expand", "/etc/ssl"), ("collapse", "/etc"), ("expand", "/etc")],
     ["/bin", "/etc", "/etc/passwd", "/etc/ssl", "/etc/ssl/certs", "/lib", "/usr"]),
    ("a file does not expand", [("expand", "/lib")], ["/bin", "/etc", "/lib", "/usr"]),
]


@pytest.mark.parametrize("actions,expected", [c[1:] for c in EXPAND_CASES],
                         ids=[c[0] for c in EXPAND_CASES])
def test_expand_collapse(fs, actions, expected):
    rows = TreeRows(DirTree(fs))
    for action, path in actions:
        getattr(rows, action)(rows.rows.index(path))
    assert rows.rows == expected
    assert len(rows.depths) == len(rows.rows)


def test_depths_and_expand_all(fs):
    rows = TreeRows(DirTree(fs))
    rows.expand_all()
    assert rows.rows[rows.rows.index("/usr/share/doc/a/copyright")] and len(rows.rows) == len(fs)
    assert rows.depths[rows.rows.index("/usr/share/doc/a/copyright")] == 4
    rows.collapse_all()
    assert rows.rows == ["/bin", "/etc", "/lib", "/usr"]


def test_sort_by_size(fs):
    rows = TreeRows(DirTree(fs), sort="size")
    assert rows.rows == ["/usr", "/bin", "/etc", "/lib"]
    rows.set_sort("name")
    assert rows.rows == ["/bin", "/etc", "/lib", "/usr"]


FILTER_CASES = [
    ("glob on names keeps ancestors", TreeFilter("*.crt"),
     ["/etc", "/etc/ssl", "/etc/ssl/certs", "/etc/ssl/certs/ca.crt"]),
    ("glob on full paths", TreeFilter("/bin/*"), ["/bin", "/bin/ls", "/bin/sh"]),
    ("regex", TreeFilter("pass|copy", regex=True),
     ["/etc", "/etc/passwd", "/usr", "/usr/share", "/usr/share/doc", "/usr/share/doc/a",
      "/usr/share/doc/a/copyright"]),
    ("no match", TreeFilter("nothing-like-this"), []),
    ("bracket first is literal: ] or p", TreeFilter("[]p]asswd"), ["/etc", "/etc/passwd"]),
    ("nested set: [ or p, no FutureWarning", TreeFilter("[[p]asswd"), ["/etc", "/etc/passwd"]),
    ("regex nested set, no FutureWarning", TreeFilter("[[]s", regex=True), []),
    ("class", TreeFilter("[lm]s"), ["/bin", "/bin/ls"]),
]


@pytest.mark.filterwarnings("error")  # a warning would be printed over the TUI
@pytest.mark.parametrize("flt,expected", [c[1:] for c in FILTER_CASES],
                         ids=[c[0] for c in FILTER_CASES])
def test_filters(fs, flt, expected):
    rows = TreeRows(DirTree(fs))
    rows.set_filter(flt)
    assert rows.rows == expected  # matching directories are opened
    rows.set_filter(TreeFilter())
    assert "/bin" in rows.rows and "/lib" in rows.rows


SEARCH_CASES = [
    ("substring, case-insensitive", "PASS", None, False, "/etc/passwd"),
    ("next after the start", "s", "/bin/ls", False, "/bin/sh"),
    ("wraps around", "copyright", "/usr/share/doc/a/copyright", False, "/usr/share/doc/a/copyright"),
    ("backwards", "bin", "/etc", True, "/bin/sh"),
    ("glob on names", "*.crt", None, False, "/etc/ssl/certs/ca.crt"),
    ("no match", "zzz", None, False, None),
]


@pytest.mark.parametrize("term,start,backwards,expected", [c[1:] for c in SEARCH_CASES],
                         ids=[c[0] for c in SEARCH_CASES])
def test_search(fs, term, start, backwards, expected):
    rows = TreeRows(DirTree(fs))
    assert rows.search(term, start, backwards) == expected


def test_reveal_expands_ancestors(fs):
    rows = TreeRows(DirTree(fs))
    row = rows.reveal("/etc/ssl/certs/ca.crt")
    assert rows.rows[row] == "/etc/ssl/certs/ca.crt"
    assert {"/etc", "/etc/ssl", "/etc/ssl/certs"} <= rows.expanded
    # an absent path lands on its nearest visible ancestor
    assert rows.rows[rows.reveal("/etc/ssl/nope")] == "/etc/ssl"


def test_layer_marks_and_ghosts():
    fs = merge([BASE, TOP])
    marks, ghosts = layer_marks(fs, 1)
    assert marks.to_dict() == {"/etc/passwd": MODIFIED, "/app": ADDED}
    assert marks.get("/etc/passwd") == MODIFIED and marks.get("/usr") is None
    assert ghosts == {"/usr/share/doc": True}
    tree = DirTree(fs, ghosts=ghosts, marks=marks)
    assert tree.is_ghost("/usr/share/doc") and tree.marks["/usr/share/doc"] == REMOVED
    rows = TreeRows(tree)
    rows.set_filter(TreeFilter(marks=frozenset({ADDED, MODIFIED, REMOVED})))
    rows.expand_all()
    assert rows.rows == ["/app", "/etc", "/etc/passwd", "/usr", "/usr/share", "/usr/share/doc"]
    marks0, ghosts0 = layer_marks(merge([BASE]), 0)
    assert set(marks0.to_dict().values()) == {ADDED} and not ghosts0


def test_ghost_whose_parents_are_gone():
    fs = merge([BASE])
    tree = DirTree(fs, ghosts={"/gone/deep/file": False})
    rows = TreeRows(tree)
    rows.expand_all()
    assert ["/gone", "/gone/deep", "/gone/deep/file"] == [r for r in rows.rows if r.startswith("/gone")]
    assert tree.is_dir("/gone") and not tree.is_dir("/gone/deep/file")


FILTERED_SIZE_CASES = [
    # (name, filter, directory, bytes shown below it): BASE's sizes, see the top
    ("nothing filtered: everything", TreeFilter(), "/etc", 10 + 7),
    ("a glob: only the match", TreeFilter("passwd"), "/etc", 10),
    ("a glob deeper down", TreeFilter("*.crt"), "/etc", 7),
    ("the same at every level", TreeFilter("*.crt"), "/etc/ssl/certs", 7),
    ("a set of paths (category:, package:)", TreeFilter(only=frozenset({"/bin/sh"})), "/bin", 100),
    ("paths not in this filesystem count nothing",
     TreeFilter(only=frozenset({"/bin/ls", "/bin/gone", "/nowhere/x"})), "/bin", 50),
    ("a directory matching by its own name shows nothing", TreeFilter("doc"), "/usr", 0),
    ("a kept directory with no kept file below", TreeFilter(only=frozenset({"/usr/share/doc"})),
     "/usr", 0),
    ("a regex", TreeFilter("sh$|ls$", regex=True), "/bin", 150),
]


@pytest.mark.parametrize("flt,path,expected", [c[1:] for c in FILTERED_SIZE_CASES],
                         ids=[c[0] for c in FILTERED_SIZE_CASES])
def test_directory_sizes_are_what_the_filter_shows(fs, flt, path, expected):
    rows = TreeRows(DirTree(fs))
    rows.set_filter(flt)
    assert rows.size(path) == expected
    assert rows.size("/bin/sh") == 100  # a file is its own size, filtered or not
    rows.set_filter(TreeFilter())
    assert rows.size(path) == rows.tree.size(path)


def test_size_sort_follows_the_filter(fs):
    rows = TreeRows(DirTree(fs), sort="size")
    assert rows.rows[0] == "/usr"  # 1000 bytes
    # /usr is kept (a directory below it is) but shows no bytes: it sorts last now
    rows.set_filter(TreeFilter(only=frozenset({"/bin/sh", "/etc/passwd", "/usr/share/doc/a"})))
    rows.collapse_all()
    assert rows.rows == ["/bin", "/etc", "/usr"]
    assert [rows.size(p) for p in rows.rows] == [100, 10, 0]


def test_a_follower_takes_the_leaders_rows_and_can_expand_them(fs):
    """Compare's columns (review B1): a follower copies the leader's rows, then leads
    itself; its depths must stay splice-compatible and its sizes its own."""
    leader, follower = TreeRows(DirTree(fs)), TreeRows(DirTree(merge([BASE, TOP])))
    leader.expand(leader.rows.index("/etc"))
    leader.set_filter(TreeFilter("passwd"))
    assert follower.follow(leader) and not follower.follow(leader)  # nothing new the 2nd time
    assert follower.rows == leader.rows and follower.depths.typecode == "I"
    assert follower.size("/etc") == 12 and leader.size("/etc") == 10  # TOP's passwd
    row = follower.rows.index("/etc")
    assert follower.collapse(row) == 1 and follower.expand(row) == 1
    assert follower.rows == leader.rows


def test_unusable_globs_in_the_filter_and_the_search(fs):
    rows = TreeRows(DirTree(fs))
    with pytest.raises(ValueError, match="z-a"):  # the filter prompt shows it, keeps the old one
        rows.set_filter(TreeFilter("[z-a]"))
    assert compile_search("[z-a]")("/x/[Z-A]")  # the search takes it as text instead
    assert rows.search("**a" * 30 + "**b", None) is None  # no backtracking


@pytest.mark.parametrize("keep", [["/a", "/d/b", "/d/c"], ["/d/b"]], ids=["many", "few"])
def test_filtered_totals_past_int64_are_exact(keep):
    """Sparse files may each claim 2**63 - 1 bytes: the shown totals stay exact."""
    big = 2**63 - 1
    fs = merge([layer([("/a", "file", big), ("/d", "dir", 0), ("/d/b", "file", big),
                       ("/d/c", "file", 7)] + [(f"/z{i:03d}", "file", 1) for i in range(40)])])
    rows = TreeRows(DirTree(fs))
    rows.set_filter(TreeFilter(only=frozenset(keep)))
    want = sum(big if p != "/d/c" else 7 for p in keep if p.startswith("/d/"))
    assert rows.size("/d") == want
