"""Snapshot tests of the inspect, compare and demo screens on the bundled samples, at
80×24 and 160×48. Deterministic: no timings or host paths on screen, cursor blink frozen,
every worker finished before the picture is taken."""

from __future__ import annotations

import pytest

from inspector.tui.app import InspectorApp
from tests.tui.helpers import settle

SIZES = [(80, 24), (160, 48)]


def size_id(size):
    return f"{size[0]}x{size[1]}"


async def ready(pilot):
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_inspect_screen(snap_compare, options, size):
    app = InspectorApp(["sample:distroless-static"], options)
    assert snap_compare(app, terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_inspect_expanded_with_search(snap_compare, options, size):
    async def run(pilot):
        await settle(pilot)
        await pilot.press("slash", *"passwd", "enter")
        await settle(pilot)

    app = InspectorApp(["sample:debian-12-slim"], options)
    assert snap_compare(app, terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_compare_screen(snap_compare, options, size):
    app = InspectorApp(["sample:distroless-base", "sample:distroless-static"], options)
    assert snap_compare(app, terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_compare_files_tab(snap_compare, options, size):
    async def run(pilot):
        await settle(pilot)
        await pilot.press("3")  # the Files tab
        await settle(pilot)
        view = pilot.app.screen.query_one("#files-0")
        view.focus()
        view.go_to("/usr/bin/bash")
        await settle(pilot)

    app = InspectorApp(["sample:debian-12-slim", "sample:distroless-static"], options)
    assert snap_compare(app, terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=size_id)
def test_demo(snap_compare, options, size):
    app = InspectorApp([], options, demo=True)
    assert snap_compare(app, terminal_size=size, run_before=ready)


def test_help(snap_compare, options):
    async def run(pilot):
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    app = InspectorApp(["sample:hello-distroless"], options)
    assert snap_compare(app, terminal_size=(100, 40), run_before=run)
