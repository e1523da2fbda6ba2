"""The export cache streams: a cold run's rendered array goes to the output and, through
zstd, to the entry as it is rendered; a warm run copies it out a slice at a time, only
after the entry's checksum passed; a render that fails leaves no entry."""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from inspector.analysis_cache import analysis_key
from inspector.report import export_cache

DIFF_IDS = ["sha256:" + "1" * 64, "sha256:" + "2" * 64]
ANALYSIS = SimpleNamespace(layers=[SimpleNamespace(diff_id=d, cache_key=d) for d in DIFF_IDS])
#: more than two warm slices of text, in rows as the renderer writes them
ROWS = [f'{{"path": "/d{i // 1000:04d}/f{i:06d}", "size": {i}}}' for i in range(120_000)]
TEXT = "[" + ",\n".join(ROWS) + "]"


class Recorder:
    """A text output that keeps what it was given, piece by piece."""

    def __init__(self) -> None:
        self.pieces: list[str] = []

    def write(self, text: str) -> None:
        self.pieces.append(text)

    @property
    def text(self) -> str:
        return "".join(self.pieces)


def render(analysis, out) -> None:
    render.calls += 1
    out.write("[")
    for start in range(0, len(ROWS), 4096):
        out.write((",\n" if start else "") + ",\n".join(ROWS[start:start + 4096]))
        if start and render.fail_at == start:
            raise RuntimeError("render failed")
    out.write("]")


def _reset() -> None:
    render.calls, render.fail_at = 0, None


def _entry(root: Path) -> Path:
    return export_cache._store(root).path(analysis_key(DIFF_IDS))


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p.name != ".checked"]


def test_cold_then_warm_give_the_rendered_text_and_warm_renders_nothing(tmp_path):
    _reset()
    cold, warm = Recorder(), Recorder()
    export_cache.write_files_cached(ANALYSIS, cold, tmp_path, render)
    assert cold.text == TEXT and render.calls == 1
    assert _files(tmp_path) == [_entry(tmp_path)]
    assert _entry(tmp_path).stat().st_size < len(TEXT) // 4  # compressed
    export_cache.write_files_cached(ANALYSIS, warm, tmp_path, render)
    assert warm.text == TEXT and render.calls == 1
    assert max(len(p) for p in warm.pieces) <= export_cache.SLICE < len(TEXT)


def test_a_render_that_fails_mid_stream_leaves_no_entry_and_no_temp_file(tmp_path):
    _reset()
    render.fail_at = 4096 * 10
    out = Recorder()
    with pytest.raises(RuntimeError):
        export_cache.write_files_cached(ANALYSIS, out, tmp_path, render)
    assert out.pieces  # rows went out before the failure
    assert _files(tmp_path) == []
    render.fail_at = None
    out = Recorder()
    export_cache.write_files_cached(ANALYSIS, out, tmp_path, render)
    assert out.text == TEXT and render.calls == 2


def _flip_middle(data: bytes) -> bytes:
    i = len(data) // 2
    return data[:i] + bytes([data[i] ^ 0x04]) + data[i + 1:]


DAMAGE = [
    ("bit flip in the zstd frame", _flip_middle),
    ("truncated", lambda d: d[:-100]),
    ("another entry's bytes", lambda d: b"INSPEXP2" + d[8:][::-1]),
]


@pytest.mark.parametrize("name,damage", DAMAGE, ids=[d[0] for d in DAMAGE])
def test_a_damaged_entry_writes_nothing_from_it_and_is_rendered_again(tmp_path, name, damage):
    _reset()
    export_cache.write_files_cached(ANALYSIS, io.StringIO(), tmp_path, render)
    path = _entry(tmp_path)
    path.write_bytes(damage(path.read_bytes()))
    out = Recorder()
    export_cache.write_files_cached(ANALYSIS, out, tmp_path, render)
    assert out.text == TEXT and render.calls == 2  # rendered, not half copied then rendered
    assert export_cache._store(tmp_path).read(analysis_key(DIFF_IDS)) is not None  # stored again


def test_without_a_cache_dir_or_with_a_layer_without_diff_id_it_only_renders(tmp_path):
    _reset()
    out = Recorder()
    export_cache.write_files_cached(ANALYSIS, out, None, render)
    no_id = SimpleNamespace(layers=[SimpleNamespace(diff_id="", cache_key="")])
    export_cache.write_files_cached(no_id, out, tmp_path, render)
    assert out.text == TEXT * 2 and render.calls == 2 and _files(tmp_path) == []


# ---- the document's tail (packages, base/own sides) ------------------------------------

