"""Listing a registry image from its zstd:chunked table of contents (``index.from_toc``,
``sources.registry.toc``): real skopeo-written zstd:chunked layers on the real CNCF
registry, compared with the full pull of the same image pushed gzip."""

from __future__ import annotations

import io
import json
import subprocess

import pytest

from inspector.analysis import analyze
from inspector.options import Options
from inspector.report.export import write_export
from inspector.sources.registry import open_registry
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout
from tests.registry.conftest import ROOT
from tests.tools import require_tool

pytestmark = pytest.mark.registry

DPKG_STATUS = (b"Package: hello\nStatus: install ok installed\nArchitecture: amd64\n"
               b"Version: 2.10-3\n\n")
ELF = b"\x7fELF\x02\x01\x01" + bytes(57) + bytes(range(256)) * 40
LAYERS = [
    make_layer({
        "etc/": Entry("dir"), "etc/os-release": b"ID=debian\nVERSION_ID=12\n",
        "var/lib/dpkg/status": DPKG_STATUS,
        "usr/bin/hello": Entry("file", ELF, mode=0o755),
        "usr/bin/run": Entry("file", b"#!/bin/sh\necho hi\n" * 300, mode=0o4750, uid=7, gid=9),
        "usr/bin/hi": Entry("hardlink", target="usr/bin/hello"),
        "usr/bin/sh": Entry("symlink", target="dash"),
        "opt/old/a": b"a" * 1000, "opt/keep/b": b"b" * 2000,
        "data/big.bin": bytes(range(256)) * 4000,
        "empty": b"",
    }),
    make_layer({"opt/new": b"new\n", "usr/bin/hello2": Entry("hardlink", target="usr/bin/hello")},
               whiteouts=["opt/old"], opaque=["opt/keep"]),
]


def _copy(source: str, dest: str, *flags: str) -> None:
    subprocess.run(["skopeo", "copy", "-q", "--dest-tls-verify=false", *flags, source, dest],
                   check=True, capture_output=True, timeout=300)


@pytest.fixture(scope="session")
def toc_images(plain_registry, tmp_path_factory) -> dict[str, str]:
    """``mixed`` and ``debian`` (sample:debian-12-slim), each pushed ``gzip`` and ``zc``
    (zstd:chunked, converted into an OCI layout first, then pushed to its own repository:
    skopeo's blob-info cache would otherwise reuse the gzip blob of the same diff_id)."""
    require_tool("skopeo")
    work = tmp_path_factory.mktemp("toc")
    write_oci_layout(work / "mixed", [ImageSpec(LAYERS, ref_name="v1")])
    host = plain_registry.host
    out = {}
    for name, source in (("mixed", f"oci:{work}/mixed:v1"),
                         ("debian", f"oci:{ROOT}/sample_images/oci:debian-12-slim")):
        _copy(source, f"oci:{work}/{name}-zc:v1", "--dest-compress-format", "zstd:chunked")
        _copy(source, f"docker://{host}/toc/{name}-gzip:v1")
        _copy(f"oci:{work}/{name}-zc:v1", f"docker://{host}/toc/{name}-zc:v1")
        out[f"{name}:gzip"] = f"{host}/toc/{name}-gzip:v1"
        out[f"{name}:zc"] = f"{host}/toc/{name}-zc:v1"
        image = open_registry(out[f"{name}:zc"], Options(no_cache=True),
                              reference=out[f"{name}:zc"])
        assert all(layer.toc is not None for layer in image.layers), "skopeo reused a blob"
    return out


def export(ref: str, options: Options) -> tuple[dict, list[str]]:
    image = open_registry(ref, options, reference=ref)
    analysis = analyze(image, options)
    out = io.StringIO()
    write_export(analysis, out)
    return json.loads(out.getvalue()), analysis.notices


def comparable(doc: dict) -> dict:
    """What must not depend on how the layers were read."""
    layers = [{k: v for k, v in la.items() if k not in (
        "digest", "media_type", "compressed_size", "uncompressed_size", "verified")}
        for la in doc["layers"]]
    return {"files": doc["files"], "packages": doc["packages"], "layers": layers,
            "categories": doc["categories"], "findings": doc["findings"],
            "files_bytes": doc["size"]["files"]}


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
