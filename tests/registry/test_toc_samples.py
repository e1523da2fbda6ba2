"""Every bundled sample (``sample_images/oci``) listed from its zstd:chunked table of
contents exports as its gzip full pull does (``tocimages.comparable``: all but the
``verified`` field and the blobs' own digests and sizes): real ``skopeo copy
--dest-compress-format zstd:chunked`` conversions (``tocsamples``), the real CNCF registry,
through the recording proxy (each blob request ranged)."""

from __future__ import annotations

import pytest

from inspector.options import Options
from inspector.sources.registry import open_registry
from tests.registry.tocimages import comparable, export
from tests.registry.tocsamples import push_sample, sample_names
from tests.tools import require_tool

pytestmark = pytest.mark.registry

SAMPLE_NAMES = sample_names()


def test_the_table_holds_every_bundled_sample():
    assert len(SAMPLE_NAMES) == len(set(SAMPLE_NAMES)) == 11


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_a_sample_listed_from_its_toc_equals_its_full_pull(plain_registry, proxy, tmp_path,
                                                           name):
    require_tool("skopeo")
    gzip_ref, zc_ref = push_sample(plain_registry.host, name)
    zc_ref = zc_ref.replace(plain_registry.host, proxy.host)
    image = open_registry(zc_ref, Options(no_cache=True), reference=zc_ref)
    assert all(layer.toc is not None for layer in image.layers), "skopeo reused a gzip blob"
    full, notes_full = export(gzip_ref, Options(cache_dir=tmp_path / "a"))
    proxy.reset()
    toc, notes_toc = export(zc_ref, Options(cache_dir=tmp_path / "b"))
    assert notes_toc == notes_full
    assert {la["verified"] for la in toc["layers"]} == {"toc"}
    assert {la["verified"] for la in full["layers"]} == {"diff_id"}
    assert comparable(toc) == comparable(full)
    layers = {layer.digest for layer in image.layers}
    asked = [r for r in proxy.requests_to("/blobs/") if r["path"].rsplit("/", 1)[1] in layers]
    assert asked and all("Range" in r["headers"] for r in asked)
