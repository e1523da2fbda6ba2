"""The export's files array: the C renderer (``_tarscan.render_rows``) writes exactly the
text of the Python reference (``export._batch``), on random multi-layer filesystems —
implied directories, whiteouts, hardlinks (with the linked file's size), symlink targets,
every kind, modes with special bits, large ids, non-ASCII and non-UTF-8 names, owners and
categories; and it refuses input that does not fit instead of reading past it."""

from __future__ import annotations

import os
from array import array
from json.encoder import encode_basestring_ascii as escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.index import tarscan
from inspector.index.entries import BLOCK, CHAR, DIR, FIFO, FILE, HARDLINK, SYMLINK, LayerIndex
from inspector.index.merge import IMPLIED_MODE, merge
from inspector.report import export

pytestmark = pytest.mark.skipif(
    not tarscan.available() and os.environ.get("CI") != "true",
    reason="the C accelerator was not built (no compiler); under CI=true this fails")

KINDS = [FILE, DIR, SYMLINK, HARDLINK, CHAR, BLOCK, FIFO]
NAMES = ["a", "b", "a/x", "a/y", "b/z", "c/d/e", "c/d/f", "é/ü", "q/\udcff\udcfe", "s p/\"q\"",
         "t\\u/\n", "e/\U0001f600", "f/\x7f\x01\b\f\r\t~", "a/.wh.x", "b/.wh..wh..opq"]
TARGETS = ["/a/x", "/b/z", "../a", "\udcff", "/nowhere", "é", "\U0010ffff\x00"]

member = st.tuples(st.sampled_from(NAMES), st.sampled_from(KINDS), st.integers(0, 1 << 62),
                   st.sampled_from([0o644, 0o755, 0o4755, 0o2711, 0o1777, 0o7777, 0o177777]),
                   st.integers(0, 2**32 - 1), st.sampled_from(TARGETS))
layers = st.lists(st.lists(member, max_size=10, unique_by=lambda m: m[0]), min_size=1, max_size=3)


