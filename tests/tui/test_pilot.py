"""Pilot tests: navigation, search, filter, layer switching, content, compare, errors and
cancellation, on the bundled samples and fixture images. They wait on workers, not sleeps."""

from __future__ import annotations

import asyncio
import threading

from inspector.errors import Cancelled
from inspector.tui.app import InspectorApp
from inspector.tui.screens.compare import CompareScreen, CompareView
from inspector.tui.screens.help import HelpScreen
from inspector.tui.screens.inspect import InspectScreen, InspectView
from inspector.tui.screens.prompt import PromptScreen
from inspector.tui.screens.viewer import ContentScreen
from inspector.tui.widgets.file_view import FileView
from inspector.tui.widgets.loading import LoadingPanel
from inspector.tui.widgets.panes import Details
from tests.tui.helpers import settle, sync

SIZE = (120, 36)


def view(app) -> FileView:
    return app.screen.query_one("#files", FileView)


@sync
async def test_navigate_expand_and_details(options):
    app = InspectorApp(["sample:distroless-static"], options)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, InspectScreen)
        fv = view(app)
        assert fv.has_focus and fv.path == "/bin"
        top_level = len(fv.model.rows)
        await pilot.press("G")  # last row
        assert fv.path == fv.model.rows[-1]
        await pilot.press("g")
        while fv.path != "/etc":
            await pilot.press("down")
        await pilot.press("space")
        assert len(fv.model.rows) > top_level and "/etc/passwd" in fv.model.rows
        await pilot.press("down")
        details = app.screen.query_one(Details)
        assert fv.path.startswith("/etc/") and details.shown == fv.path
        await pilot.press("left", "left")  # to the parent, then collapse it
        assert fv.path == "/etc" and len(fv.model.rows) == top_level
        await pilot.press("s")
        assert fv.model.sort == "size" and fv.model.rows[0] == "/usr"


@sync
async def test_search_jumps_and_repeats(options):
    app = InspectorApp(["sample:debian-12-slim"], options)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        fv = view(app)
        await pilot.press("slash")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"bin/bash", "enter")
        first = fv.path
        assert first is not None and "bin/bash" in first
        assert fv.model.rows[fv.cursor] == first  # revealed: ancestors expanded
        await pilot.press("n")
        assert fv.path != first and "bin/bash" in fv.path
        await pilot.press("N")
        assert fv.path == first


@sync
async def test_filter_by_glob_and_clear(options):
    app = InspectorApp(["sample:debian-12-slim"], options)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        fv = view(app)
        await pilot.press("ctrl+f", *"*.conf", "enter")
        leaves = [p for p in fv.model.rows if not fv.model.tree.is_dir(p)]
        assert leaves and all(p.endswith(".conf") for p in leaves)
        await pilot.press("ctrl+f", "ctrl+u", "enter")  # empty clears
        assert not fv.model.filter.active and "/usr" in fv.model.rows


@sync
async def test_layer_switching_and_layer_only(options, layered):
    app = InspectorApp([layered], options)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        fv = view(app)
        inspect = app.screen.query_one(InspectView)
        assert inspect.layer_index == 2
        # the top layer removed /usr/share/doc: shown as a ghost, marked removed
        assert fv.model.tree.is_ghost("/usr/share/doc")
        await pilot.press("ctrl+l")
        await settle(pilot)
        fv.model.expand_all()
        assert set(fv.model.rows) == {"/app", "/app/config.txt", "/usr", "/usr/share",
                                      "/usr/share/doc"}
        layers = app.screen.query_one("#layers")
        layers.focus()
        assert layers.cursor_row == 3  # history rows: base, (empty ENV), add app, strip docs
        await pilot.press("up")
        await settle(pilot)
        assert inspect.layer_index == 1
        await pilot.press("up")  # the empty layer: dimmed, the tree stays as it was
        await settle(pilot)
        assert inspect.layer_index == 1
        await pilot.press("up")
        await settle(pilot)
        assert inspect.layer_index == 0 and "/app" not in view(app).model.tree.fs
        await pilot.press("down", "down")
        await settle(pilot)
        assert inspect.layer_index == 1
        tree = view(app).model.tree
        assert tree.marks["/etc/passwd"] == "modified" and tree.marks["/app/server"] == "added"
        assert "/usr/share/doc/pkg/copyright" in tree.fs
        await pilot.press("ctrl+a")
        await settle(pilot)
        assert "/bin" in view(app).model.rows


@sync
async def test_view_content_text_and_binary(options, layered):
    app = InspectorApp([layered], options)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        fv = view(app)
        assert fv.go_to("/etc/passwd")
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ContentScreen)
        assert "nobody:x:65534" in app.screen.text  # the version the top layers see
        await pilot.press("escape")
        assert fv.go_to("/bin/sh")
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ContentScreen)
        assert app.screen.text.startswith("00000000  7f 45 4c 46")


@sync
async def test_missing_image_shows_error_and_app_stays_up(options, tmp_path):
    ref = f"oci:{tmp_path / 'nowhere'}"
    app = InspectorApp([ref], options)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, InspectScreen)
        panel = app.screen.query_one(LoadingPanel)
        assert ref in panel.errors and "nowhere" in panel.errors[ref]
        assert any("nowhere" in n.message for n in app._notifications)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)


@sync
async def test_escape_cancels_loading(options, monkeypatch):
    started = threading.Event()

    def slow_analyze(image, opts, progress=None, memo=None):
        started.set()
        if not opts.cancel.wait(30):
            raise AssertionError("never cancelled")
        raise Cancelled()

    monkeypatch.setattr("inspector.tui.loader.analyze", slow_analyze)
    app = InspectorApp(["sample:distroless-static"], options)
    async with app.run_test(size=SIZE) as pilot:
        assert await asyncio.to_thread(started.wait, 30)
        await pilot.press("escape")
        await settle(pilot)
        panel = app.screen.query_one(LoadingPanel)
        assert "cancelled" in panel.errors["sample:distroless-static"]
        assert app.is_running and not app.screen.pending


@sync
async def test_compare_follows_cursor_and_adds_images(options):
    app = InspectorApp(["sample:debian-12-slim", "sample:distroless-static"], options)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, CompareScreen)
        compare = app.screen.query_one(CompareView)
        assert compare.result.labels == ["debian-12-slim", "distroless-static"]
        await pilot.press("3")  # Overview → Files tab
        await settle(pilot)
        left = app.screen.query_one("#files-0", FileView)
        right = app.screen.query_one("#files-1", FileView)
        left.focus()
        assert left.go_to("/usr/bin/bash")
        await pilot.pause()
        # distroless has no bash: the right column shows it as missing, cursor on it
        assert right.path == "/usr/bin/bash" and right.model.tree.is_ghost("/usr/bin/bash")
        assert left.model.tree.marks["/usr/bin/bash"] == "added"  # only in debian
        await pilot.press("a", *"sample:hello-distroless", "enter")
        await settle(pilot)
        assert app.screen.references[-1] == "sample:hello-distroless"
        assert len(app.screen.query_one(CompareView).result.labels) == 3
        await pilot.press("x", "3", "enter")
        await settle(pilot)
        assert len(app.screen.query_one(CompareView).result.labels) == 2


@sync
async def test_compare_with_a_missing_image_keeps_the_others(options, tmp_path):
    app = InspectorApp(["sample:distroless-static", f"oci:{tmp_path / 'gone'}"], options)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.references == ["sample:distroless-static"]
        assert app.screen.query(CompareView)
