"""Very deep paths through the walker, the merge and the tree model (issue 11, item 2):
a 10,000-component name and 3,000 nested directories are indexed, merged and shown
without recursion; a layer whose names would imply an unbounded mass of parent
directories (each implied parent is a full path string) is refused with a ``TarError``."""

from __future__ import annotations

import pytest

from inspector.errors import TarError
from inspector.index import layerstep
from inspector.index.entries import LayerIndex
from inspector.index.merge import merge
from inspector.index.tarwalk import walk_tar
from inspector.index.tree import DirTree, TreeFilter, TreeRows, layer_marks
from tests.hostile.tarbytes import archive, member, pax
from tests.index.helpers import chunked


def _walk(data: bytes, what: str = "layer 0") -> LayerIndex:
    return walk_tar(chunked(data), LayerIndex(), what=what)


def _named(name: str, data: bytes = b"", **fields) -> bytes:
    """A member whose (long) name travels in a PAX header."""
    return pax({"path": name}) + member("placeholder", data, **fields)


def _deep_member(components: int, leaf: str = "f", top: str = "a") -> bytes:
    return _named("/".join([top] + ["a"] * (components - 2) + [leaf]), b"deep")


DEEP = [
    # (case, layer tar, components of the deepest path)
    ("one-10000-component-name", archive(_deep_member(10_000), member("top", b"1")), 10_000),
    ("3000-nested-directories",
     archive(*[_named("/".join(["d"] * i), typeflag=b"5") for i in range(1, 3001)],
             _named("/".join(["d"] * 3000) + "/leaf", b"x")), 3001),
]


@pytest.mark.parametrize("case,tar,depth", DEEP, ids=[d[0] for d in DEEP])
def test_deep_paths_index_merge_and_tree(case, tar, depth):
    index = _walk(tar)
    deepest = max(index.paths, key=len)
    assert deepest.count("/") == depth
    fs = merge([index])
    assert deepest in fs and fs.kind_name(deepest) == "file"
    assert fs.kind_name(deepest.rsplit("/", 1)[0]) == "dir"  # parents exist (implied or not)
    tree = DirTree(fs)
    assert tree.size("/") == sum(index.sizes)
    assert tree.file_count("/") == len([k for k in index.kinds if k != 5])
    rows = TreeRows(tree)
    rows.expand_all()
    assert deepest in rows.rows
    assert max(rows.depths) == depth - 1
    assert rows.reveal(deepest) == rows.rows.index(deepest)
    assert rows.search("leaf" if "leaf" in deepest else "/f", None) is not None
    rows.set_filter(TreeFilter(pattern="leaf" if "leaf" in deepest else "f"))
    assert deepest in rows.rows
    marks, ghosts = layer_marks(fs, 0)
    assert marks.get(deepest) == "added" and ghosts == {}


def test_deep_paths_in_an_upper_layer_and_their_whiteout():
    base = _walk(archive(member("keep", b"k")))
    upper = _walk(archive(_deep_member(5_000)))
    gone = _walk(archive(member("a/.wh.a")))  # removes the whole deep subtree below /a
    fs = merge([base, upper, gone])
    assert sorted(fs.entries) == ["/a", "/keep"]
    assert fs.stats[2].removed == 4_999  # /a/a … down to the file; /a itself stays
    assert fs.removed[2]["/a/a"] == (4, True)


@pytest.mark.parametrize("layers_below", [0, 1], ids=["base-layer", "upper-layer"])
def test_implied_directory_mass_is_bounded(monkeypatch, layers_below):
    """Each member below is 2,000 components deep in a tree of its own: ~2,000 implied
    parents of ~2 kB each per member. Past the budget the merge stops with a TarError
    naming the layer (it would otherwise hold depth × length bytes per member)."""
    monkeypatch.setattr(layerstep, "IMPLIED_BUDGET", 20_000_000)
    members = [_deep_member(2_000, top=f"t{i}") for i in range(12)]
    layers = [_walk(archive(member("x", b"1")))] * layers_below + [_walk(archive(*members))]
    with pytest.raises(TarError) as info:
        merge(layers)
    assert f"layer {layers_below + 1}" in str(info.value) and "deep" in str(info.value)
    # the same names, fewer of them, stay within the budget and merge
    fs = merge(layers[:-1] + [_walk(archive(*members[:2]))])
    assert len(fs) > 3_990
