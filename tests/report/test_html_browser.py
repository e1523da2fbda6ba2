"""The HTML report drawn by headless Chromium (Debian's ``chromium``, over the DevTools
protocol), network off: it asks for nothing but itself; the treemaps draw one rectangle per
node of the embedded tree; category bars are as wide as their bytes; the strip list is what
``compare --files`` leaves out (its executables); a click on a bar lists that bar's files;
text passes WCAG AA contrast; a screenshot per sample pair is the page's size and not blank;
a file named ``</script>…`` runs nothing."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import pytest

from inspector.cli import main
from inspector.report import html
from tests.builders import Entry
from tests.report.chromium import chromium_page
from tests.report.test_html import BREAKOUT, _oci

PAIRS = [("sample:debian-12-slim", "sample:distroless-static"),
         ("sample:hello-debian", "sample:hello-distroless")]
WIDTH = 1400


@pytest.fixture(scope="module")
def page():
    with chromium_page() as p:
        yield p


def _write(tmp_path: Path, name: str, *argv: str) -> Path:
    out = tmp_path / name
    assert main([*argv, "--format", "html", "-o", str(out), "-q",
                 "--cache-dir", str(tmp_path / "cache")]) == 0
    return out


def _count_nodes(node: list) -> int:
    return 1 + (sum(map(_count_nodes, node[2])) if isinstance(node[2], list) else 0)


def _png(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the inflated (still filtered) pixel rows of a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, size = 8, b"", (0, 0)
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            size = struct.unpack(">II", chunk[:8])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    return size[0], size[1], zlib.decompress(idat)


#: for every element with its own text: its colour against the first opaque background
#: up the tree; the lowest WCAG contrast ratio found, and where
CONTRAST_JS = r"""
(() => {
  const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => { const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 :
    Math.pow((c + 0.055) / 1.055, 2.4); }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  let worst = [99, ""];
  for (const e of document.querySelectorAll("body *")) {
    if (![...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    if (!e.getClientRects().length) continue;
    let bg = null;
    for (let p = e; p; p = p.parentElement) {
      const c = rgb(getComputedStyle(p).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) { bg = c.slice(0, 3); break; }
    }
    bg = bg || [255, 255, 255];
    const [a, b] = [lum(rgb(getComputedStyle(e).color).slice(0, 3)), lum(bg)];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < worst[0]) worst = [ratio, e.tagName + "." + e.className + ": " + e.textContent.slice(0, 40)];
  }
  return worst;
})()
"""


@pytest.mark.parametrize("pair", PAIRS, ids=["-vs-".join(p) for p in PAIRS])
def test_the_report_draws_offline_and_matches_its_data(tmp_path, page, pair):
    report = _write(tmp_path, "r.html", "compare", *pair)
    text = report.read_text()
    doc, view = html.read_embedded(text), html.read_embedded(text, html.VIEW_ID)
    page.load(report, width=WIDTH)
    assert page.requests == [report.resolve().as_uri()]  # nothing but the file itself
    assert page.errors == []

    # one rectangle per node of each embedded tree
    rects = page.value("[...document.querySelectorAll('svg.treemap')].map("
                       "s => s.querySelectorAll('rect').length)")
    assert rects == [_count_nodes(t) for t in view["treemaps"]]

    # category bars: width in proportion to the bytes in the compare/v1 document
    bars = page.value("[...document.querySelectorAll('button.bar')].map(b => [b.dataset.cat, "
                      "+b.dataset.image, b.getBoundingClientRect().width])")
    bytes_of = {(r["name"], j): c["bytes"] for r in doc["categories"]
                for j, c in enumerate(r["per_image"])}
    widest = max(w for _, _, w in bars)
    largest = max(bytes_of[(c, j)] for c, j, _ in bars)
    for cat, j, width in bars:
        if bytes_of[(cat, j)] > largest / 50:  # tiny bars keep a visible minimum width
            assert width / widest == pytest.approx(bytes_of[(cat, j)] / largest, abs=0.01)

    # the strip list: the executables among the paths `compare --files` says B lacks
    assert main(["compare", *pair, "--format", "json", "--files", "-q", "-o",
                 str(tmp_path / "f.json"), "--cache-dir", str(tmp_path / "cache")]) == 0
    only_a = json.loads((tmp_path / "f.json").read_text())["files"]["only_in_paths"][0]
    expected = {f["path"] for f in only_a if f["type"] in ("file", "hardlink")
                and int(f["mode"], 8) & 0o111}
    shown = page.value("[...document.querySelectorAll('#strips tr[data-path]')]"
                       ".map(r => r.dataset.path)")
    assert len(shown) == len(set(shown)) and set(shown) == expected

    # clicking the first image's largest bar lists its files, as the document has them
    cat = max((r for r in doc["categories"]), key=lambda r: r["per_image"][0]["bytes"])
    page.value(f"document.querySelector('button.bar[data-cat=\"{cat['name']}\"]"
               "[data-image=\"0\"]').click()")
    page.until("!document.getElementById('filelist').hidden")
    listed = page.value("[...document.querySelectorAll('#filelist li')].map(li => li.textContent)")
    assert listed == cat["per_image"][0]["paths"][:500]

    ratio, where = page.value(CONTRAST_JS)
    assert ratio >= 4.5, where

    shot = page.screenshot(tmp_path / "shot.png")
    width, height, rows = _png(shot)
    assert width == WIDTH and height > 2000
    assert len(set(rows)) > 64 and rows.count(0) < 0.98 * len(rows)  # not a blank page


def test_colour_toggles_recolour_the_treemap(tmp_path, page):
    report = _write(tmp_path, "r.html", "compare", *PAIRS[0])
    page.load(report, width=WIDTH)
    fills = "[...document.querySelectorAll('svg.treemap rect.f')].map(r => r.getAttribute('fill'))"
    by_category = page.value(fills)
    for mode in ("layer", "package", "category"):
        page.value(f"document.querySelector('input[value=\"{mode}\"]').click()")
        now = page.value(fills)
        assert (now == by_category) == (mode == "category"), mode


def test_export_report_draws_offline(tmp_path, page):
    report = _write(tmp_path, "e.html", "export", "sample:hello-distroless")
    view = html.read_embedded(report.read_text(), html.VIEW_ID)
    page.load(report, width=WIDTH)
    assert page.requests == [report.resolve().as_uri()] and page.errors == []
    assert page.value("document.querySelectorAll('svg.treemap rect').length") == \
        _count_nodes(view["treemaps"][0])


def test_a_script_in_a_file_name_runs_nothing(tmp_path, page):
    a = _oci(tmp_path, "hostile", {"srv/" + BREAKOUT: b"x" * 5000, "bin/sh": b"#!" + bytes(90)})
    b = _oci(tmp_path, "plain", {"etc/hostname": b"x\n"})
    report = tmp_path / "h.html"
    assert main(["compare", a, b, "--format", "html", "-o", str(report), "--no-cache",
                 "-q"]) == 0
    page.load(report, width=WIDTH)
    assert page.value("document.scripts.length") == 3 and page.errors == []
    # hovering the largest rectangle (that file) shows its path whole, as text
    tip = page.value("""(() => {
      const rects = [...document.querySelectorAll('svg.treemap')][0].querySelectorAll('rect.f');
      const big = [...rects].sort((a, b) => b.width.baseVal.value * b.height.baseVal.value -
                                            a.width.baseVal.value * a.height.baseVal.value)[0];
      const box = big.getBoundingClientRect();
      big.dispatchEvent(new MouseEvent('mousemove', {bubbles: true,
        clientX: box.x + box.width / 2, clientY: box.y + box.height / 2}));
      return document.getElementById('tip').textContent;
    })()""")
    assert tip.splitlines()[0] == "/srv/" + BREAKOUT
    assert "5.0 kB (5,000 bytes)" in tip and "layer: 1" in tip and "package: —" in tip
    assert page.value("document.scripts.length") == 3


def test_it_prints(tmp_path, page):
    import base64

    report = _write(tmp_path, "r.html", "compare", *PAIRS[0])
    page.load(report, width=WIDTH)
    assert page.value("[...document.querySelectorAll('details')].some(d => !d.open)")
    pdf = base64.b64decode(page.call("Page.printToPDF")["data"])
    assert pdf.startswith(b"%PDF-") and pdf.count(b"/Type /Page") > 3
    # printing opens every folded table; the controls are left out of the paper
    assert page.value("[...document.querySelectorAll('details')].every(d => d.open)")
    page.call("Emulation.setEmulatedMedia", media="print")
    try:
        assert page.value("getComputedStyle(document.querySelector('.toggles')).display") == "none"
    finally:
        page.call("Emulation.setEmulatedMedia", media="")


def test_a_gzipped_document_is_inflated_in_the_page(tmp_path, page, monkeypatch):
    monkeypatch.setattr(html, "INLINE_LIMIT", 1000)
    report = _write(tmp_path, "z.html", "compare", *PAIRS[0])
    text = report.read_text()
    assert 'data-encoding="gzip+base64"' in text
    doc = html.read_embedded(text)
    page.load(report, width=WIDTH)
    assert page.requests == [report.resolve().as_uri()] and page.errors == []
    row = next(r for r in doc["categories"] if r["name"] == "shell")
    page.value("document.querySelector('button.bar[data-cat=\"shell\"][data-image=\"0\"]').click()")
    page.until("!document.getElementById('filelist').hidden")
    listed = page.value("[...document.querySelectorAll('#filelist li')].map(li => li.textContent)")
    assert listed == row["per_image"][0]["paths"][:500] and listed


def test_the_pages_script_shows_strings_as_visible_does(tmp_path, page):
    """The page draws the strip list itself (``vis()`` in ``report.js``): each hostile name
    comes out as ``inspector.visible`` shows it, nothing raw (the JS mirrors the rule)."""
    from tests.hostile.strings import HOSTILE, unsafe_in

    names = [h for h in HOSTILE if h.in_path]
    a = _oci(tmp_path, "a", {f"usr/bin/{h.raw}": Entry("file", b"#!/bin/sh\n" + bytes(200), mode=0o755)
                             for h in names})
    b = _oci(tmp_path, "b", {"etc/hostname": b"x\n"})
    report = tmp_path / "v.html"
    assert main(["compare", a, b, "--format", "html", "-o", str(report), "--no-cache", "-q"]) == 0
    page.load(report, width=WIDTH)
    drawn = page.value("[...document.querySelectorAll('tr[data-path] code')].map((c) => c.textContent)")
    assert sorted(drawn) == sorted(f"/usr/bin/{h.shown}" for h in names)
    assert unsafe_in("".join(drawn)) == []
