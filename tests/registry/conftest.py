"""Session-scoped real registries on loopback, all serving one storage directory:
plain HTTP (fixtures are pushed there with skopeo), TLS with a test CA, htpasswd Basic,
and token auth against ``servers.TokenServer``."""

from __future__ import annotations

import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from inspector.options import Options  # noqa: E402
from inspector.sources.registry import client as client_mod  # noqa: E402
from tests.builders import ImageSpec, make_layer, write_oci_layout  # noqa: E402
from tests.registry.credentials import PASSWORD, USER  # noqa: E402
from tests.registry.servers import FaultProxy, RegistryProcess, TokenServer, make_htpasswd  # noqa: E402
from tests.registry.tocimages import push_toc_images  # noqa: E402
from tests.tools import require_tool  # noqa: E402,F401


@dataclass
class Pushed:
    name: str  # repository:tag on the registry
    images: list  # builders.BuiltImage, one per platform
    index_digest: str | None = None


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    """Retries back off for milliseconds in tests (the retry logic itself is unchanged)."""
    monkeypatch.setattr(client_mod, "BACKOFF_SECONDS", 0.01)


@pytest.fixture(autouse=True)
def no_kept_tocs():
    """Each test lists TOCs as a new process would: none kept from another test
    (``index.toc_files`` keeps the last few TOCs' entries by digest), no TOC read another
    test started shared (``sources.registry.toc``: reads not yet taken, by digest)."""
    from inspector.index import toc_files
    from inspector.sources.registry import toc

    toc_files.forget()
    toc.forget()


@pytest.fixture
def options(tmp_path: Path, monkeypatch) -> Options:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))  # no stray credentials
    return Options(cache_dir=tmp_path / "cache")


@pytest.fixture(scope="session")
def registry_storage(tmp_path_factory) -> Path:
    require_tool("docker-registry")
    return tmp_path_factory.mktemp("registry-storage")


@pytest.fixture(scope="session")
def plain_registry(registry_storage, tmp_path_factory):
    reg = RegistryProcess(tmp_path_factory.mktemp("plain"), registry_storage)
    yield reg
    reg.stop()


def _push(layout: Path, dest: str, *, all_images: bool = False) -> None:
    cmd = ["skopeo", "copy", "-q", "--dest-tls-verify=false"]
    if all_images:
        cmd.append("--all")
    subprocess.run(cmd + [f"oci:{layout}", f"docker://{dest}"], check=True, capture_output=True, timeout=120)


def _noise(seed: int, n: int) -> bytes:
    return random.Random(seed).randbytes(n)


@pytest.fixture(scope="session")
def pushed(plain_registry, tmp_path_factory) -> dict[str, Pushed]:
    """Images on the registry: ``small`` (2 layers), ``five`` (5 layers of ~300 KB,
    incompressible so blobs are big enough to cut mid-way), ``multi`` (amd64 + arm64 index
    with attestation manifests)."""
    require_tool("skopeo")
    base = tmp_path_factory.mktemp("layouts")
    out: dict[str, Pushed] = {}
    small = ImageSpec([make_layer({"etc/os-release": b"ID=test\n", "bin/sh": b"#!shell\n"}),
                       make_layer({"app/main": b"print('hi')\n"})])
    five = ImageSpec([make_layer({f"data/{i}.bin": _noise(i, 300_000)}) for i in range(5)])
    for name, spec in (("small", small), ("five", five)):
        written = write_oci_layout(base / name, [spec])
        _push(base / name, f"{plain_registry.host}/test/{name}:v1")
        out[name] = Pushed(f"test/{name}:v1", written.images)
    amd64 = ImageSpec([make_layer({"arch": b"amd64\n"})], platform="linux/amd64")
    arm64 = ImageSpec([make_layer({"arch": b"arm64\n"})], platform="linux/arm64")
    written = write_oci_layout(base / "multi", [amd64, arm64], multi_platform_ref="v1", attestations=True)
    _push(base / "multi", f"{plain_registry.host}/test/multi:v1", all_images=True)
    out["multi"] = Pushed("test/multi:v1", written.images, written.index_json["manifests"][0]["digest"])
    return out


@pytest.fixture(scope="session")
def tls_registry(registry_storage, tmp_path_factory, pushed):
    import trustme

    work = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_and_cert_chain_pem.write_to_path(str(work / "server.pem"))
    cert.private_key_pem.write_to_path(str(work / "server.key"))
    cert.cert_chain_pems[0].write_to_path(str(work / "server.crt"))
    ca.cert_pem.write_to_path(str(work / "ca.pem"))
    reg = RegistryProcess(work, registry_storage,
                          tls={"certificate": str(work / "server.crt"), "key": str(work / "server.key")})
    reg.ca_pem = work / "ca.pem"
    yield reg
    reg.stop()


@pytest.fixture(scope="session")
def basic_registry(registry_storage, tmp_path_factory, pushed):
    work = tmp_path_factory.mktemp("basic")
    htpasswd = make_htpasswd(work / "htpasswd", {USER: PASSWORD})
    reg = RegistryProcess(work, registry_storage, auth={"htpasswd": {"realm": "test", "path": str(htpasswd)}})
    yield reg
    reg.stop()


@pytest.fixture(scope="session")
def token_server(tmp_path_factory):
    server = TokenServer(tmp_path_factory.mktemp("token"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def token_registry(registry_storage, tmp_path_factory, token_server, pushed):
    work = tmp_path_factory.mktemp("token-registry")
    auth = {"token": {"realm": token_server.realm, "service": "test-registry",
                      "issuer": token_server.state.issuer, "rootcertbundle": str(token_server.root_pem)}}
    reg = RegistryProcess(work, registry_storage, auth=auth)
    yield reg
    reg.stop()


@pytest.fixture
def token_state(token_server):
    """The token server's knobs, restored after each test."""
    state = token_server.state
    saved = (state.response_key, state.expires_in)
    state.requests.clear()
    yield state
    state.response_key, state.expires_in = saved


@pytest.fixture(scope="session")
def _proxy(plain_registry):
    proxy = FaultProxy(plain_registry.host)
    yield proxy
    proxy.stop()


@pytest.fixture
def proxy(_proxy, pushed):
    """A fault-injecting proxy in front of the plain registry, reset for each test."""
    _proxy.reset()
    yield _proxy
    _proxy.reset()


@pytest.fixture(scope="session")
def toc_images(plain_registry, tmp_path_factory) -> dict[str, str]:
    """``NAME:gzip`` and ``NAME:zc`` (zstd:chunked) references on the plain registry for
    ``mixed`` (``tocimages.LAYERS``), ``debian`` (sample:debian-12-slim) and ``cpp``
    (sample:hello-cpp-debian, a dynamic C++ program for ``fit``): ``tocimages``."""
    require_tool("skopeo")
    return push_toc_images(plain_registry.host, tmp_path_factory.mktemp("toc"))
