"""Pilot tests for "from a claim to its evidence" and "a cursor you can see" (issue 12):
category and package drill-down, the filter's set terms, `v` in compare, rows that line up
across the compare columns, the cursor bar's rendered style, the cursor staying in view,
and the layer details. On the bundled samples; they wait on workers, never on sleeps."""

from __future__ import annotations

import pytest
from rich.style import Style
from textual.widgets import DataTable, TabbedContent

from inspector.tui.app import InspectorApp
from inspector.tui.screens.compare import CompareView
from inspector.tui.screens.inspect import InspectView
from inspector.tui.screens.viewer import ContentScreen
from inspector.tui.widgets.file_rows import ABSENT, parse_filter
from inspector.tui.widgets.file_view import FileView
from inspector.tui.widgets.panes import Details, LayersTable
from tests.tui.helpers import TreeApp, settle, sync, wide_fs

DEMO_SIZE = (120, 40)


def columns(app) -> list[FileView]:
    return list(app.screen.query(FileView))


async def demo_files(pilot, size_ok=True) -> tuple[FileView, FileView]:
    """The demo's Files tab (key 3), the left column focused."""
    await settle(pilot)
    await pilot.press("3")
    await settle(pilot)
    left, right = columns(pilot.app)
    assert pilot.app.screen.query_one(TabbedContent).active == "tab-files"
    assert left.has_focus  # the tab's first pane takes the keys
    return left, right


# ---- the filter language: set terms combine with the existing ones ----------------------
SETS = {("category", "shell"): frozenset({"/bin/bash", "/bin/sh", "/etc/bash.bashrc"}),
        ("package", "bash"): frozenset({"/bin/bash", "/etc/bash.bashrc", "/usr/share/doc/bash"})}


def fake_resolve(kind: str, name: str) -> frozenset[str]:
    try:
        return SETS[kind, name]
    except KeyError:
        raise ValueError(f"no {kind} {name!r}") from None


FILTERS = [
    ("category alone", "category:shell", "", None, SETS["category", "shell"]),
    ("package alone", "package:bash", "", None, SETS["package", "bash"]),
    ("two sets intersect", "category:shell package:bash", "", None,
     frozenset({"/bin/bash", "/etc/bash.bashrc"})),
    ("set and glob", "category:shell /bin/*", "/bin/*", None, SETS["category", "shell"]),
    ("set and marks", "category:shell :added", "", frozenset({"added"}),
     SETS["category", "shell"]),
    ("no set term", "*.so* :removed", "*.so*", frozenset({"removed"}), None),
    ("a colon in a glob is not a term", "dir:x", "dir:x", None, None),
]


@pytest.mark.parametrize(("name", "text", "pattern", "marks", "only"), FILTERS,
                         ids=[f[0] for f in FILTERS])
def test_filter_terms(name, text, pattern, marks, only):
    flt = parse_filter(text, fake_resolve)
    assert (flt.pattern, flt.marks, flt.only) == (pattern, marks, only)


def test_filter_unknown_set_name_is_an_error():
    with pytest.raises(ValueError, match="no category 'nope'"):
        parse_filter("category:nope", fake_resolve)


# ---- a cursor you can see ---------------------------------------------------------------
@sync
async def test_cursor_row_is_a_full_width_bar_in_every_theme():
    app = TreeApp(wide_fs(3, 5))
    async with app.run_test(size=(60, 12)) as pilot:
        fv = app.query_one(FileView)
        await pilot.press("space", "down", "down")
        themes = sorted(app.available_themes)
        assert len(themes) > 5
        for theme in themes:
            app.theme = theme
            await pilot.pause()
            cursor = fv._style("cursor")
            base = fv._style("base")
            assert cursor.bgcolor is not None and cursor.bgcolor != base.bgcolor, theme
            # visible: the bar's colour is far from the background's
            a, b = cursor.bgcolor.get_truecolor(), base.bgcolor.get_truecolor()
            assert sum(abs(x - y) for x, y in zip(a, b, strict=True)) >= 60, theme
            y = fv.cursor - fv.top
            assert fv._scrollbar() is None  # every row fits: the bar is the whole line
            bar = list(fv.render_line(y))
            assert sum(seg.cell_length for seg in bar) == fv.size.width
            assert all((seg.style or Style()).bgcolor == cursor.bgcolor
                       for seg in bar if seg.text), theme
            other = list(fv.render_line(y + 1))
            assert not any((seg.style or Style()).bgcolor == cursor.bgcolor for seg in other)


