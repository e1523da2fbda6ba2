"""What the loading screen (and the headless progress line) says a load moved: bytes
fetched by range of the image's compressed size when it is listed from a zstd:chunked
table of contents, bytes read for a full pull. A real loopback registry, images pushed by
skopeo (``--dest-compress-format zstd:chunked`` as in ``tests/registry/test_toc.py``)."""

from __future__ import annotations

import asyncio
import io
import os
import random
import subprocess
import sys
import threading

import pytest
from rich.console import Console

from inspector.analysis import analyze
from inspector.options import Options
from inspector.report.progress import StderrProgress
from inspector.report.sizes import human
from inspector.sources.registry import open_registry
from inspector.tui.app import InspectorApp
from inspector.tui.screens.inspect import InspectScreen
from inspector.tui.widgets.loading import LoadingPanel
from tests.builders import ImageSpec, make_layer, write_oci_layout
from tests.registry.servers import RegistryProcess
from tests.terminal import open_terminal, read_terminal
from tests.tools import require_tool
from tests.tui.helpers import settle, sync

pytestmark = pytest.mark.registry

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
#: incompressible bytes, so the blob is much larger than its table of contents
NOISE = random.Random(28).randbytes(400_000)
LAYERS = [make_layer({"etc/os-release": b"ID=test\n", "data/noise.bin": NOISE}),
          make_layer({"app/main": b"print('hi')\n", "app/more.bin": NOISE[::-1]})]


def _copy(source: str, dest: str, *flags: str) -> None:
    subprocess.run(["skopeo", "copy", "-q", "--dest-tls-verify=false", *flags, source, dest],
                   check=True, capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def pushed(tmp_path_factory):
    """``{"toc": ref, "gzip": ref}``: one image pushed zstd:chunked and gzip."""
    require_tool("docker-registry")
    require_tool("skopeo")
    work = tmp_path_factory.mktemp("load-progress")
    registry = RegistryProcess(work / "registry", work / "storage")
    try:
        write_oci_layout(work / "img", [ImageSpec(LAYERS, ref_name="v1")])
        _copy(f"oci:{work}/img:v1", f"oci:{work}/img-zc:v1",
              "--dest-compress-format", "zstd:chunked")
        _copy(f"oci:{work}/img:v1", f"docker://{registry.host}/load/gzip:v1")
        _copy(f"oci:{work}/img-zc:v1", f"docker://{registry.host}/load/zc:v1")
        yield {"toc": f"{registry.host}/load/zc:v1", "gzip": f"{registry.host}/load/gzip:v1"}
    finally:
        registry.stop()


def panel_text(panel: LoadingPanel) -> str:
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(panel.render_state())
    return console.export_text()


async def loading_screen_after_indexing(ref: str, options: Options, monkeypatch):
    """The loading screen's text once every layer is indexed (the load is held there, so
    the screen has not moved on yet) and the image the load opened."""
    from inspector.tui import loader

    indexed, release, seen = threading.Event(), threading.Event(), []

    def held(image, opts, progress=None, memo=None):
        seen.append(image)
        result = analyze(image, opts, progress=progress, memo=memo)
        indexed.set()
        release.wait(60)
        return result

    monkeypatch.setattr(loader, "analyze", held)
    app = InspectorApp([ref], options)
    async with app.run_test(size=(160, 40)) as pilot:
        assert await asyncio.to_thread(indexed.wait, 120)
        await pilot.pause()
        assert isinstance(app.screen, InspectScreen)
        text = panel_text(app.screen.query_one(LoadingPanel))
        release.set()
        await settle(pilot)
    return text, seen[0]


@sync
async def test_loading_screen_says_what_it_fetched_of_the_toc_image(pushed, tmp_path,
                                                                    monkeypatch):
    text, image = await loading_screen_after_indexing(
        pushed["toc"], Options(cache_dir=tmp_path), monkeypatch)
    fetched = sum(layer.toc.fetched for layer in image.layers)
    total = sum(layer.compressed_size for layer in image.layers)
    assert 0 < fetched < total / 4
    assert f"2/2 layers · fetched {human(fetched)} of {human(total)} (table of contents)" in text
    assert text.count("fetched") == 3 and text.count("(TOC)") == 2  # the title and each layer


@sync
async def test_loading_screen_says_what_it_read_of_a_full_pull(pushed, tmp_path, monkeypatch):
    text, image = await loading_screen_after_indexing(
        pushed["gzip"], Options(cache_dir=tmp_path), monkeypatch)
    total = sum(layer.compressed_size for layer in image.layers)
    assert all(layer.toc is None for layer in image.layers)
    assert f"2/2 layers · read {human(total)} of {human(total)}\n" in text
    assert "fetched" not in text and "TOC" not in text


@sync
async def test_loading_screen_says_the_layers_came_from_the_index_cache(pushed, tmp_path,
                                                                        monkeypatch):
    options = Options(cache_dir=tmp_path)
    analyze(open_registry(pushed["toc"], options, reference=pushed["toc"]), options)
    text, image = await loading_screen_after_indexing(pushed["toc"], options, monkeypatch)
    total = sum(layer.compressed_size for layer in image.layers)
    assert f"read 0 B of {human(total)} (2 of 2 layers cached)" in text


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_says_what_it_fetched(pushed, tmp_path):
    """The headless line (``StderrProgress``) on a terminal, in process."""
    options = Options(cache_dir=tmp_path)
    image = open_registry(pushed["toc"], options, reference=pushed["toc"])
    stream = _Tty()
    bar = StderrProgress(pushed["toc"], len(image.layers), stream,
                         sizes=[layer.compressed_size for layer in image.layers])
    analyze(image, options, progress=bar)
    last = stream.getvalue().split("\r")[-1]
    fetched = sum(layer.toc.fetched for layer in image.layers)
    total = sum(layer.compressed_size for layer in image.layers)
    assert f"layers 2/2  fetched {human(fetched)} of {human(total)} (table of contents)" in last


def test_cli_progress_line_on_a_terminal(pushed, tmp_path):
    """``inspector export`` with stderr on a real pseudo-terminal: the line it draws says
    "fetched … of <the image's size> (table of contents)" from its first draw on."""
    ref = pushed["toc"]
    image = open_registry(ref, Options(no_cache=True), reference=ref)
    total = human(sum(layer.compressed_size for layer in image.layers))
    master, slave = open_terminal()
    env = {**os.environ, "PYTHONPATH": ROOT}
    proc = subprocess.Popen([sys.executable, "-m", "inspector", "export", ref, "-o", os.devnull,
                             "--cache-dir", str(tmp_path)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
    out = read_terminal(master, 120)
    assert proc.wait(120) == 0
    draws = [d for d in out.decode().split("\r") if "layers" in d]
    assert draws and all(f" of {total}" in d for d in draws)
    assert "(table of contents)" in draws[-1] and "layers 2/2  fetched " in draws[-1]
