"""The fit screens. ``FitScreen``: one image's fit on its own screen (the Fit tab's
pane). ``ShownFitScreen``, compare's ``f``: the fit of the image on screen (the first
column), never of an image the user cannot see. An image whose command is a shell or no program at all (debian-12-slim
runs bash) has no application to fit: the screen says so and offers the demo app by name
(``d``: hello-debian onto distroless-static)."""

from __future__ import annotations

import json

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from inspector.fit.bases import SAMPLE_BASES
from inspector.tui.state import inspector_app
from inspector.tui.widgets.fit import DEMO_FIT, FitDone, FitPane
from inspector.visible import visible

#: what the demo app is, for the offer
DEMO_APP = "a small C program on Debian"


def command_of(config: dict) -> str:
    """The image's command (Entrypoint + Cmd) as JSON, or ``no command``."""
    cfg = config.get("config") or {}
    argv = list(cfg.get("Entrypoint") or []) + list(cfg.get("Cmd") or [])
    return json.dumps(argv) if argv else "no command"


class FitScreen(Screen):
    """The fit of one image on its own screen (the demo's ``f``); Esc/q go back."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back", id="fit.back"),
                Binding("b", "build", "Build it", id="fit.screen.build")]

    def __init__(self, reference: str, bases: tuple[str, ...] = SAMPLE_BASES) -> None:
        super().__init__()
        self.reference, self.bases = reference, bases

    def compose(self) -> ComposeResult:
        yield Static(Text(f"fit: {self.reference} → {', '.join(self.bases)}", style="bold"),
                     id="title")
        yield FitPane(reference=self.reference, bases=self.bases, id="fit")
        yield Footer()


    def action_build(self) -> None:
        self.query_one(FitPane).action_build()


class ShownFitScreen(FitScreen):
    """The fit of ``reference`` (an image on the compare screen) with the demo app offered
    under it; ``d`` replaces this screen with the demo app's fit."""

    BINDINGS = [Binding("d", "fit_demo_app", "Fit the demo app instead", id="fit.demo_app")]

    def __init__(self, reference: str, label: str) -> None:
        super().__init__(reference)
        self.label = label

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, Footer):
                yield Static(self.offer(""), id="fit-offer")
            yield widget

    def offer(self, why: str) -> Text:
        text = Text(f"Fitting {visible(self.label)}, the first image on screen. ", "dim")
        if why:
            text = Text(why + " ", "bold yellow")
        text.append("d", "bold")
        text.append(f" fits the demo app instead: {DEMO_FIT[0].removeprefix('sample:')} "
                    f"({DEMO_APP}) onto {', '.join(DEMO_FIT[1])}.")
        return text

    @on(FitDone)
    def _done(self, message: FitDone) -> None:
        if message.ok:
            return
        analysis = inspector_app(self).analyses.get(self.reference)
        command = command_of(analysis.config) if analysis is not None else "its command"
        why = f"{visible(self.label)} runs {visible(command)}: no distroless base can run that."
        self.query_one("#fit-offer", Static).update(self.offer(why))

    def action_fit_demo_app(self) -> None:
        self.app.switch_screen(FitScreen(DEMO_FIT[0], DEMO_FIT[1]))
