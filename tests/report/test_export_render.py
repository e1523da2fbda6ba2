"""The files array of ``inspector export``: the column-wise, batched renderer (issue 16)
writes the same bytes as the row-by-row renderer it replaced (``reference_export``), on
random multi-layer images and at every batch boundary; a cached array written in slices
is the array rendered cold; the header sections written piecewise are ``json.dumps``."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.analysis import analyze
from inspector.options import Options
from inspector.report import export
from inspector.report.export import write_export, write_files, write_json
from inspector.sources.resolve import open_image
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout
from tests.report.reference_export import write_files as reference_write_files

#: a small name space, so layers overwrite, white out and imply each other's paths;
#: quotes, backslashes and non-ASCII exercise the JSON escaping
NAMES = ["a", "a/b", "a/b/c", "a/é", 'q"uote', "back\\slash", "d/e/f/g", "usr/bin/sh",
         "usr/lib/x.so", "etc/passwd", "tab\tname", "d"]

entry = st.one_of(
    st.builds(lambda data, mode, uid: Entry("file", data, mode=mode, uid=uid),
              st.binary(max_size=40), st.sampled_from([0o644, 0o755, 0o4755, 0o600]),
              st.sampled_from([0, 1000])),
    st.builds(lambda mode: Entry("dir", mode=mode), st.sampled_from([0o755, 0o1777, 0o700])),
    st.builds(lambda target: Entry("symlink", target=target),
              st.sampled_from(["a", "/etc/passwd", "../x", "é", 'q"'])),
    st.builds(lambda target: Entry("hardlink", target=target), st.sampled_from(NAMES)),
    st.builds(lambda kind: Entry(kind), st.sampled_from(["fifo", "char"])),
)
layer_spec = st.tuples(st.dictionaries(st.sampled_from(NAMES), entry, max_size=8),
                       st.lists(st.sampled_from(NAMES), max_size=2, unique=True),
                       st.lists(st.sampled_from(["a", "d", "usr"]), max_size=1))


def _analysis(tmp_path, layers):
    blobs = [make_layer(files, whiteouts, opaque) for files, whiteouts, opaque in layers]
    write_oci_layout(tmp_path, [ImageSpec(blobs, ref_name="t")])
    return analyze(open_image(f"oci:{tmp_path}:t", Options(no_cache=True)),
                   Options(no_cache=True))


def _render(fn, analysis) -> str:
    out = io.StringIO()
    fn(analysis, out)
    return out.getvalue()


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(layers=st.lists(layer_spec, min_size=1, max_size=3), batch=st.integers(1, 5))
def test_same_bytes_as_the_row_by_row_renderer(tmp_path_factory, layers, batch):
    analysis = _analysis(tmp_path_factory.mktemp("oci"), layers)
    expected = _render(reference_write_files, analysis)
    saved = export.WRITE_BATCH
    export.WRITE_BATCH = batch  # batch boundaries fall everywhere in these small images
    try:
        assert _render(write_files, analysis) == expected
    finally:
        export.WRITE_BATCH = saved
    json.loads(expected)  # and it is JSON


EDGES = [
    ("empty image", [({}, [], [])]),
    ("implied parents only", [({"x/y/z": b"1"}, [], [])]),
    ("hardlink to a file a later layer removes",
     [({"f": b"12345", "h": Entry("hardlink", target="f")}, [], []), ({}, ["f"], [])]),
    ("opaque directory over a lower tree",
     [({"a/b": b"1", "a/c": Entry("symlink", target="b")}, [], []),
      ({"a/d": b"22"}, [], ["a"])]),
]


@pytest.mark.parametrize(("name", "layers"), EDGES, ids=[e[0] for e in EDGES])
def test_edge_cases_match_the_reference(tmp_path, name, layers):
    analysis = _analysis(tmp_path, layers)
    assert _render(write_files, analysis) == _render(reference_write_files, analysis)


def test_cached_array_written_in_slices_equals_the_cold_render(tmp_path, monkeypatch):
    files = {f"dir{i % 7}/file{i}.txt": b"x" * (i % 13) for i in range(1500)}
    write_oci_layout(tmp_path / "oci", [ImageSpec([make_layer(files)], ref_name="t")])
    options = Options(cache_dir=tmp_path / "cache")
    ref = f"oci:{tmp_path / 'oci'}:t"
    monkeypatch.setattr(export, "WRITE_SLICE", 1000)  # the cached array is ~200 kB
    outputs, writes = [], []
    for _ in range(2):  # cold (renders and stores), then warm (from the export cache)
        out = io.StringIO()
        real = out.write
        out.write = lambda text, real=real: writes.append(text) or real(text)
        write_export(analyze(open_image(ref, options), options), out,
                     cache_dir=options.cache_dir)
        outputs.append(out.getvalue())
    assert outputs[0] == outputs[1]
    marks = [i for i, text in enumerate(writes) if text == '  "files": ']
    start = marks[1] + 1  # the warm run's files array starts after its second mark
    end = next(i for i in range(start, len(writes)) if writes[i].startswith(',\n  "'))
    pieces = writes[start:end]
    array = "".join(pieces)
    assert json.loads(array) == json.loads(outputs[1])["files"]
    assert len(array) > 100_000
    assert max(map(len, pieces)) <= 1000


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=6) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    | st.dictionaries(st.integers(0, 9), inner, max_size=2)
    | st.lists(st.text(max_size=5), min_size=3, max_size=12),
    max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(value=json_values, piece=st.integers(1, 4))
def test_write_json_is_json_dumps(value, piece):
    saved = export.JSON_PIECE
    export.JSON_PIECE = piece  # lists of strings longer than this go piecewise
    try:
        parts: list[str] = []
        write_json(value, parts.append)
    finally:
        export.JSON_PIECE = saved
    assert "".join(parts) == json.dumps(value, ensure_ascii=True)


def test_categories_paths_are_written_in_pieces(tmp_path, monkeypatch):
    files = {f"etc/conf{i}": b"x" for i in range(50)}
    write_oci_layout(tmp_path / "oci", [ImageSpec([make_layer(files)], ref_name="t")])
    options = Options(no_cache=True)
    analysis = analyze(open_image(f"oci:{tmp_path / 'oci'}:t", options), options)
    monkeypatch.setattr(export, "JSON_PIECE", 8)
    writes: list[str] = []
    out = io.StringIO()
    out.write = lambda text: writes.append(text) or 0
    write_export(analysis, out)
    doc = json.loads("".join(writes))
    listed = [p for total in doc["categories"].values() for p in total["paths"]]
    assert sorted(listed) == sorted(f"/etc/conf{i}" for i in range(50))
    # the files array's rows carry "type"; every other write lists at most 8 paths
    listing = [w.count('"/etc/conf') for w in writes if '"type"' not in w]
    assert max(listing) == 8
