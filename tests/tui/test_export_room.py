"""Saving what is on screen (issue 24 item 11), at 80x24 and 160x48: ``w`` writes the tab
as markdown (the compare report, or the Files tab's rows), the palette's Screenshot an
SVG, both in the working directory (the cache directory when there is none) with the
path in a toast — never a failing ``~/Downloads``."""

from __future__ import annotations

import os

import pytest

from inspector.report.compare import render
from inspector.tui.app import InspectorApp
from inspector.tui.screens.compare import CompareView
from tests.tui.helpers import settle, sync

SIZES = [(80, 24), (160, 48)]
PAIR = ["sample:debian-12-slim", "sample:distroless-static"]


def toasts(app) -> str:
    """Every toast so far (recorded: a toast expires, and the app forgets it)."""
    return "\n".join(app.toasts_seen)


def recording(app):
    app.toasts_seen = []
    notify = app.notify

    def recorded(message, *args, **kwargs):
        app.toasts_seen.append(message)
        return notify(message, *args, **kwargs)

    app.notify = recorded
    return app


def saved(directory, suffix: str) -> list:
    return sorted(p for p in directory.iterdir() if p.name.endswith(suffix))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@sync
async def test_w_writes_the_tab_on_screen(options, size, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = recording(InspectorApp(PAIR, options))
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("w")  # the Overview: the compare report
        await pilot.pause()
        [report] = saved(tmp_path, ".md")
        assert "report" in report.name and f"saved: {report}" in toasts(app)
        result = app.screen.query_one(CompareView).result
        assert report.read_text() == render(result, "markdown")
        assert "## Security" in report.read_text()
        app.screen.query_one(CompareView).show_files("category:shell")
        await settle(pilot)
        await pilot.press("w")  # the Files tab: its rows
        await pilot.pause()
        [files] = [p for p in saved(tmp_path, ".md") if "files" in p.name]
        body = files.read_text()
        assert "Filter: `category:shell`" in body
        assert "| `/usr/bin/bash` | 1.3 MB | absent |" in body
        assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@sync
async def test_screenshot_goes_where_it_can_be_found(options, size, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = recording(InspectorApp(["sample:distroless-static"], options))
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        app.deliver_screenshot()  # what the palette's "Screenshot" runs
        await pilot.pause()
        [svg] = saved(tmp_path, ".svg")
        assert svg.read_text().startswith("<svg") and f"screenshot saved: {svg}" in toasts(app)
        await pilot.press("2")
        await pilot.press("w")  # one image: its report
        await pilot.pause()
        [inspect_report] = saved(tmp_path, ".md")
        assert "distroless-static" in inspect_report.read_text()


@sync
async def test_without_a_working_directory_the_cache_dir_is_used(options, tmp_path,
                                                                  monkeypatch):
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    os.rmdir(gone)
    app = recording(InspectorApp(["sample:distroless-static"], options))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.deliver_screenshot()
        await pilot.pause()
        [svg] = saved(options.resolved_cache_dir(), ".svg")
        assert f"screenshot saved: {svg}" in toasts(app)


@sync
async def test_shift_w_writes_the_html_report(options, tmp_path, monkeypatch):
    from inspector.report.compare import to_json
    from inspector.report.html import read_embedded

    monkeypatch.chdir(tmp_path)
    app = recording(InspectorApp(PAIR, options))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("W")
        await pilot.pause()
        [page] = saved(tmp_path, ".html")
        assert f"saved: {page}" in toasts(app)
        result = app.screen.query_one(CompareView).result
        assert read_embedded(page.read_text()) == to_json(result)


@sync
async def test_shift_w_on_one_image_writes_its_export_page(options, tmp_path, monkeypatch):
    from inspector.report.html import read_embedded

    monkeypatch.chdir(tmp_path)
    app = recording(InspectorApp(["sample:distroless-static"], options))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("W")
        await pilot.pause()
        [page] = saved(tmp_path, ".html")
        doc = read_embedded(page.read_text())
        assert doc["schema"] == "inspector.export/v1" and "files" not in doc
