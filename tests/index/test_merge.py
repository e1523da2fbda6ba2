"""Merge corpora (registry.md §10 items 35–42): whiteouts, opaque dirs, hardlinks,
replacements, implied parents, names; per-layer counts; efficiency on hand-computed cases."""

from __future__ import annotations

import pytest

from inspector.index.efficiency import efficiency
from inspector.index.merge import merge
from tests.builders import Entry, make_tar
from tests.index.helpers import walk_bytes

D = Entry("dir")


def L(files=None, whiteouts=(), opaque=()):  # noqa: N802 - reads like a table
    return walk_bytes(make_tar(files or {}, whiteouts, opaque))


def view(fs) -> dict[str, tuple]:
    """{path: (type, size, target)} of the merged filesystem."""
    return {p: (fs.kind_name(p), fs.size(p), fs.target(p)) for p in fs.sorted_paths()}


def paths(fs) -> list[str]:
    return fs.sorted_paths()


F = ("file",)

CASES = [
    ("whiteout-file",
     [L({"a": b"1", "b": b"2"}), L(whiteouts=["a"])],
     ["/b"]),
    ("whiteout-dir-removes-subtree",
     [L({"d": D, "d/x": b"1", "d/e/y": b"2", "keep": b""}), L(whiteouts=["d"])],
     ["/keep"]),
    ("whiteout-nonexistent-ignored",
     [L({"a": b"1"}), L(whiteouts=["nope", "a/deeper"])],
     ["/a"]),
    ("opaque-before-new-children",
     [L({"d/old": b"o", "d/sub/x": b"x"}), L({"d/.wh..wh..opq": b"", "d/new": b"n"})],
     ["/d", "/d/new"]),
    ("opaque-after-new-children",
     [L({"d/old": b"o", "d/sub/x": b"x"}), L({"d/new": b"n"}, opaque=["d"])],
     ["/d", "/d/new"]),
    ("opaque-in-new-dir",
     [L({"x": b"1"}), L({"n": D, "n/file": b"f"}, opaque=["n"])],
     ["/n", "/n/file", "/x"]),
    ("opaque-keeps-the-dir-itself",
     [L({"d": Entry("dir", mode=0o700), "d/old": b"o"}), L(opaque=["d"])],
     ["/d"]),
    ("same-layer-foo-then-whiteout-foo-stays",  # spec + umoci; Docker would delete it
     [L({"foo": b"1"}), L({"foo": b"22"}, whiteouts=["foo"])],
     ["/foo"]),
    ("same-layer-whiteout-then-foo",
     [L({"foo": b"1"}), L({".wh.foo": b"", "foo": b"22"})],
     ["/foo"]),
    ("whiteout-in-the-base-layer-hides-nothing-of-its-own",
     [L({"foo": b"1"}, whiteouts=["foo"])],
     ["/foo"]),
    ("ggcr-2191-dir-whited-out-then-recreated",
     [L({"a/foo": b"f", "b/bar": b"b"}), L(whiteouts=["a"]), L({"a/baz": b"z"})],
     ["/a", "/a/baz", "/b", "/b/bar"]),
    ("file-replaced-by-dir",
     [L({"x": b"file"}), L({"x": D, "x/y": b"y"})],
     ["/x", "/x/y"]),
    ("file-replaced-by-implied-dir",
     [L({"x": b"file"}), L({"x/y": b"y"})],
     ["/x", "/x/y"]),
    ("dir-replaced-by-file",
     [L({"d": D, "d/a": b"a", "d/b/c": b"c"}), L({"d": b"now a file"})],
     ["/d"]),
    ("symlink-replaced-by-dir",
     [L({"s": Entry("symlink", target="/etc")}), L({"s": D, "s/f": b"f"})],
     ["/s", "/s/f"]),
    ("implied-parents",
     [L({"a/b/c": b"c"})],
     ["/a", "/a/b", "/a/b/c"]),
    ("dot-slash-and-plain-are-one-node",
     [L({"./etc/x": b"1", "etc/x": b"22"})],
     ["/etc", "/etc/x"]),
    ("aufs-plnk-targets-leave-the-filesystem",
     [L({".wh..wh.plnk/1.2": b"data", "h": Entry("hardlink", target=".wh..wh.plnk/1.2")})],
     ["/h"]),
]


