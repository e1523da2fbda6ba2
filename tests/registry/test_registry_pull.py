"""Pulls from the real CNCF distribution registry: plain HTTP, TLS with a test CA, htpasswd
Basic, token auth with real JWTs; platforms, errors, credentials and the blob cache."""

from __future__ import annotations

import os
import stat

import pytest

from inspector.errors import (
    AuthError,
    DigestMismatch,
    ImageNotFound,
    PlatformNotFound,
    TransportError,
)
from inspector.oci.platform import Platform
from inspector.sources.base import validate_image
from inspector.sources.registry import open_registry
from inspector.sources.registry.blobs import CachedBlobReader
from inspector.sources.streams import VerifyingReader
from tests.registry.credentials import PASSWORD, USER, basic_auths, docker_config

pytestmark = pytest.mark.registry


def pull(host: str, name: str, options, **kw):
    ref = f"{host}/{name}"
    return open_registry(ref, options, reference=ref, **kw)


def read_all(image) -> None:
    validate_image(image)


def test_plain_http_pull_matches_what_was_pushed(plain_registry, pushed, options):
    img = pull(plain_registry.host, pushed["small"].name, options)
    built = pushed["small"].images[0]
    assert img.source == "registry"
    assert img.reference == f"{plain_registry.host}/test/small:v1"
    assert img.manifest_digest == built.manifest_digest
    assert img.manifest_bytes == built.manifest_bytes and img.config_bytes == built.config_bytes
    assert [layer.digest for layer in img.layers] == built.layer_digests
    assert [layer.diff_id for layer in img.layers] == built.diff_ids
    read_all(img)


def test_layer_stream_is_a_verifying_reader_for_its_digest(plain_registry, pushed, options):
    img = pull(plain_registry.host, pushed["small"].name, options)
    stream = img.layers[0].open_compressed()
    assert isinstance(stream, VerifyingReader) and stream.digest == img.layers[0].digest
    while stream.read(1 << 16):
        pass
    assert stream.verified
    stream.close()
    cached = img.layers[0].open_compressed()  # now from the digest-addressed cache
    assert isinstance(cached, CachedBlobReader) and cached.digest == img.layers[0].digest
    cached.close()


def test_pull_by_digest(plain_registry, pushed, options):
    digest = pushed["small"].images[0].manifest_digest
    img = pull(plain_registry.host, f"test/small@{digest}", options)
    assert img.manifest_digest == digest
    read_all(img)


@pytest.mark.parametrize("platform", ["linux/amd64", "linux/arm64", "linux/aarch64"])
def test_index_platform_choice_skips_attestations(plain_registry, pushed, options, platform):
    options.platform = Platform.parse(platform)
    img = pull(plain_registry.host, pushed["multi"].name, options)
    want = Platform.parse(platform)
    built = next(b for b in pushed["multi"].images if Platform.parse(b.spec.platform) == want)
    assert img.manifest_digest == built.manifest_digest  # the platform manifest, not the index
    assert img.platform == str(want)
    read_all(img)


def test_platform_not_in_index(plain_registry, pushed, options):
    options.platform = Platform.parse("linux/s390x")
    with pytest.raises(PlatformNotFound) as info:
        pull(plain_registry.host, pushed["multi"].name, options)
    assert "linux/amd64, linux/arm64" in str(info.value) and "unknown" not in str(info.value)


@pytest.mark.parametrize("name, message", [
    ("test/small:nope", "no such tag"),
    ("test/nosuchrepo:v1", "no such tag"),  # distribution 2.8 says MANIFEST_UNKNOWN here
    ("test/small@sha256:" + "0" * 64, "no such tag or digest"),
])
def test_not_found(plain_registry, pushed, options, name, message):
    with pytest.raises(ImageNotFound, match=message):
        pull(plain_registry.host, name, options)


def test_unreachable_registry_is_a_transport_error(options):
    with pytest.raises(TransportError, match="127.0.0.1:9"):
        pull("127.0.0.1:9", "x/y:z", options)


# --- TLS -----------------------------------------------------------------------------------

def test_tls_with_ca_cert(tls_registry, pushed, options):
    options.ca_cert = tls_registry.ca_pem
    img = pull(tls_registry.host, pushed["small"].name, options)
    read_all(img)


def test_tls_unknown_ca_is_refused_with_a_hint(tls_registry, pushed, options):
    with pytest.raises(TransportError, match="TLS verification failed") as info:
        pull(tls_registry.host, pushed["small"].name, options)
    assert "--ca-cert" in str(info.value)


def test_no_tls_verify_accepts_unknown_ca(tls_registry, pushed, options):
    options.tls_verify = False
    read_all(pull(tls_registry.host, pushed["small"].name, options))


# --- Basic (htpasswd) ----------------------------------------------------------------------

def test_basic_auth_from_docker_config(basic_registry, pushed, options, tmp_path, monkeypatch):
    docker_config(tmp_path, monkeypatch, basic_auths(basic_registry.host))
    read_all(pull(basic_registry.host, pushed["small"].name, options))


def test_basic_auth_needs_a_login(basic_registry, pushed, options):
    with pytest.raises(AuthError, match="requires a login"):
        pull(basic_registry.host, pushed["small"].name, options)


