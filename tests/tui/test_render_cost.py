"""Rendering cost does not grow with image size: the file view renders one screenful of
lines, whether the image has 150 entries or 150,000 (structural, no clocks)."""

from __future__ import annotations

from inspector.index.tree import DirTree, TreeRows
from inspector.tui.widgets.file_view import FileView
from tests.tui.helpers import TreeApp, sync, wide_fs

HEIGHT = 24
BIG_DIR = "/usr/lib/big"


async def measure(fs) -> dict[str, int]:
    app = TreeApp(fs)
    out = {}
    async with app.run_test(size=(80, HEIGHT)) as pilot:
        await pilot.pause()
        fv = app.query_one(FileView)
        out["first"] = fv.lines_rendered
        assert fv.go_to(BIG_DIR) and fv.path == BIG_DIR
        await pilot.pause()
        before = fv.lines_rendered
        await pilot.press("space")
        await pilot.pause()
        out["expand"] = fv.lines_rendered - before
        before = fv.lines_rendered
        for _ in range(5):
            await pilot.press("pagedown")
        await pilot.pause()
        out["page"] = fv.lines_rendered - before
        out["rows"] = len(fv.model.rows)
    return out


@sync
async def test_render_cost_is_one_screenful_regardless_of_size():
    small = await measure(wide_fs(10, 15, big=BIG_DIR, big_count=1500))
    big = await measure(wide_fs(100, 1485, big=BIG_DIR, big_count=1500))
    assert big["rows"] > 1500 and big["rows"] == small["rows"] + 90  # 90 more top-level dirs
    for step in ("first", "expand", "page"):
        assert big[step] == small[step], step
    # and a screenful is a screenful: each step repaints HEIGHT lines once (the first
    # paint twice: focusing restyles the cursor), not 150k and not the same lines again
    assert big["first"] <= 2 * HEIGHT
    assert big["expand"] <= HEIGHT
    assert big["page"] <= 5 * HEIGHT


def test_expand_is_a_splice_not_a_rebuild():
    fs = wide_fs(100, 1485, big=BIG_DIR, big_count=1500)
    assert len(fs) > 150_000
    rows = TreeRows(DirTree(fs))
    n = len(rows.rows)
    row = rows.reveal(BIG_DIR)
    added = rows.expand(row)
    assert added == 1500 and len(rows.rows) == n + 2 + 1500  # /usr/lib, big, its children
    assert rows.collapse(row) == 1500
