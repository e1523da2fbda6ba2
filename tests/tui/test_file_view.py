"""The file view's own scrolling: paging keeps the cursor on screen, the one-column
scrollbar tracks the top row, the wheel and clicks move the view (no Textual scrolling,
so none of this goes through a layout pass)."""

from __future__ import annotations

import pytest
from textual import events

from inspector.tui.widgets.file_view import WHEEL_ROWS, FileView
from tests.tui.helpers import TreeApp, sync, wide_fs

WIDTH, HEIGHT = 80, 24
BIG_DIR = "/usr/lib/big"


def thumb_lines(fv: FileView) -> list[int]:
    """Lines whose last cell is drawn in the scrollbar thumb's style."""
    thumb = fv._style("thumb")
    return [y for y in range(fv.page_height)
            if list(fv.render_line(y))[-1].style == thumb]


def scroll(fv: FileView, kind, y: int = 0):
    fv.post_message(kind(fv, 1, y, 0, 1, 0, False, False, False))


async def expanded(pilot) -> FileView:
    fv = pilot.app.query_one(FileView)
    await pilot.pause()
    assert fv.go_to(BIG_DIR)
    await pilot.press("space")
    await pilot.pause()
    return fv


@sync
async def test_page_down_moves_the_view_and_keeps_the_cursor_on_screen():
    app = TreeApp(wide_fs(3, 5, big=BIG_DIR, big_count=500))
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        fv = await expanded(pilot)
        n, height = len(fv.model.rows), fv.page_height
        assert height == HEIGHT
        for _ in range(n // (height - 1) + 2):
            before = fv.top
            await pilot.press("pagedown")
            assert fv.top <= fv.cursor < fv.top + height
            assert fv.top == min(before + height - 1, n - height)
        assert fv.top == n - height and fv.cursor == n - 1
        await pilot.press("pageup")
        assert fv.top == n - height - (height - 1)
        await pilot.press("g")
        assert fv.top == 0 and fv.cursor == 0
        await pilot.press("G")
        assert fv.top == n - height and fv.path == fv.model.rows[-1]


@sync
async def test_scrollbar_thumb_follows_the_top_row():
    app = TreeApp(wide_fs(3, 5, big=BIG_DIR, big_count=500))
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        fv = await expanded(pilot)
        n = len(fv.model.rows)
        size = max(1, HEIGHT * HEIGHT // n)
        await pilot.press("g")
        assert thumb_lines(fv) == list(range(size))
        await pilot.press("G")
        assert thumb_lines(fv) == list(range(HEIGHT - size, HEIGHT))
        # the rows give up the last column to the scrollbar: every line is still WIDTH wide
        assert {fv.render_line(y).cell_length for y in range(HEIGHT)} == {WIDTH}


@sync
async def test_no_scrollbar_when_every_row_fits():
    app = TreeApp(wide_fs(3, 5))
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        fv = app.query_one(FileView)
        await pilot.pause()
        assert len(fv.model.rows) < HEIGHT and thumb_lines(fv) == []
        assert fv.render_line(0).cell_length == WIDTH


@sync
async def test_wheel_scrolls_the_view_not_the_cursor():
    app = TreeApp(wide_fs(3, 5, big=BIG_DIR, big_count=500))
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        fv = await expanded(pilot)
        await pilot.press("g")
        scroll(fv, events.MouseScrollDown)
        scroll(fv, events.MouseScrollDown)
        await pilot.pause()
        assert fv.top == 2 * WHEEL_ROWS and fv.cursor == 0
        for _ in range(3):
            scroll(fv, events.MouseScrollUp)
        await pilot.pause()
        assert fv.top == 0  # clamped at the first row
        await pilot.press("G")
        scroll(fv, events.MouseScrollDown)
        await pilot.pause()
        assert fv.top == len(fv.model.rows) - HEIGHT  # clamped at the last page
        # a key brings the cursor back on screen after wheeling it away
        await pilot.press("g")
        for _ in range(5):
            scroll(fv, events.MouseScrollDown)
        await pilot.pause()
        await pilot.press("down")
        assert fv.cursor == 1 and fv.top == 1


@sync
async def test_clicks_move_the_cursor_and_the_scrollbar_jumps():
    app = TreeApp(wide_fs(3, 5, big=BIG_DIR, big_count=500))
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        fv = await expanded(pilot)
        await pilot.press("g")
        await pilot.click(FileView, offset=(10, 4))
        assert fv.cursor == 4 and fv.top == 0
        n = len(fv.model.rows)
        await pilot.click(FileView, offset=(WIDTH - 1, HEIGHT - 1))  # bottom of the bar
        assert fv.top == n - HEIGHT and fv.cursor == 4  # the view jumped, not the cursor
        await pilot.click(FileView, offset=(WIDTH - 1, 0))
        assert fv.top == 0
        assert fv.path == "/usr/lib" and fv.model.is_expanded("/usr/lib")
        await pilot.click(FileView, offset=(10, 4))  # on the cursor: toggle
        assert not fv.model.is_expanded("/usr/lib")
        assert fv.model.rows == ["/d0000", "/d0001", "/d0002", "/usr", "/usr/lib"]


@sync
async def test_resize_changes_the_page():
    app = TreeApp(wide_fs(3, 5, big=BIG_DIR, big_count=500))
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        fv = await expanded(pilot)
        await pilot.resize_terminal(WIDTH, 12)
        await pilot.pause()
        assert fv.page_height == 12
        await pilot.press("g", "pagedown")
        assert fv.top == 11 and fv.cursor == 11
        assert {fv.render_line(y).cell_length for y in range(12)} == {WIDTH}


NAME_MATCHES = [
    # (name, term, expected highlighted text or None)
    ("libssl.so.3", "ssl", "ssl"),
    ("libSSL.so.3", "ssl", "SSL"),
    ("bash", "*sh", "bash"),
    ("bash", "z*", None),
    ("bash", "usr", None),
    ("bash", "", None),
    ("bash", "/usr/*", None),  # a glob with '/' matches paths, not a name to highlight
]


@pytest.mark.parametrize("name,term,highlighted", NAME_MATCHES,
                         ids=[f"{n}~{t or 'empty'}" for n, t, _ in NAME_MATCHES])
def test_search_matches_are_highlighted_in_the_name(name, term, highlighted):
    from rich.style import Style

    from inspector.tui.widgets.file_rows import name_segments

    plain, match = Style(color="white"), Style(bgcolor="yellow")
    segments = name_segments(name, term, plain, match)
    assert "".join(s.text for s in segments) == name
    marked = "".join(s.text for s in segments if s.style and s.style.bgcolor is not None)
    assert marked == (highlighted or "")


@sync
async def test_columns_shown_by_enter_paint_at_their_width(options, monkeypatch):
    """Enter on the compare Overview shows the Files tab, whose columns were sized while
    hidden: every line they paint is as wide as the column is then (lines at the old size
    were wider than the terminal in a browser, whose wrap scrolled the title off: C8)."""
    from inspector.tui.app import InspectorApp
    from tests.tui.helpers import settle

    painted: list[tuple[str, int, int]] = []
    render_line = FileView.render_line

    def recorded(self, y):
        strip = render_line(self, y)
        painted.append((str(self.id), strip.cell_length, self.size.width))
        return strip

    monkeypatch.setattr(FileView, "render_line", recorded)
    refs = ["sample:debian-12-slim", "sample:distroless-static", "sample:distroless-base"]
    app = InspectorApp(refs, options)
    async with app.run_test(size=(155, 39)) as pilot:
        await settle(pilot)
        painted.clear()
        await pilot.press("enter")
        await settle(pilot)
    assert {view for view, _, _ in painted} == {"files-0", "files-1", "files-2"}
    assert [p for p in painted if p[1] != p[2]] == []
