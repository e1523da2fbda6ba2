"""A file tree a teacher can trust (issue 24 items 1–3, issue 23 item 6 for tree rows).

- B1: the exact keys of the teacher's crash (lead distroless-static, collapse ``etc/``, lead
  back, collapse and re-expand) leave the app running;
- W1: a folder's size is the total of what the filter or the layer view shows (dive's
  rule), in compare (``category:``, ``package:``) and inspect (Ctrl+L);
- W2: the row counter follows every action at once (a Space too);
- W3: one unit style: every size in the tree is ``report.sizes.human``'s;
- hostile names: names and link targets from the image reach the tree only through
  ``visible`` (in the rendered lines and in a real terminal's output, under tmux).

Each at 80x24 and 160x48; expected figures are recounted from the analysis, not copied.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time

import pytest

from inspector.index.entries import FILE
from inspector.index.tree import ADDED, MODIFIED
from inspector.report.sizes import human
from inspector.tui.app import InspectorApp
from inspector.tui.widgets.file_view import FileView
from inspector.tui.widgets.panes import LayersTable, Line
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout
from tests.hostile.strings import HOSTILE, assert_inert
from tests.tools import require_tool
from tests.tui.helpers import settle, sync

SIZES = [(80, 24), (160, 48)]
SIZE_IDS = ["80x24", "160x48"]
#: a size as the reports write it (``512 B``, ``1.4 MB``), and the old tree's form (``126K``)
HUMAN = re.compile(r"^\d+ B$|^\d+\.\d [kMGT]B$")
SHORT = re.compile(r"\b\d+(\.\d)?[KMGT]\b")
#: the teacher's keys (review B1), from the demo's Overview
B1_KEYS = ["3", "tab", "down", "down", "down", "space", "tab", "space", "space"]


def lines(view: FileView) -> list[str]:
    """The view's rendered lines, as text."""
    return [view.render_line(y).text for y in range(view.page_height)]


def size_cell(view: FileView, row: int) -> str:
    """The size column of row ``row`` as rendered (the cursor moves there)."""
    view.move_cursor(row)
    line = view.render_line(row - view.top).text
    found = re.search(r"(\d+(?:\.\d)? (?:B|[kMGT]B))\s", line)
    assert found, line
    return found.group(1)


def shown_bytes(analysis, paths, under: str) -> int:
    """Regular-file bytes of ``paths`` below ``under`` in ``analysis`` (a recount)."""
    fs = analysis.fs
    return sum(fs.size(p) for p in paths
               if p.startswith(under + "/") and p in fs.entries and fs.kind(p) == FILE)


# ---- B1 ------------------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
@sync
async def test_teachers_tab_space_sequence_keeps_the_app(options, size):
    app = InspectorApp([], options, demo=True)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press(*B1_KEYS)
        await settle(pilot)
        assert app.is_running
        left, right = (app.screen.query_one(f"#files-{i}", FileView) for i in (0, 1))
        assert left.has_focus and left.path == "/etc" and "/etc" in left.model.expanded
        assert right.model.rows == left.model.rows and right.path == "/etc"
        await pilot.press("tab", "space")  # and once more from the other side
        assert "/etc" not in left.model.expanded and right.model.rows == left.model.rows


# ---- W1 ------------------------------------------------------------------------------
def _owned(analysis, package: str) -> set[str]:
    rows = {i for i, p in enumerate(analysis.catalog.packages) if p.name == package}
    return {p for p, i in analysis.catalog.owners.items() if i in rows}


def _in_category(analysis, name: str) -> set[str]:
    return {p for p, c in analysis.classification.categories.items() if c == name}


FILTERS = [
    # (name, filter typed, the paths it shows in one analysis)
    ("category shell", "category:shell", lambda a: _in_category(a, "shell")),
    ("package bash", "package:bash", lambda a: _owned(a, "bash")),
]


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
@pytest.mark.parametrize("term,paths_of", [f[1:] for f in FILTERS], ids=[f[0] for f in FILTERS])
@sync
async def test_compare_folder_sizes_are_what_the_filter_shows(options, term, paths_of, size):
    app = InspectorApp([], options, demo=True)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("3", "ctrl+f", "ctrl+u", *term, "enter")
        await settle(pilot)
        analyses = app.screen.query_one("CompareView").analyses
        shown = frozenset().union(*(paths_of(a) for a in analyses))
        checked = 0
        for i, analysis in enumerate(analyses):
            view = app.screen.query_one(f"#files-{i}", FileView)
            m = view.model
            assert view.filter_text == term
            for row, (path, depth) in enumerate(zip(m.rows, m.depths, strict=True)):
                if depth != 0 or not m.tree.is_dir(path):
                    continue
                want = shown_bytes(analysis, shown, path)
                assert m.size(path) == want, (analysis.reference, path)
                if view.top <= row < view.top + view.page_height:
                    assert size_cell(view, row) == human(want), (analysis.reference, path)
                    checked += 1
            if i == 0:  # the teacher's case: debian's /usr is 70.5 MB, its shell files are not
                assert m.size("/usr") < m.tree.size("/usr") / 10
        assert checked >= 2


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
@sync
async def test_layer_view_folder_sizes_are_the_layers_changes(options, layered, size):
    app = InspectorApp([layered], options)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        view = app.screen.query_one(FileView)
        view.focus()
        whole = view.model.size("/app")
        await pilot.press("ctrl+l")  # the top layer: adds app/config.txt only
        await settle(pilot)
        m = view.model
        marks = m.tree.marks.to_dict()
        fs = m.tree.fs
        want = sum(fs.size(p) for p, mark in marks.items()
                   if mark in (ADDED, MODIFIED) and p.startswith("/app/") and fs.kind(p) == FILE)
        assert 0 < want < whole
        assert m.size("/app") == want and size_cell(view, m.rows.index("/app")) == human(want)
        await pilot.press("ctrl+a")  # the whole filesystem again
        await settle(pilot)
        assert view.model.size("/app") == whole


