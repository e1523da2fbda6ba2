"""Headless Chromium over the DevTools protocol, for the HTML report's tests and benchmark:
``with chromium_page() as page`` gives a page (network off, every request recorded) whose
``load(path)`` opens a file and waits until the report says it has drawn."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

#: seconds to wait for the browser or a page (a deadline, not a sleep)
DEADLINE = 60


def _wait_json(url: str, proc: subprocess.Popen):
    end = time.monotonic() + DEADLINE
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return json.loads(r.read())
        except OSError:
            if proc.poll() is not None or time.monotonic() > end:
                raise
            time.sleep(0.1)


class Page:
    """One DevTools session; ``requests`` lists every URL the page asked for."""

    def __init__(self, ws, loop) -> None:
        self.ws, self.loop, self.n = ws, loop, 0
        self.requests: list[str] = []
        self.errors: list[str] = []

    async def _call(self, method: str, **params):
        self.n += 1
        await self.ws.send_json({"id": self.n, "method": method, "params": params})
        while True:
            msg = await self.ws.receive_json()
            if msg.get("method") == "Network.requestWillBeSent":
                self.requests.append(msg["params"]["request"]["url"])
            elif msg.get("method") == "Runtime.exceptionThrown":
                self.errors.append(json.dumps(msg["params"]["exceptionDetails"])[:500])
            elif msg.get("method") == "Log.entryAdded":
                self.errors.append(msg["params"]["entry"].get("text", ""))
            if msg.get("id") == self.n:
                assert "error" not in msg, msg
                return msg.get("result", {})

    def call(self, method: str, **params):
        return self.loop.run_until_complete(self._call(method, **params))

    def value(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def until(self, expression: str) -> None:
        end = time.monotonic() + DEADLINE
        while not self.value(expression):
            assert time.monotonic() < end, f"never true: {expression}"
            self.loop.run_until_complete(asyncio.sleep(0.05))

    def load(self, path: Path, width: int = 1400, height: int = 900) -> float:
        """Open ``path``; seconds from navigation until the report marked itself drawn."""
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=False)
        self.requests.clear()
        start = time.monotonic()
        self.call("Page.navigate", url=path.resolve().as_uri())
        self.until("!!document.documentElement && "
                   "document.documentElement.dataset.drawnMs !== undefined")
        return time.monotonic() - start

    def screenshot(self, dest: Path, full: bool = True) -> bytes:
        data = base64.b64decode(self.call("Page.captureScreenshot", format="png",
                                          captureBeyondViewport=full)["data"])
        dest.write_bytes(data)
        return data


@contextlib.contextmanager
def chromium_page():
    import aiohttp

    from tests.tui.test_serve_browser import chromium_debugging

    with tempfile.TemporaryDirectory() as profile, \
            chromium_debugging(Path(profile), "--hide-scrollbars") as (base, proc):
        loop = asyncio.new_event_loop()
        try:
            targets = _wait_json(f"{base}/json/list", proc)
            url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")

            async def connect():
                session = aiohttp.ClientSession()
                return session, await session.ws_connect(url, max_msg_size=0)

            session, ws = loop.run_until_complete(connect())
            page = Page(ws, loop)
            for domain in ("Page", "Runtime", "Log", "Network"):
                page.call(f"{domain}.enable")
            page.call("Network.emulateNetworkConditions", offline=True, latency=0,
                      downloadThroughput=0, uploadThroughput=0)
            try:
                yield page
            finally:
                loop.run_until_complete(ws.close())
                loop.run_until_complete(session.close())
        finally:
            loop.close()
