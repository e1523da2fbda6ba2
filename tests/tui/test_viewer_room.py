"""The binary viewer (issue 24 item 12): one ELF line above the hex (type, static or
dynamic, loader, needed libraries, from ``inspector.fit.elf``), and hex as wide as its
pane, ASCII column included, at 80x24 and 160x48."""

from __future__ import annotations

import pytest
from textual.widgets import TextArea

from inspector.content import read_member
from inspector.fit.elf import parse_elf
from inspector.tui.app import InspectorApp
from inspector.tui.binary import HEX_FIXED, Blob, elf_summary, hex_per_line, render_blob
from inspector.tui.screens.viewer import ContentScreen
from tests.tui.helpers import settle, sync

SIZES = [(80, 24), (160, 48)]

# (name, cells, bytes a line): the ASCII column always fits, whole groups of 4
PER_LINE = [("narrow", 30, 4), ("too narrow", 5, 4), ("36 cells", 36, 4), ("75", 75, 16),
            ("80", 80, 16), ("100", 100, 20), ("wide", 500, 32)]


@pytest.mark.parametrize(("name", "cells", "expected"), PER_LINE, ids=[p[0] for p in PER_LINE])
def test_hex_per_line(name, cells, expected):
    assert hex_per_line(cells) == expected
    if cells >= HEX_FIXED + 4 * 4:
        assert HEX_FIXED + 4 * expected <= cells


# (name, bytes, summary starts with)
SUMMARIES = [
    ("not elf", b"#!/bin/sh\n", None),
    ("truncated header", b"\x7fELF\x02\x01\x01", "ELF, unreadable:"),
]


@pytest.mark.parametrize(("name", "data", "expected"), SUMMARIES, ids=[s[0] for s in SUMMARIES])
def test_elf_summary_edges(name, data, expected):
    got = elf_summary(data)
    assert got == expected if expected is None else got.startswith(expected)


def test_text_content_is_escaped_not_hexed():
    shown = render_blob(Blob(b"title\x1b]0;pwned\x07\nnext\n"), 80)
    assert not shown.hex and shown.summary is None
    assert "\x1b" not in shown.body and "\\x1b]0;pwned\\x07" in shown.body


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@sync
async def test_binary_view_has_its_elf_line_and_hex_that_fits(options, size):
    app = InspectorApp(["sample:debian-12-slim"], options)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        view = app.screen.query_one("#files")
        assert view.go_to("/usr/bin/bash")
        await pilot.press("v")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ContentScreen)
        await pilot.pause()
        summary = str(screen.query_one("#elf-0").render())
        analysis = app.analyses["sample:debian-12-slim"]
        data, _ = read_member(analysis.image, analysis.fs.layer_of("/usr/bin/bash"),
                              "/usr/bin/bash", cap=64 << 20)
        info = parse_elf(data)
        assert summary.startswith(f"ELF {info.bits}-bit {info.machine}")
        assert "dynamic" in summary and f"loader {info.interpreter}" in summary
        assert "needs " + ", ".join(info.needed) in summary
        area = screen.query_one("#content-text", TextArea)
        lines = area.text.splitlines()
        per_line = hex_per_line(area.content_size.width - 1)
        assert len(lines[0]) == HEX_FIXED + 4 * per_line <= area.content_size.width
        ascii_column = "".join(chr(b) if 32 <= b < 127 else "." for b in data[:per_line])
        assert lines[0].endswith(ascii_column)
        assert lines[1].startswith(f"{per_line:08x}")  # the offsets follow the width