@pytest.mark.parametrize("name,layers,expected", CASES, ids=[c[0] for c in CASES])
def test_merged_paths(name, layers, expected):
    assert paths(merge(layers)) == expected


def test_whiteout_then_same_layer_entry_keeps_new_content():
    fs = merge([L({"foo": b"1"}), L({"foo": b"22"}, whiteouts=["foo"])])
    assert fs.size("/foo") == 2 and fs.layer_of("/foo") == 1


def test_duplicate_names_last_wins():
    fs = merge([L({"x": b"1", "./x": b"333", "y": Entry("symlink", target="a"),
                   "./y": b"55"})])
    assert view(fs) == {"/x": ("file", 3, None), "/y": ("file", 2, None)}


def test_file_dir_replacement_types():
    fs = merge([L({"d": D, "d/a": b"a"}), L({"d": b"xyz"})])
    assert view(fs) == {"/d": ("file", 3, None)}
    fs = merge([L({"s": Entry("symlink", target="/etc")}), L({"s": D, "s/f": b"f"})])
    assert view(fs)["/s"] == ("dir", 0, None)


def test_implied_parent_mode_and_owner():
    fs = merge([L({"a/b/c": Entry("file", b"c", mode=0o600, uid=7, gid=8)})])
    assert (fs.mode("/a"), fs.owner("/a")) == (0o755, (0, 0))
    assert (fs.mode("/a/b/c"), fs.owner("/a/b/c")) == (0o600, (7, 8))


HARDLINKS = [
    # (name, layers, path, expected (type, size, target))
    ("within-layer", [L({"a": b"0123456789", "h": Entry("hardlink", target="a")})],
     "/h", ("hardlink", 10, "/a")),
    ("across-layers", [L({"a": b"0123456789"}), L({"h": Entry("hardlink", target="./a")})],
     "/h", ("hardlink", 10, "/a")),
    # the file's path gone later: the data lives on in the link, which is now the file
    ("target-whited-out-later-link-is-the-file",
     [L({"a": b"0123456789"}), L({"h": Entry("hardlink", target="a")}), L(whiteouts=["a"])],
     "/h", ("file", 10, None)),
    ("chain", [L({"a": b"0123", "h1": Entry("hardlink", target="a"),
                  "h2": Entry("hardlink", target="h1")})],
     "/h2", ("hardlink", 4, "/h1")),
    ("dangling", [L({"h": Entry("hardlink", target="missing")})],
     "/h", ("hardlink", 0, "/missing")),
    # the target comes later in the tar: dangling at link time (umoci and tar -x fail too)
    ("before-its-target", [L({"h": Entry("hardlink", target="a"), "a": b"0123"})],
     "/h", ("hardlink", 0, "/a")),
    # the link precedes the whiteout in the tar: Docker and umoci link to the lower file first
    ("target-whited-out-by-the-same-layer",
     [L({"a": b"0123456789"}), L({"h": Entry("hardlink", target="a")}, whiteouts=["a"])],
     "/h", ("file", 10, None)),
    ("target-overwritten-later-link-holds-the-old-data",
     [L({"a": b"0123456789", "h": Entry("hardlink", target="a")}), L({"a": b"x"})],
     "/h", ("file", 10, None)),
    ("two-links-target-gone-first-in-path-order-is-the-file",
     [L({"a": b"0123", "z": Entry("hardlink", target="a"), "m": Entry("hardlink", target="a")}),
      L(whiteouts=["a"])],
     "/z", ("hardlink", 4, "/m")),
]


@pytest.mark.parametrize("name,layers,path,expected", HARDLINKS, ids=[h[0] for h in HARDLINKS])
def test_hardlinks(name, layers, path, expected):
    assert view(merge(layers))[path] == expected


# --- per-layer added / modified / removed --------------------------------------------