def test_basic_auth_wrong_password_names_the_source(basic_registry, pushed, options, tmp_path, monkeypatch):
    cfg = docker_config(tmp_path, monkeypatch, basic_auths(basic_registry.host, password="stale"))
    with pytest.raises(AuthError) as info:
        pull(basic_registry.host, pushed["small"].name, options)
    text = str(info.value)
    assert str(cfg / "config.json") in text and "--anonymous" in text and "stale" not in text


def test_credential_helper_on_path(basic_registry, pushed, options, tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    helper = bindir / "docker-credential-test"
    helper.write_text(f'#!/bin/sh\nread url\n[ "$url" = "{basic_registry.host}" ] || exit 3\n'
                      f'echo \'{{"ServerURL":"{basic_registry.host}","Username":"{USER}","Secret":"{PASSWORD}"}}\'\n')
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    docker_config(tmp_path, monkeypatch, {"credHelpers": {basic_registry.host: "test"}})
    read_all(pull(basic_registry.host, pushed["small"].name, options))


# --- token auth (JWT, x5c) -----------------------------------------------------------------

def test_token_auth_anonymous_one_token_per_scope(token_registry, pushed, options, token_state):
    img = pull(token_registry.host, pushed["five"].name, options)
    read_all(img)
    assert len(token_state.requests) == 1  # one token for the scope, reused for every request
    assert token_state.requests[0]["scopes"] == ["repository:test/five:pull"]
    assert token_state.requests[0]["service"] == "test-registry"
    assert token_state.requests[0]["authorization"] == ""
    read_all(pull(token_registry.host, pushed["small"].name, options))
    assert [r["scopes"] for r in token_state.requests][1:] == [["repository:test/small:pull"]]


@pytest.mark.parametrize("key", ["access_token", "both"])
def test_token_response_variants(token_registry, pushed, options, token_state, key):
    token_state.response_key = key
    token_state.expires_in = None
    read_all(pull(token_registry.host, pushed["small"].name, options))


def test_token_auth_with_stored_credentials(token_registry, pushed, options, token_state, tmp_path, monkeypatch):
    docker_config(tmp_path, monkeypatch, basic_auths(token_registry.host))
    read_all(pull(token_registry.host, pushed["small"].name, options))
    assert token_state.requests[0]["authorization"].startswith("Basic ")


def test_stale_credentials_break_public_pull_until_anonymous(token_registry, pushed, options, token_state,
                                                             tmp_path, monkeypatch):
    cfg = docker_config(tmp_path, monkeypatch, basic_auths(token_registry.host, password="expired"))
    with pytest.raises(AuthError) as info:
        pull(token_registry.host, pushed["small"].name, options)
    assert str(cfg / "config.json") in str(info.value) and "--anonymous" in str(info.value)
    options.anonymous = True
    read_all(pull(token_registry.host, pushed["small"].name, options))
    assert token_state.requests[-1]["authorization"] == ""


def test_expired_token_is_refreshed(token_registry, pushed, options, token_state, monkeypatch):
    from inspector.sources.registry import auth

    img = pull(token_registry.host, pushed["small"].name, options)
    monkeypatch.setattr(auth, "TOKEN_SLACK_SECONDS", 10_000)  # every token now looks expired
    read_all(img)
    assert len(token_state.requests) >= 2


# --- cache ---------------------------------------------------------------------------------

def test_reopen_reads_blobs_from_cache_without_network(proxy, pushed, options):
    read_all(pull(proxy.host, pushed["small"].name, options))
    proxy.reset()
    proxy.faults.status_always.append(("/blobs/", 500))
    proxy.faults.status_always.append(("/manifests/sha256:", 500))
    img = pull(proxy.host, pushed["small"].name, options)
    read_all(img)
    assert proxy.requests_to("/blobs/") == [] and proxy.requests_to("/manifests/sha256:") == []
    assert len(proxy.requests_to("/manifests/v1", "HEAD")) == 1  # the tag is still resolved


def test_no_cache_writes_nothing(proxy, pushed, options):
    options.no_cache = True
    read_all(pull(proxy.host, pushed["small"].name, options))
    assert not (options.cache_dir / "blobs").exists() or not any((options.cache_dir / "blobs").rglob("*"))


def test_damaged_cached_blob_is_detected_deleted_and_refetched(proxy, pushed, options):
    """Cache files are not fsynced: a cached layer that no longer matches its digest is
    reported when read, deleted, and downloaded again on the next open; a damaged cached
    config is simply fetched again."""
    img = pull(proxy.host, pushed["small"].name, options)
    read_all(img)
    layer_file = options.cache_dir / "blobs" / img.layers[0].digest.replace(":", "/")
    config_file = options.cache_dir / "blobs" / img.config_digest.replace(":", "/")
    for path in (layer_file, config_file):
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))

    proxy.reset()
    img = pull(proxy.host, pushed["small"].name, options)  # config: damaged copy refetched
    assert len(proxy.requests_to(f"/blobs/{img.config_digest}")) == 1
    with pytest.raises(DigestMismatch, match=r"\(cached\)"):
        read_all(img)
    assert not layer_file.exists()

    proxy.reset()
    read_all(pull(proxy.host, pushed["small"].name, options))
    assert len(proxy.requests_to(f"/blobs/{img.layers[0].digest}")) == 1
    assert layer_file.exists()
