"""Cache entries copied over another image's entry, or damaged, are never served: every
kind of cache (layer index, analysis, rendered export, engine record) checks the full key
and the code digest inside its checksummed body, and the run gives the right answer."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.analysis_cache import AnalysisCache, analysis_key
from inspector.index.cache import IndexCache
from inspector.options import Options
from inspector.report import export_cache
from inspector.sources.resolve import open_image
from tests.builders import Entry, ImageSpec, diff_id_of, make_layer, write_oci_layout

ROOT = Path(__file__).resolve().parents[2]

# Two images with the same number of paths (an entry of one "fits" the other) but
# different content: B has a setuid binary and other categories, A none.
A_FILES = {"etc/os-release": b"ID=a\n", "usr/share/doc/a/README": b"docs\n", "bin/tool": b"#!/bin/sh\n"}
B_FILES = {"etc/os-release": b"ID=b\n", "usr/lib/python3/x.py": b"print(1)\n",
           "bin/tool": Entry("file", b"\x7fELF" + b"\0" * 60, mode=0o4755)}


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    base = tmp_path_factory.mktemp("swap")
    refs = {}
    for name, files in (("a", A_FILES), ("b", B_FILES)):
        layer = make_layer(files)
        write_oci_layout(base / name, [ImageSpec([layer], ref_name="t")])
        refs[name] = (f"oci:{base / name}:t", [diff_id_of(layer)])
    return refs


def export(ref: str, cache: Path | None) -> dict:
    args = ["--no-cache"] if cache is None else ["--cache-dir", str(cache)]
    proc = subprocess.run([sys.executable, "-m", "inspector", "export", ref, "-q", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return json.loads(proc.stdout)


def _index_path(root: Path, diff_ids: list[str]) -> Path:
    return IndexCache(root).store.path(diff_ids[0])


def _analysis_path(root: Path, diff_ids: list[str]) -> Path:
    return AnalysisCache(root).store.path(analysis_key(diff_ids))


def _export_path(root: Path, diff_ids: list[str]) -> Path:
    return export_cache._store(root).path(analysis_key(diff_ids))


KINDS = [("index", _index_path), ("analysis", _analysis_path), ("export", _export_path)]


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize("kind,where", KINDS, ids=[k[0] for k in KINDS])
def test_an_entry_copied_over_another_images_entry_is_rejected(tmp_path, images, kind, where):
    (ref_a, ids_a), (ref_b, ids_b) = images["a"], images["b"]
    truth_b = export(ref_b, None)
    cache = tmp_path / "cache"
    assert export(ref_a, cache) != truth_b
    assert export(ref_b, cache) == truth_b
    src, dest = where(cache, ids_a), where(cache, ids_b)
    assert src.is_file() and dest.is_file()
    shutil.copyfile(src, dest)  # A's entry under B's name
    assert export(ref_b, cache) == truth_b
    assert dest.read_bytes() != src.read_bytes()  # rebuilt for B


@pytest.mark.parametrize("damage", [_flip, _truncate], ids=["flipped-byte", "truncated"])
@pytest.mark.parametrize("kind,where", KINDS, ids=[k[0] for k in KINDS])
def test_a_damaged_entry_is_rebuilt(tmp_path, images, kind, where, damage):
    ref_b, ids_b = images["b"]
    truth = export(ref_b, None)
    cache = tmp_path / "cache"
    export(ref_b, cache)
    path = where(cache, ids_b)
    good = path.read_bytes()
    damage(path)
    assert export(ref_b, cache) == truth
    assert path.read_bytes() == good  # rewritten whole


# --- the engine record (docker-daemon skeleton) --------------------------------------------

def _info(image) -> dict:
    return {"Id": image.config_digest, "RootFS": {"Layers": [la.diff_id for la in image.layers]}}


def test_an_engine_record_copied_over_another_is_rejected(tmp_path, images):
    from inspector.sources import engine_record as record

    options = Options(cache_dir=tmp_path / "cache")
    a = open_image(images["a"][0], Options(no_cache=True))
    b = open_image(images["b"][0], Options(no_cache=True))
    try:
        record.store(options, _info(a), a)
        record.store(options, _info(b), b)
        assert record.load(options, _info(b))["config"] == b.config_bytes
        store = record.records(options)
        path_b = store.path(_info(b)["Id"])
        shutil.copyfile(store.path(_info(a)["Id"]), path_b)
        assert record.load(options, _info(b)) is None
        assert not path_b.exists()
        record.store(options, _info(b), b)
        _flip(path_b)
        assert record.load(options, _info(b)) is None
        # a record whose layers are not the engine's (the image was rebuilt) is not used
        record.store(options, _info(b), b)
        other = {**_info(b), "RootFS": {"Layers": images["a"][1]}}
        assert record.load(options, other) is None
    finally:
        a.close()
        b.close()


def test_the_daemon_source_does_not_import_the_index_cache():
    """Sources know nothing of the indexer: the warm path asks the caller's ``indexed`` predicate."""
    for name in ("daemon.py", "engine_record.py"):
        assert "inspector.index" not in (ROOT / "inspector" / "sources" / name).read_text()
