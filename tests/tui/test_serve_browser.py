"""`inspector serve` in a real browser: headless Chromium loads the page and, driven over
the DevTools protocol, types one key without clicking anywhere. The page must have put the
focus in the terminal, so that first key reaches the app: `q` ends the session (the page
then shows "Session ended"). Loopback only; the served app reads the bundled samples."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.tools import require_tool

#: seconds to wait for a server, the browser or the page (a deadline, not a sleep)
DEADLINE = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen) -> bytes:
    end = time.monotonic() + DEADLINE
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.read()
        except OSError:
            if proc.poll() is not None or time.monotonic() > end:
                raise
            time.sleep(0.1)


@pytest.fixture
def served(tmp_path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "inspector", "serve", "--port", str(port),
                             "--cache-dir", str(tmp_path / "cache"), "sample:hello-distroless"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/", proc)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def browser(tmp_path):
    chromium = require_tool("chromium")
    port = free_port()
    proc = subprocess.Popen([chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
                             f"--remote-debugging-port={port}",
                             f"--user-data-dir={tmp_path / 'chrome'}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        targets = json.loads(wait_for(f"http://127.0.0.1:{port}/json/list", proc))
        yield next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


class Page:
    """A minimal DevTools client: one command at a time."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.n = 0

    async def call(self, method: str, **params):
        self.n += 1
        await self.ws.send_json({"id": self.n, "method": method, "params": params})
        while True:
            msg = await self.ws.receive_json()
            if msg.get("id") == self.n:
                assert "error" not in msg, msg
                return msg.get("result", {})

    async def value(self, expression: str):
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def until(self, expression: str) -> None:
        end = time.monotonic() + DEADLINE
        while not await self.value(expression):
            assert time.monotonic() < end, f"never true: {expression}"
            await asyncio.sleep(0.1)


def test_first_key_reaches_the_app_without_a_click(served, browser):
    import aiohttp

    async def run() -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(
                browser, max_msg_size=0) as ws:
            page = Page(ws)
            await page.call("Page.navigate", url=served)
            # the app has drawn (textual-serve marks its first bytes) and nobody clicked
            await page.until("document.body.classList.contains('-first-byte')")
            await page.until("document.activeElement !== null && "
                             "document.activeElement.classList.contains("
                             "'xterm-helper-textarea')")
            for kind in ("keyDown", "char", "keyUp"):
                await page.call("Input.dispatchKeyEvent", type=kind, key="q", text="q",
                                code="KeyQ", windowsVirtualKeyCode=81)
            await page.until("document.body.classList.contains('-closed')")

    asyncio.run(run())
