"""The registry blob cache under damage, the size cap and a concurrent prune, against the
real registry: a damaged cached layer is repaired within the run, eviction keeps the
per-layer indexes (a reopen stays warm), and pruning beside an open image breaks nothing."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from inspector import cache_admin
from inspector.analysis import analyze
from inspector.options import Options
from tests.registry.test_registry_pull import pull

pytestmark = pytest.mark.registry
ROOT = Path(__file__).resolve().parents[2]


def _blob_file(options: Options, digest: str) -> Path:
    return options.cache_dir / "blobs" / digest.replace(":", "/")


def _summary(analysis) -> tuple:
    return (sorted(analysis.fs.sorted_paths()), [i.diff_id for i in analysis.layers])


def _drop_indexes(options: Options) -> None:
    for kind in ("index", "analysis", "export"):
        shutil.rmtree(options.cache_dir / kind, ignore_errors=True)


def _flip_middle(data: bytes) -> bytes:
    b = bytearray(data)
    b[len(b) // 2] ^= 0xFF
    return bytes(b)


DAMAGE = [
    ("gzip header", lambda d: d[:3] + bytes([d[3] ^ 0xE0]) + d[4:]),  # reserved FLG bits
    ("deflate body", _flip_middle),
    ("truncated", lambda d: d[: len(d) // 2]),
    ("another layer", None),  # a valid gzip of another blob, under this digest
]


@pytest.mark.parametrize("name,damage", DAMAGE, ids=[d[0] for d in DAMAGE])
def test_a_damaged_cached_layer_is_re_verified_evicted_and_fetched_once_more(
        proxy, pushed, options, name, damage):
    image = pull(proxy.host, pushed["small"].name, options)
    truth = _summary(analyze(image, options))
    path = _blob_file(options, image.layers[0].digest)
    other = _blob_file(options, image.layers[1].digest).read_bytes()
    path.write_bytes(other if damage is None else damage(path.read_bytes()))
    _drop_indexes(options)  # the layer must be read again, from the cached blob

    proxy.reset()
    image = pull(proxy.host, pushed["small"].name, options)
    assert _summary(analyze(image, options)) == truth  # no error: repaired within the run
    assert len(proxy.requests_to(f"/blobs/{image.layers[0].digest}")) == 1
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert "sha256:" + digest == image.layers[0].digest  # cached again, sound


def test_a_sound_cached_blob_of_a_broken_image_is_not_refetched(proxy, pushed, options, monkeypatch):
    """The retry is for a damaged cache only: when the cached copy verifies, the error
    stands and the registry is not asked again."""
    from inspector.errors import TarError

    image = pull(proxy.host, pushed["small"].name, options)
    analyze(image, options)
    _drop_indexes(options)

    def broken(layer, **kwargs):
        raise TarError("bad tar header checksum")

    monkeypatch.setattr("inspector.analysis.index_layer", broken)
    proxy.reset()
    image = pull(proxy.host, pushed["small"].name, options)
    with pytest.raises(TarError):
        analyze(image, options)
    assert [la.digest for la in image.layers if proxy.requests_to(f"/blobs/{la.digest}")] == []
    assert _blob_file(options, image.layers[0].digest).exists()


def _blobs_size(options: Options) -> int:
    return sum(e.size for e in cache_admin.entries(options.cache_dir) if e.kind == "blobs")


def test_a_small_cap_evicts_blobs_first_and_a_reopen_stays_warm(proxy, pushed, options):
    """Five ~300 kB layers into a 700 kB cap: blobs go, the five layer indexes stay, and
    the second open reads no blob at all."""
    options.cache_max = 700_000
    image = pull(proxy.host, pushed["five"].name, options)
    cold = analyze(image, options)
    image.close()
    total = sum(e.size for e in cache_admin.entries(options.cache_dir))
    assert total <= options.cache_max
    assert _blobs_size(options) < 5 * 300_000  # some blobs were evicted…
    assert len(list((options.cache_dir / "index").rglob("*.idx"))) == 5  # …no index was

    proxy.reset()
    image = pull(proxy.host, pushed["five"].name, options)
    warm = analyze(image, options)
    assert warm.cached_layers == 5
    assert [la.digest for la in image.layers if proxy.requests_to(f"/blobs/{la.digest}")] == []
    assert _summary(warm) == _summary(cold)


def test_prune_beside_an_open_image_does_not_break_it(proxy, pushed, options):
    image = pull(proxy.host, pushed["five"].name, options)
    analyze(image, options)  # every blob cached
    _drop_indexes(options)
    image = pull(proxy.host, pushed["five"].name, options)
    stream = image.layers[0].open_compressed()  # a cached blob, being read
    first = stream.read(1000)
    proc = subprocess.run([sys.executable, "-m", "inspector", "cache", "prune", "--max-size", "0",
                           "--cache-dir", str(options.cache_dir)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert _blob_file(options, image.layers[0].digest).exists()  # locked: kept
    assert not _blob_file(options, image.layers[1].digest).exists()  # not in use: pruned
    rest = b"".join(iter(lambda: stream.read(1 << 16), b""))
    stream.close()
    assert "sha256:" + hashlib.sha256(first + rest).hexdigest() == image.layers[0].digest
    proxy.reset()
    assert len(analyze(image, options).layers) == 5  # the pruned blobs come from the registry
    assert proxy.requests_to(f"/blobs/{image.layers[1].digest}")
