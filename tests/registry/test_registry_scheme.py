"""Which scheme a registry is spoken to in, and what it costs: a plain-http registry on
loopback is opened without building a TLS context (an https attempt first cost ~75 ms on
every open: the CA bundle loaded, a handshake refused); a TLS one on loopback still gets
https, its certificate verified."""

from __future__ import annotations

import ssl

import pytest

from inspector.errors import TransportError
from inspector.sources.base import validate_image
from inspector.sources.registry import open_registry
from inspector.sources.registry.client import RegistryClient
from inspector.sources.registry.image import open_registry_image
from inspector.sources.registry.reference import parse

pytestmark = pytest.mark.registry


@pytest.fixture
def tls_contexts(monkeypatch) -> list[ssl.SSLContext]:
    """Every ``ssl.SSLContext`` built while the test runs (urllib3 builds one per https
    connection pool, requests none of its own)."""
    made: list[ssl.SSLContext] = []
    new = ssl.SSLContext.__new__

    def counting(cls, *args, **kwargs):
        context = new(cls, *args, **kwargs)
        made.append(context)
        return context

    monkeypatch.setattr(ssl.SSLContext, "__new__", counting)
    return made


# (name, registry fixture, trust its CA, expected base scheme, TLS contexts built)
SCHEMES = [
    ("plain http on loopback", "plain_registry", False, "http", False),
    ("TLS on loopback, its CA given", "tls_registry", True, "https", True),
]


@pytest.mark.parametrize("name,fixture,trust,scheme,builds_tls", SCHEMES, ids=[s[0] for s in SCHEMES])
def test_open_builds_a_tls_context_only_for_https(name, fixture, trust, scheme, builds_tls,
                                                 request, pushed, options, tls_contexts):
    registry = request.getfixturevalue(fixture)
    if trust:
        options.ca_cert = registry.ca_pem
    ref = f"{registry.host}/{pushed['small'].name}"
    client = RegistryClient(parse(ref), options)
    image = open_registry_image(parse(ref), options, reference=ref, client=client)
    validate_image(image)  # manifest, config and every layer read
    assert client.base.startswith(f"{scheme}://")
    assert bool(tls_contexts) is builds_tls


def test_loopback_tls_registry_with_an_unknown_ca_is_still_refused(tls_registry, pushed, options):
    """Asked over plain http first, a TLS registry answers 400: the https attempt that
    follows reports the certificate it could not verify, not the plain-http answer."""
    ref = f"{tls_registry.host}/{pushed['small'].name}"
    with pytest.raises(TransportError, match="TLS verification failed") as info:
        open_registry(ref, options, reference=ref)
    assert "--ca-cert" in str(info.value)


def test_loopback_registry_not_ready_at_first_is_asked_again_over_http(proxy, pushed, options):
    """The first plain-http answer to ``/v2/`` is not a registry's (a proxy in front of
    one still starting: 404 once): https is tried and refused (plain http on its port),
    then plain http again, as for any loopback registry — not the https refusal reported."""
    proxy.faults.status_once.append(("/v2/", 404, {}))
    ref = f"{proxy.host}/{pushed['small'].name}"
    client = RegistryClient(parse(ref), options)
    validate_image(open_registry_image(parse(ref), options, reference=ref, client=client))
    assert client.base == f"http://{proxy.host}"
    assert [r["path"] for r in proxy.requests_to("/v2/")][:2] == ["/v2/", "/v2/"]