@sync
async def test_followed_cursor_is_a_dimmer_bar_in_the_other_columns(options):
    app = InspectorApp([], options, demo=True)
    async with app.run_test(size=DEMO_SIZE) as pilot:
        left, right = await demo_files(pilot)
        assert left.go_to("/etc/passwd")
        await pilot.pause()
        # the rows without the scrollbar's cell
        focused = left.render_line(left.cursor - left.top).crop(0, left.size.width - 1)
        followed = right.render_line(right.cursor - right.top).crop(0, right.size.width - 1)
        lead_bg = {(s.style or Style()).bgcolor for s in focused if s.text}
        follow_bg = {(s.style or Style()).bgcolor for s in followed if s.text}
        assert right.path == "/etc/passwd" and len(follow_bg) == 1
        assert follow_bg != lead_bg and None not in follow_bg
        assert follow_bg != {right._style("base").bgcolor}


# ---- compare: one row per path across the images ----------------------------------------
@sync
async def test_compare_rows_line_up_over_the_union_of_paths(options):
    app = InspectorApp([], options, demo=True)
    async with app.run_test(size=DEMO_SIZE) as pilot:
        left, right = await demo_files(pilot)
        await pilot.press("e")  # expand all
        await pilot.pause()
        assert left.model.rows == right.model.rows and len(left.model.rows) > 3000
        # a file only distroless has sits on the same row as a dim placeholder on the left
        assert "/etc/ethertypes" in left.model.rows
        assert left.model.tree.is_ghost("/etc/ethertypes")
        assert left.model.tree.marks["/etc/ethertypes"] == ABSENT
        assert right.model.tree.is_ghost("/usr/bin/bash")
        await pilot.press("ctrl+f", *":missing", "enter")  # debian's :missing: none
        await pilot.press("ctrl+f", "ctrl+u", *"/usr/bin/*", "enter")
        await pilot.pause()
        assert left.model.rows == right.model.rows and "/usr/bin/bash" in right.model.rows
        await pilot.press("tab")  # the right column leads now
        assert right.has_focus
        await pilot.press("c")
        await pilot.pause()
        assert left.model.rows == right.model.rows and left.top == right.top


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@sync
async def test_cursor_stays_in_view_after_n_and_j(options, size):
    app = InspectorApp([], options, demo=True)
    async with app.run_test(size=size) as pilot:
        left, right = await demo_files(pilot)

        def in_view():
            for fv in (left, right):
                assert fv.top <= fv.cursor < fv.top + fv.page_height
                # and the view itself is on screen, above the footer
                assert fv.region.bottom <= fv.parent.region.bottom
                assert fv.region.bottom < app.screen.size.height

        await pilot.press("e", *["j"] * 40)
        await pilot.pause()
        assert left.cursor == 40
        in_view()
        await pilot.press("slash", *"bash", "enter", "n", "n")
        await pilot.pause()
        assert "bash" in left.path
        in_view()


# ---- v in compare -----------------------------------------------------------------------
@sync
async def test_v_shows_the_path_in_every_image(options):
    app = InspectorApp([], options, demo=True)
    async with app.run_test(size=DEMO_SIZE) as pilot:
        left, _ = await demo_files(pilot)
        assert left.go_to("/etc/passwd")
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ContentScreen)
        (l1, debian), (l2, distroless) = app.screen.columns
        assert (l1, l2) == ("debian-12-slim", "distroless-static")
        assert debian.startswith("root:x:0:0") and "nonroot:x:65532" in distroless
        await pilot.press("escape")
        assert left.go_to("/usr/bin/bash")
        await pilot.press("v")
        await settle(pilot)
        (_, bash), (_, missing) = app.screen.columns
        assert bash.startswith("00000000  7f 45 4c 46") and missing.startswith("absent")
        await pilot.press("escape")


@sync
async def test_v_on_a_symlink_offers_to_follow_it(options):
    app = InspectorApp(["sample:debian-12-slim", "sample:distroless-base"], options)
    async with app.run_test(size=DEMO_SIZE) as pilot:
        left, _ = await demo_files(pilot)
        assert left.go_to("/etc/os-release")
        await pilot.press("v")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ContentScreen) and screen.follow == "/usr/lib/os-release"
        assert screen.columns[0][1].startswith("symbolic link → ../usr/lib/os-release")
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, ContentScreen) and app.screen is not screen
        assert 'ID=debian' in app.screen.columns[0][1]
        assert left.path == "/usr/lib/os-release"


@sync
async def test_inspect_v_on_a_symlink_follows_it(options):
    app = InspectorApp(["sample:debian-12-slim"], options)
    async with app.run_test(size=DEMO_SIZE) as pilot:
        await settle(pilot)
        fv = app.screen.query_one(FileView)
        assert fv.go_to("/etc/os-release")
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ContentScreen) and app.screen.follow == "/usr/lib/os-release"
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, ContentScreen) and "ID=debian" in app.screen.text
        assert fv.path == "/usr/lib/os-release"


