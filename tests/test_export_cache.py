"""The export cache streams: a cold run's rendered array goes to the output and, through
zstd, to the entry as it is rendered; a warm run copies it out a slice at a time, only
after the entry's checksum passed; a render that fails leaves no entry."""

from __future__ import annotations

import io
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
