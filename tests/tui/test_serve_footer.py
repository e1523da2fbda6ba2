"""`inspector serve` in a real browser. Headless Chromium over the DevTools protocol reads
the terminal's text canvas (xterm's 2D text layer):

- (issue 24 item 9) the footer's key hints are drawn before the first key. The page blurs
  the app until a key arrives, and the footer used to wait for focus, so its row stayed
  one flat colour: the footer row — the bottom of the canvas — must hold drawn glyphs,
  with no key pressed and no click;
- (review C8, ``b3_enter``) after Enter on the Overview the title line ``compare: …`` stays
  on the top row: the Files tab's columns painted lines at a stale width, wider than the
  terminal, and the wrap of the last row scrolled the whole terminal up by one.

Loopback only; the served apps read the bundled samples."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.tui.test_serve_browser import DEADLINE, Page, browser, serving

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
    with serving("--cache-dir", str(tmp_path / "cache")) as url:
        yield url


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


#: a hash of the text layer's pixels from ``top`` down ``rows`` pixels (null: no canvas)
CANVAS_HASH = """((top, rows) => {
  const c = document.querySelector('canvas.xterm-text-layer');
  if (!c || !c.height) return null;
  const d = c.getContext('2d').getImageData(0, top, c.width, rows || c.height).data;
  let h = 0;
  for (let i = 0; i < d.length; i++) h = (Math.imul(h, 31) + d[i]) | 0;
  return h; })"""
#: pixels of the top row read as the title line (less than one row)
TITLE_BAND = 10
#: polls (0.2 s apart) the canvas must stay unchanged to count as drawn
STILL = 6


@pytest.fixture
def served_three(tmp_path):
    """The review's case: three images compared, served."""
    with serving("--cache-dir", str(tmp_path / "cache"), "sample:debian-12-slim",
                 "sample:distroless-static", "sample:distroless-base") as url:
        yield url


async def _settled(page: Page, changed_from: int | None = None) -> int:
    """The whole canvas's hash once it differs from ``changed_from`` and then stays the
    same for ``STILL`` polls (the app has drawn what the last key asked for)."""
    end = time.monotonic() + DEADLINE
    last, still = None, 0
    while time.monotonic() < end:
        now = await page.value(f"{CANVAS_HASH}(0, 0)")
        if now is not None and now != changed_from and now == last:
            still += 1
            if still >= STILL:
                return now
        else:
            still = 0
        last = now
        await asyncio.sleep(0.2)
    raise AssertionError("the terminal never settled")


def test_title_line_stays_after_enter(served_three, browser):
    import aiohttp

    async def run() -> tuple[int, int]:
        async with aiohttp.ClientSession() as session, session.ws_connect(
                browser, max_msg_size=0) as ws:
            page = Page(ws)
            await page.call("Emulation.setDeviceMetricsOverride", width=1400, height=900,
                            deviceScaleFactor=1, mobile=False)  # the review's window
            await page.call("Page.navigate", url=served_three)
            await page.until("document.body.classList.contains('-first-byte')")
            await page.until(f"{FOOTER_COLOURS} > {FLAT}")  # the Overview is drawn
            before = await _settled(page)
            title = await page.value(f"{CANVAS_HASH}(0, {TITLE_BAND})")
            # Enter on the Overview's first category: its files in the Files tab
            for kind in ("keyDown", "keyUp"):
                await page.call("Input.dispatchKeyEvent", type=kind, key="Enter",
                                code="Enter", windowsVirtualKeyCode=13,
                                **({"text": "\r"} if kind == "keyDown" else {}))
            await _settled(page, changed_from=before)
            return title, await page.value(f"{CANVAS_HASH}(0, {TITLE_BAND})")

    title_before, title_after = asyncio.run(run())
    assert title_after == title_before  # the same title line on the top row
