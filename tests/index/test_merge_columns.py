"""The bulk accessors of ``MergedFS`` (issue 16): ``sorted_columns``/``located_sorted``
(the sorted paths' packed values looked up once) and the one-layer shortcut of
``located``/``columns_of`` (the packed value is the row) decode exactly what the per-path
``find`` does, on random one- and multi-layer filesystems, at every chunk boundary."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.index.entries import DIR, FILE, SYMLINK, LayerIndex
from inspector.index.merge import merge

NAMES = ["/a", "/a/b", "/a/b/c", "/a-x", "/b", "/b/c/d", "/z/q"]

member = st.tuples(st.sampled_from(NAMES), st.sampled_from([FILE, DIR, SYMLINK]))
layer_spec = st.tuples(st.lists(member, max_size=8), st.lists(st.sampled_from(NAMES), max_size=2))


def _index(members, whiteouts) -> LayerIndex:
    index = LayerIndex()
    for path, kind in members:
        index.add(path, kind, 3 if kind == FILE else 0, 0o644, 0, 0)
    index.whiteouts.extend(whiteouts)
    return index


@settings(max_examples=200, deadline=None)
@given(layers=st.lists(layer_spec, min_size=1, max_size=3), step=st.integers(1, 4),
       cut=st.integers(0, 12))
def test_bulk_accessors_decode_as_find(layers, step, cut):
    fs = merge([_index(*spec) for spec in layers])
    paths = fs.sorted_paths()
    expected = [(p, *fs.find(p)) for p in paths]  # type: ignore[misc]
    assert list(fs.located(paths)) == expected
    assert sorted(fs.located()) == expected
    assert list(fs.located_sorted(step)) == expected
    lis, rows = fs.sorted_columns()
    assert list(zip(paths, lis, rows, strict=True)) == expected
    lis, rows = fs.sorted_columns(cut, cut + step)
    assert list(zip(paths[cut:cut + step], lis, rows, strict=True)) == expected[cut:cut + step]
    assert fs.columns_of(paths[cut:]) == (
        [li for _, li, _ in expected[cut:]], [row for _, _, row in expected[cut:]])
