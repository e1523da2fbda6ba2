"""Listing a registry image from its zstd:chunked table of contents (``index.from_toc``,
``sources.registry.toc``): real skopeo-written zstd:chunked layers on the real CNCF
registry, compared with the full pull of the same image pushed gzip."""

from __future__ import annotations

import json

import pytest

from inspector.analysis import analyze
from inspector.options import Options
from inspector.sources.registry import open_registry
from tests.builders import ImageSpec, write_oci_layout
from tests.registry.tocimages import LAYERS, comparable, copy_image, export

pytestmark = pytest.mark.registry

_copy = copy_image


@pytest.mark.parametrize("name", ["mixed", "debian"])
def test_toc_export_equals_full_pull(toc_images, tmp_path, name):
    full, notes_full = export(toc_images[f"{name}:gzip"], Options(cache_dir=tmp_path / "a"))
    toc, notes_toc = export(toc_images[f"{name}:zc"], Options(cache_dir=tmp_path / "b"))
    assert notes_toc == notes_full
    assert {la["verified"] for la in full["layers"]} == {"diff_id"}
    assert {la["verified"] for la in toc["layers"]} == {"toc"}
    assert comparable(toc) == comparable(full)
    if name == "debian":
        assert len(toc["packages"]) > 50



@pytest.fixture
def via_proxy(proxy, toc_images):
    """``name:kind`` → the same image's reference through the fault proxy."""
    return lambda key: toc_images[key].replace(toc_images[key].split("/")[0], proxy.host)


def _requests(proxy, digest: str) -> list[dict]:
    return proxy.requests_to(f"/blobs/{digest}")


def test_toc_lists_a_layer_with_few_ranged_requests(proxy, via_proxy, tmp_path):
    ref = via_proxy("debian:zc")
    image = open_registry(ref, Options(cache_dir=tmp_path), reference=ref)
    analyze(image, Options(cache_dir=tmp_path))
    layer = image.layers[0]
    sent = _requests(proxy, layer.digest)
    assert sent and all("Range" in r["headers"] for r in sent)
    assert layer.toc.requests == len(sent) <= 12
    assert layer.toc.fetched < layer.compressed_size * 0.10
    # warm: the index comes from the cache, keyed by the TOC digest: no blob request
    proxy.reset()
    again = open_registry(ref, Options(cache_dir=tmp_path), reference=ref)
    assert analyze(again, Options(cache_dir=tmp_path)).cached_layers == 1
    assert _requests(proxy, layer.digest) == []


FALLBACKS = [
    # (name, fault, words of the one notice)
    ("registry ignores Range", lambda f, d: setattr(f, "ignore_range", True), "HTTP 200"),
    ("TOC fails its digest", lambda f, d: f.corrupt_ranges.add(d), "hashes to"),
]


@pytest.mark.parametrize("name,fault,words", FALLBACKS, ids=[f[0] for f in FALLBACKS])
def test_unusable_toc_falls_back_to_the_full_pull_with_one_notice(
        proxy, via_proxy, toc_images, tmp_path, name, fault, words):
    full, _ = export(toc_images["mixed:gzip"], Options(cache_dir=tmp_path / "a"))
    ref = via_proxy("mixed:zc")
    image = open_registry(ref, Options(no_cache=True), reference=ref)
    for layer in image.layers:
        fault(proxy.faults, layer.digest)
    doc, notices = export(ref, Options(cache_dir=tmp_path / "b"))
    assert len(notices) == len(image.layers)
    assert all(words in n and "reading the whole layer instead" in n for n in notices)
    assert {la["verified"] for la in doc["layers"]} == {"diff_id"}
    assert comparable(doc) == comparable(full)


def test_a_file_announced_larger_than_a_ranged_read_holds_falls_back(
        proxy, via_proxy, toc_images, tmp_path, monkeypatch):
    """The TOC's sizes are the image's word: a file whose frames would inflate past
    ``MAX_READ`` (a hostile TOC's multi-GB frame of zeros) is not read into memory; the
    layer is pulled whole, streamed, with one notice, and the export is the same."""
    from inspector.sources.registry import toc as toc_module

    full, _ = export(toc_images["mixed:gzip"], Options(cache_dir=tmp_path / "a"))
    monkeypatch.setattr(toc_module, "MAX_READ", 16)
    doc, notices = export(via_proxy("mixed:zc"), Options(cache_dir=tmp_path / "b"))
    assert notices and all("more than a ranged read holds" in n
                           and "reading the whole layer instead" in n for n in notices)
    assert "diff_id" in {la["verified"] for la in doc["layers"]}
    assert comparable(doc) == comparable(full)


