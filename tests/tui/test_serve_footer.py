"""`inspector serve` in a real browser (issue 24 item 9): the footer's key hints are drawn
before the first key. The page blurs the app until a key arrives, and the footer used to
wait for focus, so its row stayed one flat colour. Headless Chromium over the DevTools
protocol reads the terminal's text canvas (xterm's 2D text layer): the footer row — the
bottom of the canvas — must hold drawn glyphs, with no key pressed and no click.
Loopback only; the served app is the demo on the bundled samples."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import pytest

from tests.tui.test_serve_browser import DEADLINE, Page, browser, free_port, wait_for

__all__ = ["browser"]  # the fixture, shared with test_serve_browser

#: colours in the footer band of a blank footer: its background (and antialiasing of none)
FLAT = 2
#: pixels at the bottom of the text canvas read as the footer row (less than one row)
BAND = 8

#: the distinct colours of the text layer's bottom band (-1: no 2D text layer yet)
FOOTER_COLOURS = f"""(() => {{
  const c = document.querySelector('canvas.xterm-text-layer');
  if (!c || !c.height) return -1;
  const d = c.getContext('2d').getImageData(0, c.height - {BAND}, c.width, {BAND}).data;
  const seen = new Set();
  for (let i = 0; i < d.length; i += 4) seen.add(d[i] << 24 | d[i+1] << 16 | d[i+2] << 8 | d[i+3]);
  return seen.size; }})()"""


@pytest.fixture
def served_demo(tmp_path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "inspector", "serve", "--port", str(port),
                             "--cache-dir", str(tmp_path / "cache")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/", proc)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_footer_hints_before_the_first_key(served_demo, browser):
    import aiohttp

    async def run() -> int:
        async with aiohttp.ClientSession() as session, session.ws_connect(
                browser, max_msg_size=0) as ws:
            page = Page(ws)
            await page.call("Page.navigate", url=served_demo)
            await page.until("document.body.classList.contains('-first-byte')")
            # the Overview has drawn (its table fills the middle of the canvas) …
            end = time.monotonic() + DEADLINE
            colours = -1
            while time.monotonic() < end:
                colours = await page.value(FOOTER_COLOURS)
                if colours > FLAT:
                    break
                await asyncio.sleep(0.2)
            return colours

    assert asyncio.run(run()) > FLAT  # glyphs in the footer row, no key pressed
