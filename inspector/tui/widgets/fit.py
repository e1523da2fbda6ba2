"""The Fit tab (and the demo's fit screen): which distroless base the image's application
would run on. The verdict is computed in a thread worker (candidate bases are loaded
through the app's shared analyses and layer memo) and shown as the text report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from inspector.analysis import Analysis, analyze
from inspector.errors import InspectorError
from inspector.fit.bases import SAMPLE_BASES
from inspector.fit.model import FITS
from inspector.tui.format import human
from inspector.tui.state import inspector_app

if TYPE_CHECKING:  # the mixin is a Screen to the type checker, a plain class at run time
    from textual.screen import Screen as _Host
else:
    _Host = object

#: the demo's key: hello-debian onto distroless-static
FIT_DEMO = Binding("f", "fit_demo", "Fit", id="demo.fit")
DEMO_FIT = ("sample:hello-debian", ("sample:distroless-static",))


@dataclass
class FitDone(Message):
    text: str
    headline: str
    ok: bool


class FitPane(VerticalScroll):
    """The fit report for ``reference`` (analysed already, or loaded here) against ``bases``;
    computed the first time the pane is shown."""

    DEFAULT_CSS = """
    FitPane { height: 1fr; padding: 0 1; }
    FitPane #fit-headline { text-style: bold; margin-bottom: 1; }
    """

    def __init__(self, analysis: Analysis | None = None, *, reference: str | None = None,
                 bases: tuple[str, ...] = SAMPLE_BASES, id: str | None = None) -> None:
        super().__init__(id=id)
        self.analysis = analysis
        self.reference = reference or (analysis.reference if analysis else "")
        self.bases = bases
        self.started = False
        self.text = ""  # the report once computed (tests read it)

    def compose(self) -> ComposeResult:
        yield Static(Text("Fit: which distroless base would this run on? (computing…)"),
                     id="fit-headline")
        yield Static(Text(""), id="fit-report")

    def on_show(self) -> None:
        if not self.started:
            self.started = True
            self.compute()

    def _analysis(self, reference: str) -> Analysis:
        from inspector.sources.resolve import open_image

        app = inspector_app(self)
        known = app.analyses.get(reference)
        if known is not None:
            return known
        image = open_image(reference, app.options)
        try:
            analysis = analyze(image, app.options, memo=app.memo)
        except BaseException:
            image.close()
            raise
        kept = app.call_from_thread(app.analyses.setdefault, reference, analysis)
        if kept is not analysis:  # loaded meanwhile by a screen: use that one, close ours
            analysis.image.close()
        return kept

    @work(thread=True, exclusive=True, group="fit", exit_on_error=False)
    def compute(self) -> None:
        from inspector.fit import fit
        from inspector.fit.render import render

        try:
            current = self.analysis or self._analysis(self.reference)
            bases = [self._analysis(ref) for ref in self.bases]
            result = fit(current, bases)
        except InspectorError as exc:
            self.post_message(FitDone(str(exc), "Fit: no verdict", False))
            return
        except Exception as exc:  # a bug must not take the app down: show it
            self.post_message(FitDone(f"{type(exc).__name__}: {exc}", "Fit failed", False))
            return
        chosen = result.chosen
        if chosen is None:
            headline = "No candidate base fits (see what each is missing)"
        else:
            saved = result.savings.saved_bytes if result.savings else 0
            how = "fits" if chosen.verdict == FITS else "fits with copied libraries"
            headline = (f"{result.reference} {how} on {chosen.from_ref}: "
                        f"{human(saved)} smaller")
        self.post_message(FitDone(render(result, "text"), headline, chosen is not None))

    @on(FitDone)
    def _done(self, message: FitDone) -> None:
        self.text = message.text
        style = "green" if message.ok else "red"
        self.query_one("#fit-headline", Static).update(Text(message.headline, style=f"bold {style}"))
        self.query_one("#fit-report", Static).update(Text(message.text))
        if not message.ok:
            self.notify(message.text.splitlines()[0] if message.text else message.headline,
                        severity="warning")


class FitScreen(Screen):
    """The fit of one image on its own screen (the demo's ``f``); Esc/q go back."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back", id="fit.back")]

    def __init__(self, reference: str, bases: tuple[str, ...] = SAMPLE_BASES) -> None:
        super().__init__()
        self.reference, self.bases = reference, bases

    def compose(self) -> ComposeResult:
        yield Static(Text(f"fit: {self.reference} → {', '.join(self.bases)}", style="bold"),
                     id="title")
        yield FitPane(reference=self.reference, bases=self.bases, id="fit")
        yield Footer()


class FitDemoAction(_Host):
    """Mixed into the compare screen: ``f`` opens the fit (the demo: hello-debian →
    distroless-static; otherwise the first image against the default bases)."""

    references: list[str]  # the compare screen's

    def action_fit_demo(self) -> None:
        if getattr(self, "demo", False):
            screen = FitScreen(DEMO_FIT[0], DEMO_FIT[1])
        else:
            screen = FitScreen(self.references[0])
        self.app.push_screen(screen)
