"""`inspector serve` in a real browser: headless Chromium loads the page and, driven over
the DevTools protocol, types one key without clicking anywhere. The page must have put the
focus in the terminal, so that first key reaches the app: `q` ends the session (the page
then shows "Session ended"). Loopback only; the served app reads the bundled samples."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.locks import listens
from tests.tools import require_tool

#: seconds to wait for a server, the browser or the page (a deadline, not a sleep)
DEADLINE = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, port: int | None = None) -> bytes:
    """``url``'s body once it answers. With ``port``, an answer counts only once ``proc``
    itself listens on that port: a port picked free a moment before may have gone to
    another process (a parallel worker's server), which would answer instead."""
    end = time.monotonic() + DEADLINE
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                body = r.read()
            if port is None or listens(proc.pid, port):
                return body
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > end:
            raise OSError(f"{url}: no answer from pid {proc.pid} (exit status {proc.poll()})")
        time.sleep(0.1)


@contextlib.contextmanager
def serving(*args: str, attempts: int = 5):
    """``inspector serve ARGS`` on a free loopback port; yields its URL. A port lost to
    another process between picking and binding (the server exits) is picked again."""
    for attempt in range(attempts):
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "inspector", "serve", "--port", str(port),
                                 *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            try:
                wait_for(f"http://127.0.0.1:{port}/", proc, port)
            except OSError:
                if proc.poll() is None or attempt == attempts - 1:
                    raise
                continue  # it could not bind: another port
            yield f"http://127.0.0.1:{port}/"
            return
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@contextlib.contextmanager
def chromium_debugging(profile: Path, *flags: str):
    """Headless Chromium with DevTools on a port of its own choosing (port 0: it writes the
    port to ``DevToolsActivePort`` in its profile, so no other process can hold it); yields
    the targets' list URL's base, ``http://127.0.0.1:PORT``."""
    chromium = require_tool("chromium")
    profile.mkdir(parents=True, exist_ok=True)
    active = profile / "DevToolsActivePort"
    proc = subprocess.Popen([chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
                             "--remote-debugging-port=0", f"--user-data-dir={profile}", *flags,
                             "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + DEADLINE
        while not (active.exists() and active.read_text().split("\n")[0].isdigit()):
            if proc.poll() is not None or time.monotonic() > end:
                raise OSError(f"chromium (pid {proc.pid}) wrote no DevToolsActivePort")
            time.sleep(0.1)
        port = int(active.read_text().split("\n")[0])
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def served(tmp_path):
    with serving("--cache-dir", str(tmp_path / "cache"), "sample:hello-distroless") as url:
        yield url


@pytest.fixture
def browser(tmp_path):
    with chromium_debugging(tmp_path / "chrome") as (base, proc):
        targets = json.loads(wait_for(f"{base}/json/list", proc))
        yield next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")


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
