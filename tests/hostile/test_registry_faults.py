"""A hostile or broken registry (issue 11 items 2 and 6): redirect loops, invalid
redirects, headers then silence, bodies trickled a byte at a time, and documents of the
wrong shape all end as one ``RegistryError``/``FormatError`` line, in bounded time set by
``--timeout`` (small here so the tests are fast).

The registry is ``static_registry.StaticRegistry`` (it serves documents the real registry would
refuse to store) behind ``servers.FaultProxy``, both on loopback.
"""

from __future__ import annotations

import json

import pytest

from inspector.errors import FormatError, RegistryError, TransportError
from inspector.options import Options
from inspector.sources.base import validate_image
from inspector.sources.registry import blobs as blobs_mod
from inspector.sources.registry import client as client_mod
from inspector.sources.registry import open_registry
from inspector.sources.registry import pace as pace_mod
from tests.builders import OCI_MANIFEST, ImageSpec, build_image, make_layer, sha256
from tests.hostile.clirun import assert_one_line_error, export
from tests.registry.servers import FaultProxy
from tests.registry.static_registry import StaticRegistry

pytestmark = pytest.mark.timeout(120)

#: seconds: every network wait in these tests is bounded by a few of these
TIMEOUT = 0.3
LAYER = make_layer({f"data/{i}": bytes([i]) * 3000 for i in range(40)}, compression=None)


@pytest.fixture
def image():
    built, blobs = build_image(ImageSpec([LAYER]))
    return built, blobs


@pytest.fixture
def registry(image, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))  # no stray credentials
    monkeypatch.setattr(client_mod, "BACKOFF_SECONDS", 0.01)
    monkeypatch.setattr(blobs_mod, "BACKOFF_SECONDS", 0.01)
    built, blobs = image
    server = StaticRegistry(blobs, {"v1": built.manifest_digest}, {built.manifest_digest: OCI_MANIFEST})
    proxy = FaultProxy(server.host)
    yield proxy
    proxy.stop()
    server.stop()


def _options(tmp_path) -> Options:
    return Options(cache_dir=tmp_path / "cache", timeout=TIMEOUT)


def _pull_all(proxy, tmp_path):
    ref = f"{proxy.host}/hostile/app:v1"
    with open_registry(ref, _options(tmp_path), reference=ref) as img:
        validate_image(img)


def _blob_path(image, which: str) -> str:
    built, _ = image
    return {"layer": built.layer_digests[0], "config": built.config_digest,
            "manifest": built.manifest_digest}[which]


FAULTS = [  # (name, configure the proxy given the image, error class, named in the line)
    ("manifest redirect loop", lambda f, img: f.redirect_loop.add("/manifests/"), TransportError, "loop"),
    ("blob redirect loop", lambda f, img: f.redirect_loop.add(_blob_path(img, "layer")), TransportError, "loop"),
    ("redirect to an invalid URL", lambda f, img: f.status_once.append(
        ("/manifests/", 302, {"Location": "http://[::1"})), TransportError, "invalid answer"),
    ("manifest: no answer at all", lambda f, img: f.silent.add(_blob_path(img, "manifest")),
     TransportError, "timed out"),
    ("manifest: headers then silence", lambda f, img: f.stall_after.update(
        {_blob_path(img, "manifest"): 10}), TransportError, "manifest"),
    ("config: headers then silence", lambda f, img: f.stall_after.update(
        {_blob_path(img, "config"): 0}), TransportError, "config"),
    ("layer: headers then silence", lambda f, img: f.stall_after.update(
        {_blob_path(img, "layer"): 1000}), TransportError, "layer"),
    ("manifest trickled", lambda f, img: f.trickle.update({_blob_path(img, "manifest"): 0.02}),
     TransportError, "bytes/s"),
    ("layer trickled", lambda f, img: f.trickle.update({_blob_path(img, "layer"): 0.02}),
     TransportError, "bytes/s"),
]


@pytest.mark.parametrize("name,configure,error,named", FAULTS, ids=[f[0] for f in FAULTS])
def test_registry_fault_is_one_bounded_error(tmp_path, capsys, image, registry, name, configure, error, named):
    configure(registry.faults, image)
    with pytest.raises(error) as info:
        _pull_all(registry, tmp_path)
    assert isinstance(info.value, RegistryError)
    assert info.value.where
    configure(registry.faults, image)  # again: a one-shot fault was used up above
    run = export(capsys, f"{registry.host}/hostile/app:v1", tmp_path / "cache2", "--timeout", str(TIMEOUT))
    assert_one_line_error(run, named)


def test_slow_but_steady_body_is_accepted(tmp_path, image, registry, monkeypatch):
    """The minimum-progress rule does not fail a body that arrives steadily above the rate."""
    monkeypatch.setattr(pace_mod, "MIN_BYTES_PER_SECOND", 10)
    registry.faults.trickle[_blob_path(image, "config")] = 0.01  # ~100 bytes/s
    _pull_all(registry, tmp_path)


def _serve(documents: dict[str, bytes], tag_digest: str, media_type: str) -> tuple[StaticRegistry, str]:
    server = StaticRegistry(documents, {"v1": tag_digest}, {tag_digest: media_type})
    return server, f"{server.host}/hostile/app:v1"


def _manifest_doc(image) -> dict:
    return json.loads(image[0].manifest_bytes)


SHAPES = [  # (name, edit of manifest/config docs, field named)
    ("layers a string", lambda m, c: m.update(layers="none"), "layers"),
    ("layer size a string", lambda m, c: m["layers"][0].update(size="12"), "layers[0].size"),
    ("layer digest an int", lambda m, c: m["layers"][0].update(digest=5), "layers[0].digest"),
    ("config history a string", lambda m, c: c.update(history="x"), "history"),
    ("config diff_id short", lambda m, c: c["rootfs"].update(diff_ids=["sha256:00"]), "rootfs.diff_ids[0]"),
]


@pytest.mark.parametrize("name,edit,field", SHAPES, ids=[s[0] for s in SHAPES])
def test_registry_documents_of_the_wrong_shape(tmp_path, capsys, monkeypatch, image, name, edit, field):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    built, blobs = image
    manifest, config = _manifest_doc(image), json.loads(built.config_bytes)
    edit(manifest, config)
    config_bytes = json.dumps(config).encode()
    manifest["config"].update(digest=sha256(config_bytes), size=len(config_bytes))
    manifest_bytes = json.dumps(manifest).encode()
    documents = dict(blobs) | {sha256(config_bytes): config_bytes, sha256(manifest_bytes): manifest_bytes}
    server, ref = _serve(documents, sha256(manifest_bytes), OCI_MANIFEST)
    try:
        with pytest.raises(FormatError) as info:
            open_registry(ref, _options(tmp_path), reference=ref)
        assert info.value.field == field
        assert_one_line_error(export(capsys, ref, tmp_path / "cache2"), field)
    finally:
        server.stop()


def test_index_platform_as_a_string(tmp_path, capsys, monkeypatch, image):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    built, blobs = image
    index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                        "manifests": [{"mediaType": OCI_MANIFEST, "digest": built.manifest_digest,
                                       "size": len(built.manifest_bytes), "platform": "linux/amd64"}]}).encode()
    server, ref = _serve(dict(blobs) | {sha256(index): index}, sha256(index),
                         "application/vnd.oci.image.index.v1+json")
    try:
        with pytest.raises(FormatError) as info:
            open_registry(ref, _options(tmp_path), reference=ref)
        assert info.value.field == "manifests[0].platform"
    finally:
        server.stop()