def _layer(members) -> LayerIndex:
    index = LayerIndex(diff_id="sha256:test")
    for name, kind, size, mode, uid, target in members:
        parent, _, base = ("/" + name).rpartition("/")
        if base == ".wh..wh..opq":
            index.opaque.append(parent or "/")
        elif base.startswith(".wh."):
            index.whiteouts.append(f"{parent}/{base[4:]}")
        else:
            row = index.add("/" + name, kind, size if kind == FILE else 0, mode, uid, uid // 3)
            if kind in (SYMLINK, HARDLINK):
                index.targets[row] = target
    return index


def _both(fs, owners, cats) -> tuple[str, str]:
    """(C text, Python text) of every row."""
    paths = fs.sorted_paths()
    tail = [f', "layer": {li}, "package": ' for li in range(len(fs.layers))]
    python = export._ROW_SEP.join(export._batch(paths, 0, fs, export._Columns(fs.layers),
                                                export._Meta(), tail, owners, cats))
    saved = tarscan.render_rows
    tarscan.render_rows = tarscan._tarscan.render_rows
    try:
        render = export._c_rows(fs, tail)
    finally:
        tarscan.render_rows = saved
    assert render is not None
    return render(paths, 0, owners, cats), python


@settings(max_examples=300, deadline=None)
@given(layers, st.data())
def test_c_rows_are_the_python_rows(layers, data):
    fs = merge([_layer(m) for m in layers])
    n = len(fs.sorted_paths())
    # the merge rarely links to a sized file here: give some hardlinks a size of their own
    for path in fs.sorted_paths():
        if fs.kind(path) == HARDLINK and data.draw(st.booleans()):
            fs.link_sizes[path] = data.draw(st.integers(0, 1 << 62))
    labels = st.sampled_from(["null", escape("pkg"), escape("é\udcff"), escape("shell")])
    owners = data.draw(st.lists(labels, min_size=n, max_size=n))
    cats = data.draw(st.lists(labels, min_size=n, max_size=n))
    fast, slow = _both(fs, owners, cats)
    assert fast == slow


@settings(max_examples=500, deadline=None)
@given(st.text(), st.text())
def test_any_name_is_escaped_as_json_does(name, target):
    """Names and targets: every code point (surrogates, astral, controls) as
    ``json.encoder.encode_basestring_ascii`` writes it."""
    link = bytearray([SYMLINK])
    text = tarscan._tarscan.render_rows(*_args(paths=[name], columns=[(
        link, array("q", [0]), array("I", [0o777]), array("I", [7]), array("I", [8]))],
        targets=[{0: target}]))
    assert text == (escape(name) + ', "type": "symlink", "size": 0, "mode": "0777", "uid": 7, '
                    '"gid": 8, "target": ' + escape(target) + ', "layer": 0, "package": null, '
                    '"category": null}')


def _args(**change):
    """Arguments for one layer with one file row (``change`` replaces some)."""
    args = {"paths": ["/a"], "packed": array("Q", [0]),
            "columns": [(bytearray([FILE]), array("q", [5]), array("I", [0o644]), array("I", [0]),
                         array("I", [0]))],
            "targets": [{}], "link_sizes": {}, "tails": [', "layer": 0, "package": '],
            "owners": ["null"], "cats": ["null"], "kinds": export._KIND_TEXTS,
            "implied": IMPLIED_MODE}
    args.update(change)
    return list(args.values())


#: name, arguments, the error
BAD = [
    ("row past its layer", _args(packed=array("Q", [1])), IndexError),
    ("layer past the list", _args(packed=array("Q", [1 << 32])), IndexError),
    ("packed shorter than paths", _args(packed=array("Q")), ValueError),
    ("columns of different lengths",
     _args(columns=[(bytearray([FILE]), array("q"), array("I", [0]), array("I", [0]), array("I", [0]))]),
     ValueError),
    ("owners shorter than paths", _args(owners=[]), ValueError),
    ("a kind with no text", _args(columns=[(bytearray([9]), array("q", [5]), array("I", [0]),
                                            array("I", [0]), array("I", [0]))]), ValueError),
    ("a piece not ASCII", _args(cats=["é"]), ValueError),
    ("columns not a 5-tuple", _args(columns=[(bytearray([FILE]),)]), TypeError),
]


@pytest.mark.parametrize("name,args,error", BAD, ids=[b[0] for b in BAD])
def test_input_that_does_not_fit_is_refused(name, args, error):
    with pytest.raises(error):
        tarscan._tarscan.render_rows(*args)


def test_whole_export_is_the_same_with_and_without_the_accelerator(tmp_path):
    """End to end on a sample: the JSON written with ``INSPECTOR_PURE=1`` is the same."""
    import subprocess
    import sys

    out = {}
    for pure in ("0", "1"):
        path = tmp_path / f"out-{pure}.json"
        subprocess.run([sys.executable, "-m", "inspector", "export", "sample:debian-12-slim", "-o",
                        str(path), "-q", "--cache-dir", str(tmp_path / f"cache-{pure}")],
                       check=True, env={**os.environ, "INSPECTOR_PURE": pure})
        out[pure] = path.read_bytes()
    assert out["0"] == out["1"] and b'"files": [' in out["0"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(), max_size=30), st.integers(-3, 35), st.integers(-3, 35))
def test_json_strings_are_the_joined_escapes(strings, start, end):
    """``json_strings`` (the export's long path lists) against the Python it replaces,
    with any slice bounds (clamped as a slice clamps them)."""
    want = ", ".join(map(escape, strings[max(start, 0):max(end, 0)]))
    assert tarscan._tarscan.json_strings(strings, start, end) == want


def test_json_strings_refuse_what_is_not_a_str():
    with pytest.raises(TypeError):
        tarscan._tarscan.json_strings(["/a", 3], 0, 2)
