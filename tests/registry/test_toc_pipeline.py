"""The TOC path's round trips (``RemoteToc.prefetch``): a caller that lists the image next
(``analysis.open_image(listing=True)``: the CLI's commands, the TUI) has each layer's TOC
fetched while the config is, not after it; a caller that only opens the image (audit's
plan, ``--base-image``), ``--full`` or an index already cached fetches no TOC."""

from __future__ import annotations

import io
import json

import pytest

from inspector.analysis import analyze, open_image
from inspector.options import Options
from inspector.report.export import write_export
from inspector.sources.registry import open_registry
from tests.registry.tocimages import comparable, export

pytestmark = pytest.mark.registry


def _via(proxy, toc_images, key: str) -> str:
    return toc_images[key].replace(toc_images[key].split("/")[0], proxy.host)


def test_the_toc_is_fetched_while_the_config_is(proxy, toc_images, tmp_path):
    """The proxy answers the config only once the layer's TOC GET has arrived: on a
    client that fetches the TOC after the config, the answer waits out ``HOLD`` and
    ``held`` is false."""
    ref = _via(proxy, toc_images, "debian:zc")
    probe = open_registry(ref, Options(no_cache=True), reference=ref)
    config, layer = probe.config_digest, probe.layers[0].digest
    proxy.reset()
    proxy.faults.hold[f"/blobs/{config}"] = f"/blobs/{layer}"
    options = Options(cache_dir=tmp_path / "toc")
    image = open_image(ref, options, listing=True)
    assert [r["held"] for r in proxy.requests_to(f"/blobs/{config}")] == [True]
    analysis = analyze(image, options)
    # the prefetched TOC is the one listed: one GET for it, not two
    toc_gets = [r for r in proxy.requests_to(f"/blobs/{layer}")
                if r["headers"]["Range"].count(",") == 0
                and r["headers"]["Range"].startswith(f"bytes={image.layers[0].toc.place.offset}-")]
    assert len(toc_gets) == 1
    assert analysis.notices == []
    full, _ = export(toc_images["debian:gzip"], Options(cache_dir=tmp_path / "full"))
    out = io.StringIO()
    write_export(analysis, out)
    assert comparable(json.loads(out.getvalue())) == comparable(full)


def test_the_toc_travels_on_a_connection_opened_before_the_manifest_came(proxy, toc_images,
                                                                        tmp_path):
    """The helper that fetches the TOC beside the config connects while the manifest is
    asked for (``RegistryClient.warm``), so its GET waits for no handshake (on a WAN with
    TLS, one to three round trips): the proxy answers the manifest requests only once a
    second connection is open. On a client that connects for the TOC only when it asks
    for it, they wait out ``HOLD`` and ``held`` is false."""
    ref = _via(proxy, toc_images, "debian:zc")
    probe = open_registry(ref, Options(no_cache=True), reference=ref)
    config, layer = probe.config_digest, probe.layers[0].digest
    proxy.reset()
    proxy.faults.hold_connections["/manifests/"] = 2
    open_image(ref, Options(cache_dir=tmp_path), listing=True).layers[0].toc.entries()
    assert [r["held"] for r in proxy.requests_to("/manifests/", "HEAD")
            + proxy.requests_to("/manifests/")] == [True, True]
    toc_get, = [r for r in proxy.requests_to(f"/blobs/{layer}")]
    config_get, = proxy.requests_to(f"/blobs/{config}")
    opened = proxy.state.connections
    assert toc_get["port"] != config_get["port"] and toc_get["port"] in opened[:2]


#: (name, listing, options beyond the cache dir, index cached first, TOC prefetched)
CALLERS = [
    ("the CLI and the TUI list it next", True, {}, False, True),
    ("a caller that only opens it (audit's plan, --base-image)", False, {}, False, False),
    ("--full: the layers are pulled whole", True, {"full": True}, False, False),
    ("the layer's index is cached", True, {}, True, False),
]


@pytest.mark.parametrize("name,listing,extra,warm,expected", CALLERS,
                         ids=[c[0] for c in CALLERS])
def test_which_openings_fetch_the_toc_ahead(proxy, toc_images, tmp_path, name, listing, extra,
                                            warm, expected):
    from inspector.index import toc_files

    ref = _via(proxy, toc_images, "mixed:zc")
    options = Options(cache_dir=tmp_path, **extra)
    if warm:
        analyze(open_image(ref, options), options)
    toc_files.forget()  # as a new process: only the on-disk cache is warm
    image = open_image(ref, options, listing=listing)
    assert [layer.toc._ahead is not None for layer in image.layers] == \
        [expected] * len(image.layers)
    analyze(image, options)
    assert all(layer.toc._ahead is None for layer in image.layers)  # taken, or never made


def test_over_tls_a_request_uses_the_connection_warm_opened(tls_registry, toc_images,
                                                            tmp_path):
    """Over TLS (a private CA: ``--ca-cert``), the connection ``warm`` opens lands in the
    pool a helper's request draws from (same verify settings), so the request opens none:
    the helper's session holds one connection after a ranged GET."""
    ref = toc_images["debian:zc"].replace(toc_images["debian:zc"].split("/")[0],
                                          tls_registry.host)
    options = Options(cache_dir=tmp_path, ca_cert=tls_registry.ca_pem)
    image = open_image(ref, options, listing=True)
    toc = image.layers[0].toc
    analysis = analyze(image, options)
    assert analysis.notices == [] and [ix.verified for ix in analysis.layers] == ["toc"]
    client = toc.client
    client.warm()

    def ranged_then_count() -> list[int]:  # on the warmed thread: its session's pools
        toc.ranges([(0, 10)])
        managers = {id(a.poolmanager): a.poolmanager for a in client.session.adapters.values()}
        return [pool.num_connections for manager in managers.values()
                for pool in manager.pools._container.values()]
    assert client.submit(ranged_then_count).result() == [1]
