"""The packed entry (``inspector/index/packed.py``): one definition, which the C loops
were compiled with."""

from __future__ import annotations

import os

import pytest

from inspector.index import packed, tarscan
from inspector.index.entries import FILE, LayerIndex
from inspector.index.merge import IMPLIED_ROW, merge

#: (name, (layer, row))
CASES = [
    ("first row of the base", (0, 0)),
    ("an implied directory", (3, packed.IMPLIED_ROW)),
    ("the last real row", (1, packed.MASK - 1)),
    ("a high layer", (70_000, 5)),
]


@pytest.mark.parametrize(("name", "where"), CASES, ids=[c[0] for c in CASES])
def test_pack_and_unpack_round_trip(name, where):
    value = packed.pack(*where)
    assert packed.unpack(value) == where
    assert (packed.layer_of(value), packed.row_of(value)) == where


def test_the_merge_uses_the_encoding():
    base, top = LayerIndex(diff_id="sha256:a"), LayerIndex(diff_id="sha256:b")
    base.add("/a/f", FILE, 1, 0o644, 0, 0)
    row = top.add("/a/g", FILE, 2, 0o644, 0, 0)
    fs = merge([base, top])
    assert fs.entries["/a/g"] == packed.pack(1, row)
    assert packed.unpack(fs.entries["/a"]) == (0, IMPLIED_ROW)
    assert fs.sorted_packed().tolist() == [fs.entries[p] for p in fs.sorted_paths()]


@pytest.mark.skipif(not tarscan.available() and os.environ.get("CI") != "true",
                    reason="the C accelerator was not built (no compiler); under CI=true this fails")
def test_the_c_loops_decode_what_packed_encodes():
    from inspector.index import _tarscan

    assert (_tarscan.SHIFT, _tarscan.MASK) == (packed.SHIFT, packed.MASK)
    assert packed.IMPLIED_ROW == packed.MASK
