"""Faults injected by a loopback proxy in front of the real registry: cut connections
(resumed with Range), servers ignoring Range, 429 with Retry-After, 5xx, corrupted bytes,
and cross-host blob redirects (the Authorization header must not follow)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from inspector.errors import DigestMismatch, RateLimited, TransportError
from inspector.oci import media_types as mt
from inspector.sources.base import validate_image
from inspector.sources.registry import client as client_mod
from inspector.sources.registry import open_registry
from tests.registry.credentials import basic_auths, docker_config
from tests.registry.servers import FaultProxy

pytestmark = pytest.mark.registry


def pull(proxy, name, options):
    ref = f"{proxy.host}/{name}"
    return open_registry(ref, options, reference=ref)


def cache_files(options) -> list:
    root = options.cache_dir / "blobs"
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_accept_headers(proxy, pushed, options):
    validate_image(pull(proxy, pushed["small"].name, options))
    manifest_requests = proxy.requests_to("/manifests/", "HEAD") + proxy.requests_to("/manifests/")
    assert manifest_requests
    for r in manifest_requests:
        accepted = {t.strip() for t in r["headers"]["Accept"].split(",")}
        assert accepted == {mt.OCI_INDEX, mt.OCI_MANIFEST, mt.DOCKER_LIST, mt.DOCKER_MANIFEST}
    for r in proxy.requests_to("/blobs/"):
        assert r["headers"]["Accept-Encoding"] == "identity"


def test_connection_cut_mid_blob_is_resumed_with_range(proxy, pushed, options):
    digest = pushed["five"].images[0].layer_digests[2]
    proxy.faults.cut_blob[digest] = 100_000
    validate_image(pull(proxy, pushed["five"].name, options))
    gets = proxy.requests_to(f"/blobs/{digest}")
    assert len(gets) == 2
    assert "Range" not in gets[0]["headers"]
    assert gets[1]["headers"]["Range"].startswith("bytes=") and gets[1]["headers"]["Range"] != "bytes=0-"
    assert digest.split(":")[1] in cache_files(options)


def test_server_ignoring_range_restarts_and_still_verifies(proxy, pushed, options):
    digest = pushed["five"].images[0].layer_digests[1]
    proxy.faults.cut_blob[digest] = 120_000
    proxy.faults.ignore_range = True  # the registry answers 200 with the whole blob
    validate_image(pull(proxy, pushed["five"].name, options))
    gets = proxy.requests_to(f"/blobs/{digest}")
    assert len(gets) == 2 and "Range" in gets[1]["headers"]


def test_429_waits_for_retry_after(proxy, pushed, options):
    proxy.faults.status_once.append(("/manifests/", 429, {"Retry-After": "1"}))
    validate_image(pull(proxy, pushed["small"].name, options))
    assert len(proxy.requests_to("/manifests/v1", "HEAD")) == 2


def test_429_with_a_long_retry_after_fails_with_the_rate_limit_headers(proxy, pushed, options):
    proxy.faults.status_once.append(("/manifests/", 429, {
        "Retry-After": "21600", "ratelimit-limit": "100;w=21600", "ratelimit-remaining": "0;w=21600"}))
    with pytest.raises(RateLimited) as info:
        pull(proxy, pushed["small"].name, options)
    assert info.value.status == 429
    text = str(info.value)
    assert "ratelimit-limit: 100;w=21600" in text and "ratelimit-remaining: 0;w=21600" in text
    assert "\n" not in text


def test_500_then_success(proxy, pushed, options):
    digest = pushed["small"].images[0].layer_digests[0]
    proxy.faults.status_once.append((f"/blobs/{digest}", 500, {}))
    validate_image(pull(proxy, pushed["small"].name, options))
    assert len(proxy.requests_to(f"/blobs/{digest}")) == 2


def test_persistent_5xx_is_a_transport_error_after_bounded_retries(proxy, pushed, options):
    digest = pushed["small"].images[0].layer_digests[1]
    proxy.faults.status_always.append((f"/blobs/{digest}", 503))
    img = pull(proxy, pushed["small"].name, options)
    with pytest.raises(TransportError) as info:
        validate_image(img)
    assert info.value.status == 503 and digest in info.value.where
    assert len(proxy.requests_to(f"/blobs/{digest}")) == client_mod.MAX_ATTEMPTS


def test_corrupted_blob_is_a_digest_mismatch_and_never_cached(proxy, pushed, options):
    digest = pushed["five"].images[0].layer_digests[3]
    proxy.faults.corrupt_blob.add(digest)
    img = pull(proxy, pushed["five"].name, options)
    with pytest.raises(DigestMismatch) as info:
        validate_image(img)
    assert digest in str(info.value)
    names = cache_files(options)
    assert digest.split(":")[1] not in names
    assert not [n for n in names if n.startswith(".tmp")]


def test_layers_download_in_parallel_threads(proxy, pushed, options):
    img = pull(proxy, pushed["five"].name, options)

    def drain(layer):
        with layer.open_uncompressed() as f:
            return sum(len(c) for c in iter(lambda: f.read(1 << 16), b""))

    with ThreadPoolExecutor(4) as pool:
        sizes = list(pool.map(drain, img.layers))
    assert all(s > 300_000 for s in sizes)
    assert sorted(cache_files(options)) == sorted(
        {d.split(":")[1] for d in pushed["five"].images[0].layer_digests}
        | {pushed["five"].images[0].config_digest.split(":")[1], pushed["five"].images[0].manifest_digest.split(":")[1]})


@pytest.fixture
def cdn(plain_registry):
    """A "CDN" on another loopback address serving the same blobs, recording headers."""
    proxy = FaultProxy(plain_registry.host, host="127.0.0.2")
    yield proxy
    proxy.stop()


@pytest.fixture
def auth_front(basic_registry):
    proxy = FaultProxy(basic_registry.host)
    yield proxy
    proxy.stop()


def test_cross_host_redirect_drops_authorization(auth_front, cdn, pushed, options, tmp_path, monkeypatch):
    docker_config(tmp_path, monkeypatch, basic_auths(auth_front.host))
    auth_front.faults.redirect_blobs_to = f"http://{cdn.host}"
    validate_image(pull(auth_front, pushed["small"].name, options))
    assert any(r["headers"].get("Authorization", "").startswith("Basic ")
               for r in auth_front.requests_to("/manifests/"))
    blob_gets = cdn.requests_to("/blobs/")
    assert len(blob_gets) == 3  # config + 2 layers, all fetched from the CDN host
    assert all("Authorization" not in r["headers"] for r in blob_gets)


def test_netrc_for_the_cdn_host_is_not_our_concern_but_registry_netrc_is_ignored(
        auth_front, pushed, options, tmp_path, monkeypatch):
    """A ~/.netrc entry for the registry host must not replace the docker-config credentials."""
    (tmp_path / "netrc").write_text("machine 127.0.0.1 login mallory password nope\n")
    (tmp_path / "netrc").chmod(0o600)
    monkeypatch.setenv("NETRC", str(tmp_path / "netrc"))
    docker_config(tmp_path, monkeypatch, basic_auths(auth_front.host))
    validate_image(pull(auth_front, pushed["small"].name, options))