def test_per_layer_counts():
    fs = merge([
        L({"a": b"1", "b": b"22", "d/c": b"333", "keep": D}),
        L({"a": b"4444", "e": b"55555", "keep": D}, whiteouts=["b"]),  # keep: same attrs
        L({"keep": Entry("dir", mode=0o700)}, whiteouts=["d"]),  # metadata-only change
    ])
    s = fs.stats
    assert (s[0].added, s[0].modified, s[0].removed) == (5, 0, 0)  # a b d d/c keep
    assert (s[0].added_bytes, s[0].modified_bytes) == (6, 0)
    assert (s[1].added, s[1].modified, s[1].removed) == (1, 1, 1)
    assert (s[1].added_bytes, s[1].modified_bytes, s[1].removed_bytes) == (5, 4, 2)
    assert (s[2].added, s[2].modified, s[2].removed) == (0, 1, 2)  # d and d/c removed
    assert s[2].removed_bytes == 3
    assert fs.removed[2] == {"/d": (3, True)}


# --- efficiency --------------------------------------------------------------------

def test_efficiency_dive_testefficiency_case():
    """dive's ``TestEfficiency`` trees (nginx.conf 2000 → 5000, public 3000, athing 10000,
    then ``/etc/.wh.nginx``). With real directory entries, dive's formula counts the
    whited-out directory at the bytes below it (5000 + 3000): score = (2000 + 3000 + 10000
    + 8000) / (7000 + 3000 + 10000 + 8000). dive's own test expects 0.75 only because its
    in-memory trees have no directory entries (``IsDir`` false), so the whiteout counts 0."""
    layers = [
        L({"etc": D, "etc/nginx": D, "etc/nginx/nginx.conf": b"n" * 2000,
           "etc/nginx/public": b"p" * 3000}),
        L({"etc/nginx/nginx.conf": b"N" * 5000, "etc/athing": b"a" * 10000}),
        L(whiteouts=["etc/nginx"]),
    ]
    eff = efficiency(merge(layers))
    assert eff.score == pytest.approx(23000 / 28000)
    assert eff.wasted_bytes == 7000  # nginx.conf, both copies (dive #684)
    assert [(p, n, b) for p, n, b in eff.inefficient] == [("/etc/nginx/nginx.conf", 2, 7000)]
    assert eff.reclaimable_bytes == 20000 - 10000  # everything but athing is gone


def test_efficiency_without_deletion_matches_dive_expected_score():
    layers = [L({"etc/nginx/nginx.conf": b"n" * 2000, "etc/nginx/public": b"p" * 3000}),
              L({"etc/nginx/nginx.conf": b"N" * 5000, "etc/athing": b"a" * 10000})]
    eff = efficiency(merge(layers))
    assert eff.score == 0.75  # dive TestEfficiency's expected score
    assert (eff.wasted_bytes, eff.reclaimable_bytes) == (7000, 2000)


EFFICIENCY = [
    # (name, layers, score, wasted, reclaimable)
    ("scratch-empty-file", [L({"nothing": b""})], 1.0, 0, 0),  # dive TestEfficency_ScratchImage
    ("no-layers", [], 1.0, 0, 0),
    ("single-copy", [L({"a": b"x" * 100})], 1.0, 0, 0),
    ("file-rewritten-3x", [L({"a": b"x" * 100}), L({"a": b"y" * 50}), L({"a": b"z" * 10})],
     10 / 160, 160, 150),
    ("file-deleted", [L({"a": b"x" * 100, "b": b"y" * 100}), L(whiteouts=["a"])],
     100 / 200, 100, 100),
    ("hardlinks-count-zero", [L({"a": b"x" * 100, "h": Entry("hardlink", target="a")}),
                              L({"h": Entry("hardlink", target="a")})], 1.0, 0, 0),
    ("chmod-layer-duplicates", [L({"a": b"x" * 100}), L({"a": Entry("file", b"x" * 100, mode=0o600)})],
     100 / 200, 200, 100),
]


@pytest.mark.parametrize("name,layers,score,wasted,reclaimable", EFFICIENCY,
                         ids=[e[0] for e in EFFICIENCY])
def test_efficiency_table(name, layers, score, wasted, reclaimable):
    eff = efficiency(merge(layers))
    assert eff.score == pytest.approx(score)
    assert (eff.wasted_bytes, eff.reclaimable_bytes) == (wasted, reclaimable)