def test_full_option_pulls_whole_layers_and_verifies_them(proxy, via_proxy, tmp_path):
    ref = via_proxy("mixed:zc")
    doc, notices = export(ref, Options(cache_dir=tmp_path, full=True))
    assert notices == []
    assert {la["verified"] for la in doc["layers"]} == {"diff_id"}
    assert all("Range" not in r["headers"] for r in proxy.requests_to("/blobs/"))


def test_cli_full_flag_reaches_the_options():
    import argparse

    from inspector.commands.options import add_common, options_of

    parser = argparse.ArgumentParser()
    add_common(parser)
    assert options_of(parser.parse_args(["--full"])).full is True
    assert options_of(parser.parse_args([])).full is False


def test_cache_keys_toc_indexes_by_the_toc_digest_never_the_diff_id(toc_images, tmp_path):
    options = Options(cache_dir=tmp_path)
    zc = open_registry(toc_images["mixed:zc"], options, reference="zc")
    listed = analyze(zc, options)
    assert [ix.cache_key for ix in listed.layers] == [f"toc:{la.toc.digest}" for la in zc.layers]
    # the same diff_ids pushed gzip: indexed from the blob, not served the TOC's index
    gz = open_registry(toc_images["mixed:gzip"], options, reference="gz")
    assert [la.diff_id for la in gz.layers] == [la.diff_id for la in zc.layers]
    pulled = analyze(gz, options)
    assert pulled.cached_layers == 0 and {ix.verified for ix in pulled.layers} == {"diff_id"}
    # and the other way round: the verified index does not answer for the TOC
    again = analyze(open_registry(toc_images["mixed:zc"], options, reference="zc"), options)
    assert again.cached_layers == len(zc.layers)
    assert {ix.verified for ix in again.layers} == {"toc"}


def _estargz_layout(path, layers: list[bytes]) -> None:
    """An OCI layout of ``layers`` rewritten as eStargz, with their toc.digest annotations."""
    import gzip as gz
    import hashlib

    from tests.registry.estargz_writer import estargz

    blobs = [estargz(gz.decompress(layer)) for layer in layers]
    write_oci_layout(path, [ImageSpec([b for b, _ in blobs], ref_name="v1")])
    index = json.loads((path / "index.json").read_text())
    old = index["manifests"][0]["digest"].split(":")[1]
    manifest = json.loads((path / "blobs/sha256" / old).read_bytes())
    for desc, (_, toc_digest) in zip(manifest["layers"], blobs, strict=True):
        desc["annotations"] = {"containerd.io/snapshot/stargz/toc.digest": toc_digest}
    data = json.dumps(manifest).encode()
    digest = hashlib.sha256(data).hexdigest()
    (path / "blobs/sha256" / digest).write_bytes(data)
    index["manifests"][0].update(digest=f"sha256:{digest}", size=len(data))
    (path / "index.json").write_text(json.dumps(index))


def test_estargz_toc_listing_equals_its_full_pull(plain_registry, tmp_path):
    """eStargz blobs written by tests/registry/estargz_writer.py (from the format; real
    ``ctr-remote`` output: test_estargz_real.py)."""
    _estargz_layout(tmp_path / "esgz", LAYERS)
    ref = f"{plain_registry.host}/toc/mixed-esgz:v1"
    _copy(f"oci:{tmp_path}/esgz:v1", f"docker://{ref}")
    full, notes_full = export(ref, Options(cache_dir=tmp_path / "a", full=True))
    toc, notes_toc = export(ref, Options(cache_dir=tmp_path / "b"))
    assert notes_toc == notes_full == []
    assert {la["verified"] for la in toc["layers"]} == {"toc"}
    assert {la["verified"] for la in full["layers"]} == {"diff_id"}
    assert comparable(toc) == comparable(full)
    assert any(f["path"] == "/usr/bin/hello" for f in toc["files"])
