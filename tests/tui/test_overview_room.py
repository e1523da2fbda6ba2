"""The compare Overview as a teacher uses it (issue 24 items 5, 6, 10), at 80x24 and
160x48: the intro box for every comparison (``i`` toggles it), "leaves out" → Enter lists
what an image lacks, and the security facts side by side, each drillable with Enter."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, TabbedContent

from inspector.compare.security import security_sets
from inspector.tui.app import InspectorApp
from inspector.tui.screens.compare import CompareView
from inspector.tui.screens.viewer import ContentScreen
from tests.tui.helpers import settle, sync

SIZES = [(80, 24), (160, 48)]
PAIR = ["sample:debian-12-slim", "sample:distroless-static"]


def size_id(size):
    return f"{size[0]}x{size[1]}"


async def enter_row(pilot, key: str) -> None:
    table = pilot.app.screen.query_one("#overview", DataTable)
    table.focus()
    table.move_cursor(row=table.get_row_index(key))
    await pilot.pause()
    await pilot.press("enter")
    await settle(pilot)


def cell(app, key: str, column: int) -> str:
    table = app.screen.query_one("#overview", DataTable)
    return str(table.get_row(key)[column + 1])


def status(app) -> str:
    return str(app.screen.query_one("#compare-status").render())


def leaves(view) -> list[str]:
    return [p for p in view.model.rows if not view.model.tree.is_dir(p)]


# ---- 5: the intro box -------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES, ids=size_id)
@sync
async def test_intro_for_every_comparison_and_i_toggles_it(options, size):
    app = InspectorApp(PAIR, options)  # named images, not the bare demo
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        intro = app.screen.query_one("#intro")
        assert intro.display
        assert "What does distroless-static leave out of debian-12-slim?" in str(intro.render())
        await pilot.press("i")
        assert not intro.display
        await pilot.press("a", *"distroless-base", "enter")  # a rebuild keeps it hidden
        await settle(pilot)
        intro = app.screen.query_one("#intro")
        assert not intro.display
        await pilot.press("i")
        assert intro.display
        assert ("What do distroless-static and distroless-base each leave out of "
                "debian-12-slim?") in str(intro.render())


@sync
async def test_intro_hidden_when_the_terminal_is_short(options):
    app = InspectorApp(PAIR, options)
    async with app.run_test(size=(80, 16)) as pilot:
        await settle(pilot)
        assert not app.screen.query_one("#intro").display
        await pilot.press("i")
        assert app.screen.query_one("#intro").display


# ---- 6: what is in A and not in B -----------------------------------------------------
@pytest.mark.parametrize("size", SIZES, ids=size_id)
@sync
async def test_leaves_out_row_lists_what_the_image_lacks(options, size):
    app = InspectorApp(PAIR, options)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        view = app.screen.query_one(CompareView)
        pair = view.result.pairs[0]
        assert f"{pair.left_out_files:,} files" in cell(app, "out:1", 1)
        await enter_row(pilot, "out:1")
        left, right = app.screen.query_one("#files-0"), app.screen.query_one("#files-1")
        assert app.screen.query_one(TabbedContent).active == "tab-files" and right.has_focus
        base, other = (a.fs.entries for a in view.analyses)
        files = leaves(right)
        assert files and all(p in base and p not in other for p in files)
        assert len([p for p in files if not left.model.tree.is_dir(p)]) == pair.left_out_files
        text = status(app)
        assert "in distroless-static's column" in text and "filter: :missing" in text
        legend = str(app.screen.query_one("#legend").render())
        assert "in debian-12-slim, not in distroless-static" in legend


@sync
async def test_missing_in_the_first_column_says_where_to_look(options):
    app = InspectorApp(PAIR, options)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.query_one(CompareView).show_files(":missing")
        await settle(pilot)
        text = status(app)
        assert "no rows" in text and "Tab to distroless-static's column" in text


# ---- 10: the security facts ------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES, ids=size_id)
@sync
async def test_security_facts_side_by_side_and_drillable(options, size):
    app = InspectorApp(PAIR, options)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        view = app.screen.query_one(CompareView)
        sets = [security_sets(a) for a in view.analyses]
        for i, s in enumerate(sets):
            for key in ("setuid", "world_writable", "executables"):
                want = f"{len(s[key]):,}" if s[key] else "none"
                assert cell(app, f"sec:{key}", i).startswith(want), (key, i)
        assert cell(app, "sec:runs_as", 0) == "root (User unset)"
        assert cell(app, "sec:login_users", 0) == "1: root:/bin/bash"
        assert cell(app, "sec:interpreters", 0).startswith("2: perl")
        assert cell(app, "sec:shared_layers", 1) == "0 of 12"
        await enter_row(pilot, "sec:setuid")
        left = app.screen.query_one("#files-0")
        assert left.filter_text == "finding:setuid"
        assert sorted(leaves(left)) == sets[0]["setuid"]
        await pilot.press("1")
        await settle(pilot)
        await enter_row(pilot, "sec:runs_as")
        assert isinstance(app.screen, ContentScreen)
        assert "root (User unset)" in app.screen.columns[0][1]
        await pilot.press("escape")
        await enter_row(pilot, "sec:shared_layers")
        assert isinstance(app.screen, ContentScreen)
        assert len(app.screen.columns) == 2


@sync
async def test_three_images_share_layers(options):
    app = InspectorApp([*PAIR, "sample:distroless-base"], options)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        result = app.screen.query_one(CompareView).result
        base_layers = result.images[2].layers
        shared = sum(1 for la in base_layers if la.shared_with)
        assert shared and cell(app, "sec:shared_layers", 2) == f"{shared} of {len(base_layers)}"