TAIL = ('[{"name": "bash"}]', '{"files": 2}', '{"files": 1}')


def tail_render(texts=TAIL):
    def render():
        render.calls += 1
        return texts
    render.calls = 0
    return render


def test_the_tail_is_rendered_once_per_chain_and_base_length(tmp_path):
    render = tail_render()
    assert export_cache.tail_texts(ANALYSIS, tmp_path, 0, render) == TAIL
    assert export_cache.tail_texts(ANALYSIS, tmp_path, 0, render) == TAIL
    assert render.calls == 1
    # another base length splits the figures differently: its own entry, never the first's
    split_at_1 = ('[]', '{"files": 3}', '{"files": 0}')
    other = tail_render(split_at_1)
    assert export_cache.tail_texts(ANALYSIS, tmp_path, 1, other) == split_at_1
    assert export_cache.tail_texts(ANALYSIS, tmp_path, 1, other) == split_at_1
    assert other.calls == 1
    assert export_cache.tail_texts(ANALYSIS, tmp_path, 0, render) == TAIL and render.calls == 1
    store = export_cache._store(tmp_path)
    assert {p.name for p in _files(tmp_path)} == {
        store.path(export_cache.tail_key(DIFF_IDS, n)).name for n in (0, 1)}


def test_a_layer_without_diff_id_renders_the_tail_and_stores_nothing(tmp_path):
    no_id = SimpleNamespace(layers=[SimpleNamespace(diff_id="", cache_key="")])
    render = tail_render()
    assert export_cache.tail_texts(no_id, tmp_path, 0, render) == TAIL
    assert export_cache.tail_texts(no_id, tmp_path, 0, render) == TAIL
    assert render.calls == 2 and _files(tmp_path) == []


V = export_cache.VERSION
#: (name, header, body) of an entry whose frame is sound but whose parts are not these
BAD_TAILS = [
    ("lengths that do not add up", {"version": V, "tail": [1, 2, 3]}, b"abcdefg"),
    ("two parts", {"version": V, "tail": [3, 4]}, b"abcdefg"),
    ("a negative length", {"version": V, "tail": [-1, 4, 4]}, b"abcdefg"),
    ("another version", {"version": V + 1, "tail": [1, 1, 1]}, b"abc"),
    ("no lengths", {"version": V}, b"abc"),
    ("not ASCII", {"version": V, "tail": [1, 1, 2]}, "ab\u00e9".encode("latin-1") + b"x"),
]


@pytest.mark.parametrize("name,header,body", BAD_TAILS, ids=[b[0] for b in BAD_TAILS])
def test_a_tail_entry_that_does_not_describe_its_body_is_rendered_again(tmp_path, name,
                                                                       header, body):
    store, key = export_cache._store(tmp_path), export_cache.tail_key(DIFF_IDS, 0)
    store.write(key, header, [body])
    render = tail_render()
    assert export_cache.tail_texts(ANALYSIS, tmp_path, 0, render) == TAIL
    assert render.calls == 1
    assert export_cache.tail_texts(ANALYSIS, tmp_path, 0, render) == TAIL
    assert render.calls == 1  # the replacement is served


def test_a_damaged_tail_entry_is_rendered_again(tmp_path):
    render = tail_render()
    export_cache.tail_texts(ANALYSIS, tmp_path, 0, render)
    path = export_cache._store(tmp_path).path(export_cache.tail_key(DIFF_IDS, 0))
    path.write_bytes(_flip_middle(path.read_bytes()))
    assert export_cache.tail_texts(ANALYSIS, tmp_path, 0, render) == TAIL
    assert render.calls == 2


def test_exports_with_and_without_a_base_from_one_cache_equal_uncached_ones(tmp_path):
    """One chain, two base lengths (the detected sample base: 1; none: 0), alternated in
    one cache directory: each export is the one written without a cache."""
    from inspector.analysis import analyze, open_image
    from inspector.options import Options
    from inspector.report.export import write_export

    options = Options(cache_dir=tmp_path, quiet=True)
    analysis = analyze(open_image("sample:hello-debian", options), options)

    def export(detect: bool, cache_dir) -> str:
        out = io.StringIO()
        write_export(analysis, out, cache_dir=cache_dir, detect=detect)
        return out.getvalue()

    expected = {detect: export(detect, None) for detect in (True, False)}
    assert expected[True] != expected[False]
    for detect in (True, False, True, False):
        assert export(detect, tmp_path) == expected[detect], detect
    assert json.loads(expected[True])["base"]["layers"] == 1