# ---- from a category or package row to its files ----------------------------------------
@sync
async def test_demo_category_row_opens_its_files_in_every_column(options):
    app = InspectorApp([], options, demo=True)
    async with app.run_test(size=DEMO_SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#overview", DataTable)
        assert table.has_focus  # focused at start: arrows and Enter work at once
        while table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value != "cat:shell":
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        left, right = columns(app)
        assert app.screen.query_one(TabbedContent).active == "tab-files" and left.has_focus
        assert left.filter_text == "category:shell"
        status = str(app.screen.query_one("#compare-status").render())
        assert "filter: category:shell" in status and "in debian-12-slim's column" in status
        categories = app.screen.query_one(CompareView).analyses[0].classification.categories
        leaves = [p for p in left.model.rows if not left.model.tree.is_dir(p)]
        assert "/usr/bin/bash" in leaves and len(leaves) >= 50
        assert all(categories.get(p) == "shell" for p in leaves)
        assert right.model.rows == left.model.rows
        assert all(right.model.tree.is_ghost(p) for p in leaves)  # distroless: no shell


@sync
async def test_inspect_category_and_package_rows_open_their_files(options):
    app = InspectorApp(["sample:debian-12-slim"], options)
    async with app.run_test(size=DEMO_SIZE) as pilot:
        await settle(pilot)
        inspect = app.screen.query_one(InspectView)
        await pilot.press("3")  # Categories
        await settle(pilot)
        table = app.screen.query_one("#categories-table", DataTable)
        assert table.has_focus
        table.move_cursor(row=table.get_row_index("package_manager"))
        await pilot.press("enter")
        await settle(pilot)
        fv = app.screen.query_one(FileView)
        assert app.screen.query_one(TabbedContent).active == "tab-files" and fv.has_focus
        cats = inspect.analysis.classification.categories
        leaves = [p for p in fv.model.rows if not fv.model.tree.is_dir(p)]
        assert "/usr/bin/apt" in leaves and all(cats[p] == "package_manager" for p in leaves)
        assert "filter: category:package_manager" in str(
            app.screen.query_one("#tree-status").render())
        await pilot.press("2")  # Packages: / then "bash" filters, Enter back to the rows
        await settle(pilot)
        packages = app.screen.query_one("#packages-table", DataTable)
        assert packages.has_focus
        await pilot.press("slash", *"bash", "enter")
        assert packages.has_focus and packages.row_count >= 1
        await pilot.press("enter")
        await settle(pilot)
        owners = inspect.analysis.catalog
        leaves = [p for p in fv.model.rows if not fv.model.tree.is_dir(p)]
        assert fv.filter_text == "package:bash" and "/usr/bin/bash" in leaves
        assert all(owners.owner_name(p) == "bash" for p in leaves)


# ---- layers: 1..N, details, commands cut with an ellipsis -------------------------------
@sync
async def test_layer_details_and_numbering(options):
    app = InspectorApp(["sample:distroless-static"], options)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        inspect = app.screen.query_one(InspectView)
        n = len(inspect.analysis.layers)
        await pilot.press("tab")  # from the tree to the layers pane in one press
        table = app.screen.query_one(LayersTable)
        assert table.has_focus
        numbers = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert numbers[-1] == str(n) and "0" not in numbers
        status = str(app.screen.query_one("#tree-status").render())
        assert f"layer {n}/{n}" in status
        text = app.screen.query_one(Details).render().plain
        blob = inspect.analysis.image.layers[n - 1]
        assert f"{n} of {n}" in text
        assert blob.digest[:20] in text.replace("\n", "").replace(" ", "")
        assert blob.diff_id[:20] in text.replace("\n", "").replace(" ", "")
        assert "added" in text and "removed" in text
        await pilot.pause()
        long = [c for c in table.commands.values() if len(c) > table.command_width()]
        assert long, "distroless commands are long"
        cells = [str(table.get_row_at(i)[-1]) for i in range(table.row_count)]
        assert all(len(c) <= table.command_width() for c in cells)
        assert any(c.endswith("…") for c in cells)


@sync
async def test_compare_package_row_opens_its_files(options):
    app = InspectorApp([], options, demo=True)
    async with app.run_test(size=DEMO_SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one("#packages-diff", DataTable)
        assert table.has_focus
        name = str(table.get_row_at(table.cursor_row)[0])
        await pilot.press("enter")
        await settle(pilot)
        left, right = columns(app)
        assert left.has_focus and left.filter_text == f"package:{name}"
        catalog = app.screen.query_one(CompareView).analyses[0].catalog
        leaves = [p for p in left.model.rows if not left.model.tree.is_dir(p)]
        assert leaves and all(catalog.owner_name(p) == name for p in leaves)
        assert right.model.rows == left.model.rows


@sync
async def test_one_click_on_a_category_row_opens_its_files(options):
    app = InspectorApp([], options, demo=True)
    async with app.run_test(size=DEMO_SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#overview", DataTable)
        row = table.get_row_index("cat:locale")
        assert table.cursor_row != row
        await pilot.click(offset=(5, table.region.y + 1 + row))  # under the header
        await settle(pilot)
        left, _ = columns(app)
        assert app.screen.query_one(TabbedContent).active == "tab-files"
        assert left.filter_text == "category:locale"
