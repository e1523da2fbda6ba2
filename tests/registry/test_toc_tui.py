"""The TUI on images listed from their table of contents (zstd:chunked, eStargz): the
inspect screen's viewer and the compare screen's side-by-side viewer show what they show
for the same image pushed gzip — the viewer's bytes fetched as the file's frames by range
(``index.toc_files`` under ``content.read_member``), never the layer blob whole. Real
skopeo-written zstd:chunked images on the real CNCF registry, read through the counting
proxy; the app driven by Textual's pilot."""

from __future__ import annotations

import pytest

from inspector.options import Options
from inspector.tui.app import InspectorApp
from inspector.tui.binary import Blob
from inspector.tui.screens.compare import CompareScreen
from inspector.tui.screens.inspect import InspectScreen
from inspector.tui.screens.viewer import ContentScreen
from inspector.tui.widgets.file_view import FileView
from tests.registry.test_toc_commands import fetched_by_range_only
from tests.tui.helpers import settle, sync

pytestmark = pytest.mark.registry

SIZE = (160, 48)
#: (name, path): an ELF larger than the viewer's first MiB (read whole for its summary),
#: a text file, a library through the merged filesystem
VIEWED = [("a dynamic ELF", "/usr/bin/bash"), ("text", "/usr/lib/os-release"),
          ("a library", "/usr/lib/x86_64-linux-gnu/libc.so.6")]


@pytest.fixture
def refs(proxy, toc_images):
    def ref(key: str) -> str:
        got = toc_images[key]
        return got.replace(got.split("/")[0], proxy.host) if key.endswith(":zc") else got
    return ref


def blobs(screen: ContentScreen) -> list[tuple[bytes, bool, bytes | None] | str]:
    """What each column of the viewer holds (a file's bytes, or a line of text)."""
    return [(c.data, c.truncated, c.whole) if isinstance(c, Blob) else c
            for _, c in screen.contents]


async def view_file(app: InspectorApp, pilot, path: str) -> list:
    """Press ``v`` on ``path`` in the Files pane of the screen shown (compare: its first
    column); what the viewer's columns hold."""
    if isinstance(app.screen, CompareScreen):
        await pilot.press("3")  # the Files tab
        await settle(pilot)
        view = app.screen.query_one("#files-0", FileView)
    else:
        assert isinstance(app.screen, InspectScreen)
        view = app.screen.query_one("#files", FileView)
    view.focus()
    assert view.go_to(path)
    await pilot.pause()
    await pilot.press("v")
    await settle(pilot)
    assert isinstance(app.screen, ContentScreen)
    return blobs(app.screen)


async def viewed(refs_: list[str], path: str, cache) -> list:
    app = InspectorApp(refs_, Options(cache_dir=cache))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, CompareScreen if len(refs_) > 1 else InspectScreen)
        return await view_file(app, pilot, path)


@pytest.mark.parametrize("name,path", VIEWED, ids=[v[0] for v in VIEWED])
@sync
async def test_inspect_viewer_reads_a_toc_image_by_range(proxy, refs, tmp_path, name, path):
    toc = await viewed([refs("debian:zc")], path, tmp_path / "a")
    full = await viewed([refs("debian:gzip")], path, tmp_path / "b")
    assert toc == full and isinstance(toc[0], tuple) and toc[0][0]
    fetched_by_range_only(proxy, [refs("debian:zc")])


@sync
async def test_compare_viewer_reads_toc_images_by_range(proxy, refs, tmp_path):
    path = "/app/hello-cpp"  # in cpp only: the other column says it is absent
    toc = await viewed([refs("cpp:zc"), refs("debian:zc")], path, tmp_path / "a")
    full = await viewed([refs("cpp:gzip"), refs("debian:gzip")], path, tmp_path / "b")
    assert toc == full and isinstance(toc[0], tuple) and toc[1].startswith("absent")
    lib = "/usr/lib/x86_64-linux-gnu/libc.so.6"
    toc = await viewed([refs("cpp:zc"), refs("debian:gzip")], lib, tmp_path / "a")
    full = await viewed([refs("cpp:gzip"), refs("debian:gzip")], lib, tmp_path / "b")
    assert toc == full and all(isinstance(column, tuple) for column in toc)
    fetched_by_range_only(proxy, [refs("cpp:zc"), refs("debian:zc")])


#: (screen, images): the viewer of each screen, on TOC images whose frames then fail
BROKEN_VIEWS = [("inspect", ["debian:zc"]), ("compare", ["cpp:zc", "debian:zc"])]


@pytest.mark.parametrize("screen,keys", BROKEN_VIEWS, ids=[b[0] for b in BROKEN_VIEWS])
@sync
async def test_viewer_says_when_it_reads_the_whole_layer(proxy, refs, tmp_path, screen, keys):
    """The listing came from the TOC; then the file's frames fail their digests: the
    viewer still shows the file (the layer streamed whole) and a toast says so."""
    path = "/usr/lib/os-release"
    app = InspectorApp([refs(k) for k in keys], Options(cache_dir=tmp_path / "c"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for analysis in app.analyses.values():
            for layer in analysis.image.layers:
                proxy.faults.corrupt_ranges.add(layer.digest)
        assert isinstance(app.screen, CompareScreen if screen == "compare" else InspectScreen)
        shown = await view_file(app, pilot, path)
        said = [n.message for n in app._notifications
                if "reading the whole layer instead" in n.message]
    assert all(isinstance(c, tuple) and c[0].startswith(b"PRETTY_NAME") for c in shown), shown
    assert len(said) == len(keys), said
