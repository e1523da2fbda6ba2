"""``Sums`` (the TUI tree's directory totals): the C pass (``_tarscan.prefix_sums``) gives
the figures of the pure-Python ``map``/``accumulate`` passes, on random multi-layer
filesystems with implied directories, whiteouts and every kind; and it rejects columns
that do not fit instead of reading past them."""

from __future__ import annotations

import os
from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.index import subtrees, tarscan
from inspector.index.entries import BLOCK, CHAR, DIR, FIFO, FILE, HARDLINK, SYMLINK, LayerIndex
from inspector.index.merge import merge

pytestmark = pytest.mark.skipif(
    not tarscan.available() and os.environ.get("CI") != "true",
    reason="the C accelerator was not built (no compiler); under CI=true this fails")

KINDS = [FILE, DIR, SYMLINK, HARDLINK, CHAR, BLOCK, FIFO]
NAMES = ["a", "b", "c", "a/x", "a/y", "b/z", "c/d/e", "c/d/f", "q/r/s/t", "a/.wh.x", "b/.wh..wh..opq"]


def _layer(members) -> LayerIndex:
    index = LayerIndex(diff_id="sha256:test")
    for name, kind, size in members:
        if "/.wh." in "/" + name:
            base = name.rpartition("/")[2]
            parent = "/" + name.rpartition("/")[0] if "/" in name else "/"
            if base == ".wh..wh..opq":
                index.opaque.append(parent)
            else:
                index.whiteouts.append(parent.rstrip("/") + "/" + base[4:])
            continue
        row = index.add("/" + name, kind, size if kind == FILE else 0, 0o644, 0, 0)
        if kind in (HARDLINK, SYMLINK):
            index.targets[row] = "/a" if kind == HARDLINK else "a"
    return index


members = st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(KINDS),
                             st.integers(0, 1 << 40)), max_size=12, unique_by=lambda m: m[0])


def _sums(fs, loop):
    """``Sums(fs)`` with ``loop`` as the C pass (None: the pure-Python passes), whatever
    ``INSPECTOR_PURE`` says."""
    saved = tarscan.prefix_sums
    tarscan.prefix_sums = loop
    try:
        return subtrees.Sums(fs)
    finally:
        tarscan.prefix_sums = saved


@settings(max_examples=300, deadline=None)
@given(st.lists(members, min_size=1, max_size=4))
def test_c_sums_are_the_python_sums(layers):
    fs = merge([_layer(m) for m in layers])
    fast, slow = _sums(fs, tarscan._tarscan.prefix_sums), _sums(fs, None)
    assert fast.bytes == slow.bytes and fast.counts == slow.counts
    for path in ["/", *fs.sorted_paths()]:
        assert fast.of(path) == slow.of(path)
    # the totals-only form: MergedFS.file_bytes, against its Python loop
    c_total = _file_bytes(merge([_layer(m) for m in layers]), tarscan._tarscan.prefix_sums)
    assert c_total == _file_bytes(fs, None) == slow.bytes[-1]


def _file_bytes(fs, loop) -> int:
    saved = tarscan.prefix_sums
    tarscan.prefix_sums = loop
    try:
        return fs._sum_file_bytes()
    finally:
        tarscan.prefix_sums = saved


def _args(packed, kinds=None, sizes=None, out=None):
    """Arguments for one layer with one 5-byte file (unless told otherwise)."""
    kinds = [bytearray([FILE])] if kinds is None else kinds
    sizes = [array("q", [5])] if sizes is None else sizes
    n = len(packed) + 1 if out is None else out
    return (array("Q", packed), kinds, sizes, subtrees._IS_FILE, subtrees._NOT_DIR,
            array("q", bytes(8 * n)), array("q", bytes(8 * n)))


#: name, arguments, the error
BAD = [
    ("row past its layer", _args([1]), IndexError),
    ("layer past the list", _args([1 << 32]), IndexError),
    ("sizes column shorter than kinds", _args([0], sizes=[array("q")]), IndexError),
    ("output too short", _args([0], out=1), ValueError),
    ("sizes not int64", _args([0], sizes=[array("i", [5])]), ValueError),
    ("kinds and sizes lists differ", _args([0], sizes=[]), ValueError),
    ("total past int64", _args([0, 0], sizes=[array("q", [2**63 - 1])]), OverflowError),
]


@pytest.mark.parametrize("name,args,error", BAD, ids=[b[0] for b in BAD])
def test_columns_that_do_not_fit_are_refused(name, args, error):
    with pytest.raises(error):
        tarscan._tarscan.prefix_sums(*args)


def test_implied_rows_add_nothing_and_need_no_columns():
    args = _args([0xFFFFFFFF, (7 << 32) | 0xFFFFFFFF, 0])
    assert tarscan._tarscan.prefix_sums(*args) == (5, 1)
    assert list(args[5]) == [0, 0, 0, 5] and list(args[6]) == [0, 0, 0, 1]
    assert tarscan._tarscan.prefix_sums(*args[:5], None, None) == (5, 1)


def test_columns_of_other_shapes_take_the_python_passes():
    """A hand-built index with list columns (not the native arrays the C loops read) gets
    the same figures from the Python passes instead of a buffer error."""
    members = [("a", FILE, 7), ("b", DIR, 0), ("b/z", FILE, 5)]
    native = merge([_layer(members)])
    index = _layer(members)
    index.sizes = list(index.sizes)  # no longer an int64 array
    other = merge([index])
    assert not tarscan.native(other.layers) and tarscan.native(native.layers)
    assert other.file_bytes == native.file_bytes == 12
    assert subtrees.Sums(other).of("/b") == subtrees.Sums(native).of("/b") == (5, 1)


@pytest.mark.parametrize("loop", ["c", "pure"])
def test_totals_past_int64_are_exact(loop):
    """Sparse files may each claim 2**63 - 1 bytes: the C pass gives way, and both paths
    give the exact (Python int) totals."""
    fs = merge([_layer([("a", FILE, 2**63 - 1), ("d", DIR, 0), ("d/b", FILE, 2**63 - 1),
                        ("d/c", FILE, 7)])])
    sums = _sums(fs, tarscan._tarscan.prefix_sums if loop == "c" else None)
    assert sums.of("/") == (2 * (2**63 - 1) + 7, 3)
    assert sums.of("/d") == (2**63 - 1 + 7, 2)
    assert _file_bytes(fs, tarscan._tarscan.prefix_sums if loop == "c" else None) == \
        2 * (2**63 - 1) + 7
