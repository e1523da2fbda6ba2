"""The TUI's fit: the demo's ``f`` opens hello-debian → distroless-static, the inspect
screen's Fit tab computes when shown, and a failure is shown in the pane (the app stays
up). Pilot tests that wait on workers."""

from __future__ import annotations

import pytest

from inspector.options import Options
from inspector.tui.app import InspectorApp
from inspector.tui.screens.fit import FitScreen
from inspector.tui.screens.inspect import InspectScreen
from inspector.tui.widgets.fit import FitPane
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout
from tests.tui.helpers import settle, sync

SIZE = (120, 40)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fit-tui-cache")


@pytest.fixture
def options(cache_dir) -> Options:
    return Options(cache_dir=cache_dir)


async def fit_settled(pilot) -> None:
    await settle(pilot, rounds=6)


def headline(pane: FitPane) -> str:
    return str(pane.query_one("#fit-headline").render())


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
@sync
async def test_f_fits_the_image_on_screen_and_offers_the_demo_app(options, size):
    app = InspectorApp([], options, demo=True)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await fit_settled(pilot)
        assert isinstance(app.screen, FitScreen)
        pane = app.screen.query_one(FitPane)
        assert pane.reference == "sample:debian-12-slim"  # what is shown, not hello-debian
        assert "no verdict" in headline(pane) or "No candidate base fits" in headline(pane)
        offer = str(app.screen.query_one("#fit-offer").render())
        assert 'debian-12-slim runs ["bash"]: no distroless base can run that.' in offer
        assert "d fits the demo app instead: hello-debian" in offer
        await pilot.press("d")
        await fit_settled(pilot)
        pane = app.screen.query_one(FitPane)
        assert (pane.reference, pane.bases) == ("sample:hello-debian", ("sample:distroless-static",))
        assert "Smallest base that fits: distroless-static" in pane.text
        assert "fits on gcr.io/distroless/static-debian12" in headline(pane)
        await pilot.press("escape")
        assert not isinstance(app.screen, FitScreen)


@sync
async def test_fit_tab_computes_when_shown(options):
    app = InspectorApp(["sample:hello-c-debian"], options)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, InspectScreen)
        pane = app.screen.query_one(FitPane)
        assert not pane.started  # a hidden tab costs nothing
        app.screen.query_one("#tabs").active = "tab-fit"
        await fit_settled(pilot)
        assert pane.started
        assert "Smallest base that fits: distroless-base" in pane.text
        assert "distroless-static: does not fit" in pane.text


@sync
async def test_an_image_without_a_program_shows_why_and_the_app_stays_up(options, tmp_path):
    write_oci_layout(tmp_path / "img", [ImageSpec([make_layer({"etc/motd": b"hi\n",
                                                               "app": Entry("dir")})],
                                                  ref_name="v1")])
    app = InspectorApp([f"oci:{tmp_path / 'img'}:v1"], options)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#tabs").active = "tab-fit"
        await fit_settled(pilot)
        pane = app.screen.query_one(FitPane)
        assert "has no Entrypoint or Cmd" in pane.text
        assert "no verdict" in headline(pane)
        assert app.is_running


@sync
async def test_b_builds_the_fitted_image_and_shows_before_and_after(options, tmp_path,
                                                                   monkeypatch):
    """The Fit tab's ``b``: an OCI layout in the working directory, a toast naming it, and
    the numbers line measured on the image written (equal to what fit predicted)."""
    from inspector.sources.base import validate_image
    from inspector.sources.resolve import open_image

    monkeypatch.chdir(tmp_path)
    app = InspectorApp(["sample:hello-c-debian"], options)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#tabs").active = "tab-fit"
        await fit_settled(pilot)
        pane = app.screen.query_one(FitPane)
        before = str(pane.query_one("#fit-numbers").render())
        assert before.startswith("before ") and "→ after" in before and "b builds it" in before
        await pilot.press("b")
        await fit_settled(pilot)
        layout = tmp_path / "fit-hello-c-debian"
        assert pane.built.startswith(f"built oci:{layout}:latest")
        toasts = [str(n.message) for n in app._notifications]
        assert any(t.startswith(f"built oci:{layout}:latest") for t in toasts), toasts
        after = str(pane.query_one("#fit-numbers").render())
        s = pane.done.result.savings
        assert f"→ built {s.result_files:,} files" in after, after
    with open_image(f"oci:{layout}:latest", options) as image:
        validate_image(image)
        assert image.config["config"]["Entrypoint"] == ["/app/hello-c"]


@sync
async def test_b_without_a_verdict_says_so(options, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_oci_layout(tmp_path / "img", [ImageSpec([make_layer({"etc/motd": b"hi\n"})],
                                                  ref_name="v1")])
    app = InspectorApp([f"oci:{tmp_path / 'img'}:v1"], options)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#tabs").active = "tab-fit"
        await fit_settled(pilot)
        await pilot.press("b")
        await pilot.pause()
        toasts = [str(n.message) for n in app._notifications]
        assert any("nothing to build" in t for t in toasts), toasts
        assert not any(p.name.startswith("fit-") for p in tmp_path.iterdir())
