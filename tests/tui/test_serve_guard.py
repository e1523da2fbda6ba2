"""``inspector serve`` refuses what a web page in the user's browser could do to it
(issue 23 item 11): a websocket from another origin, and a ``Host`` that is not the bound
address (DNS rebinding). A real ``inspector serve`` on loopback, a real websocket client
(aiohttp) sending the headers a browser would; the same-origin page is also driven by
Chromium in ``test_serve_browser.py``."""

from __future__ import annotations

import asyncio

import pytest

from inspector.tui.serve import Guard
from tests.tui.test_serve_browser import DEADLINE, serving


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``inspector serve`` on loopback for the module (each accepted websocket starts its
    own app process, ended when the socket closes)."""
    cache = tmp_path_factory.mktemp("serve-cache")
    with serving("--cache-dir", str(cache), "sample:hello-distroless") as url:
        yield url

#: what a browser on another site, or a rebinding name, would send; ``{port}`` is the
#: server's. (name, path, headers, accepted)
REQUESTS = [
    ("same origin", "/ws", {"Origin": "http://127.0.0.1:{port}"}, True),
    ("localhost page, 127.0.0.1 socket", "/ws", {"Origin": "http://localhost:{port}"}, True),
    ("no Origin: a local program, not a page", "/ws", {}, True),
    ("another site", "/ws", {"Origin": "https://evil.example"}, False),
    ("another port on this host", "/ws", {"Origin": "http://127.0.0.1:1"}, False),
    ("opaque origin (sandbox, file:)", "/ws", {"Origin": "null"}, False),
    ("rebinding name", "/ws",
     {"Host": "evil.example:{port}", "Origin": "http://evil.example:{port}"}, False),
    ("rebinding name, page", "/", {"Host": "evil.example:{port}"}, False),
    ("rebinding name, static file", "/static/css/xterm.css", {"Host": "evil.example:{port}"},
     False),
    ("page from another site", "/", {"Origin": "https://evil.example"}, False),
    ("page", "/", {}, True),
]


async def _websocket(url: str, headers: dict) -> tuple[int, bool]:
    """(status, whether the app's first output arrived) of a websocket to ``url``."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        try:
            async with session.ws_connect(url, headers=headers) as ws:
                message = await ws.receive(timeout=DEADLINE)
                return 101, message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT)
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status, False


async def _get(url: str, headers: dict) -> tuple[int, str]:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as resp:
        return resp.status, await resp.text()


@pytest.mark.parametrize("name, path, headers, accepted", REQUESTS, ids=[r[0] for r in REQUESTS])
def test_serve_refuses_other_origins_and_hosts(served, name, path, headers, accepted):
    base = served.rstrip("/")
    port = base.rsplit(":", 1)[1]
    sent = {k: v.format(port=port) for k, v in headers.items()}
    if path == "/ws":
        status, output = asyncio.run(_websocket(base.replace("http:", "ws:") + path, sent))
        assert (status, output) == ((101, True) if accepted else (403, False))
    else:
        status, text = asyncio.run(_get(base + path, sent))
        assert status == (200 if accepted else 403)
        if not accepted:
            assert text.startswith("inspector serve: refused") and text.count("\n") == 1


GUARD = [  # (name, bound host, port, Host header, Origin header, accepted)
    ("bound name", "127.0.0.1", 8000, "127.0.0.1:8000", None, True),
    ("loopback alias", "127.0.0.1", 8000, "localhost:8000", "http://localhost:8000", True),
    ("ipv6 loopback alias", "127.0.0.1", 8000, "[::1]:8000", None, True),
    ("wrong port", "127.0.0.1", 8000, "127.0.0.1:8001", None, False),
    ("no port means 80", "127.0.0.1", 8000, "127.0.0.1", None, False),
    ("port 80 implied", "127.0.0.1", 80, "localhost", "http://localhost", True),
    ("no Host at all", "127.0.0.1", 8000, None, None, False),
    ("userinfo trick", "127.0.0.1", 8000, "evil@127.0.0.1:8000", None, False),
    ("origin with a path", "127.0.0.1", 8000, "127.0.0.1:8000", "http://127.0.0.1:8000/x",
     False),
    ("origin of another scheme", "127.0.0.1", 8000, "127.0.0.1:8000", "ftp://127.0.0.1:8000",
     False),
    ("https origin, default port", "localhost", 443, "localhost", "https://localhost", True),
    ("rebinding on a LAN bind", "192.168.1.5", 8000, "evil.example:8000", None, False),
    ("LAN bind has no loopback alias", "192.168.1.5", 8000, "localhost:8000", None, False),
    ("LAN bind, its own address", "192.168.1.5", 8000, "192.168.1.5:8000", None, True),
    ("every interface, an IP", "0.0.0.0", 8000, "10.0.0.7:8000", "http://10.0.0.7:8000", True),
    ("every interface, a rebinding name", "0.0.0.0", 8000, "evil.example:8000", None, False),
    ("trailing dot", "127.0.0.1", 8000, "localhost.:8000", None, True),
    ("bad port", "127.0.0.1", 8000, "127.0.0.1:80x0", None, False),
]


@pytest.mark.parametrize("name, bound, port, host, origin, accepted", GUARD,
                         ids=[g[0] for g in GUARD])
def test_guard_table(name, bound, port, host, origin, accepted):
    assert (Guard(bound, port).refusal(host, origin) is None) == accepted