# ---- W2, W3 ----------------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
@sync
async def test_row_counter_follows_each_key(options, size):
    app = InspectorApp(["sample:distroless-static"], options)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        view = app.screen.query_one(FileView)
        status = app.screen.query_one("#tree-status", Line)
        while view.path != "/etc":
            await pilot.press("down")
        for key in ("space", "space", "e", "c"):
            await pilot.press(key)
            assert f" · {len(view.model.rows):,} rows" in str(status.render()), key


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
@sync
async def test_one_unit_style_in_tree_and_tables(options, size):
    app = InspectorApp(["sample:debian-12-slim"], options)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        view = app.screen.query_one(FileView)
        assert view.go_to("/usr/bin/dash")
        await pilot.press("g")
        fs = view.model.tree.fs
        assert size_cell(view, view.model.rows.index("/usr/bin/dash")) == human(fs.size("/usr/bin/dash"))
        for line in lines(view):
            assert not SHORT.search(line), line
        for row in range(len(view.model.rows)):
            if view.model.depths[row] == 0:
                assert HUMAN.match(size_cell(view, row))
        a = app.screen.query_one("InspectView").analysis
        table = app.screen.query_one(LayersTable)
        cells = {str(c) for r in range(table.row_count) for c in table.get_row_at(r)}
        assert human(a.image.layers[0].compressed_size) in cells


# ---- hostile names ---------------------------------------------------------------------
PATH_HOSTILE = [h for h in HOSTILE if h.in_path and "/" not in h.raw]


@pytest.fixture
def hostile_image(tmp_path):
    files: dict[str, bytes | Entry] = {"h": Entry("dir")}
    for n, h in enumerate(PATH_HOSTILE):
        files[f"h/{h.raw}"] = b"x" * (n + 1)
        files[f"h/link{n:02d}"] = Entry("symlink", target=h.raw)
    write_oci_layout(tmp_path / "img", [ImageSpec([make_layer(files)], ref_name="v1")])
    return f"oci:{tmp_path / 'img'}:v1"


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
@sync
async def test_hostile_names_are_shown_not_obeyed(options, hostile_image, size):
    app = InspectorApp([hostile_image], options)
    async with app.run_test(size=(size[0], 2 * len(PATH_HOSTILE) + 8)) as pilot:
        await settle(pilot)
        view = app.screen.query_one(FileView)
        view.focus()
        await pilot.press("e")  # everything open
        text = "\n".join(lines(view))
        names = {h.raw for h in PATH_HOSTILE}
        assert sum(p.rsplit("/", 1)[-1] in names for p in view.model.rows) == len(PATH_HOSTILE)
        for h in PATH_HOSTILE:  # the raw name (and the link's target) went in; its visible form out
            assert_inert(text, h.shown)
            assert text.count(h.shown) >= 2 or len(h.shown) > size[0] // 3


def test_hostile_names_in_a_real_terminal(options, hostile_image, tmp_path):
    """The bytes the app writes to a terminal (tmux's pipe-pane) carry the visible forms
    and not the raw sequences (which would retitle and clear the teacher's screen)."""
    tmux = require_tool("tmux")
    session = f"inspector-hostile-{os.getpid()}"
    raw_out = tmp_path / "terminal.bytes"
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_DRIVER"}
    command = shlex.join([sys.executable, "-m", "inspector", "--cache-dir",
                          str(options.cache_dir), hostile_image])
    base = [tmux, "-L", session, "-f", "/dev/null"]
    subprocess.run([*base, "new-session", "-d", "-s", session, "-x", "120", "-y", "40",
                    f"sleep 0.3; cd {shlex.quote(os.getcwd())} && {command}"],
                   check=True, env=env)
    try:
        subprocess.run([*base, "pipe-pane", "-o", "-t", session,
                        f"cat > {shlex.quote(str(raw_out))}"], check=True)
        want = [h.shown.encode() for h in PATH_HOSTILE if h.shown.isascii()]
        deadline = time.monotonic() + 60  # a bound on a failure, not a wait for success
        sent = False
        while time.monotonic() < deadline:
            data = raw_out.read_bytes() if raw_out.exists() else b""
            if not sent and b"h/" in data:
                subprocess.run([*base, "send-keys", "-t", session, "e"], check=True)
                sent = True
            if sent and all(w in data for w in want):
                break
            time.sleep(0.2)
        data = raw_out.read_bytes()
        for w in want:
            assert w in data, w
        for h in PATH_HOSTILE:
            if h.raw != h.shown:
                assert h.raw.encode("utf-8", "surrogateescape") not in data, h.name
        assert b"\x1b]0;pwned" not in data
    finally:
        subprocess.run([*base, "kill-server"], check=False)
