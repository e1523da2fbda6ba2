"""The Fit tab (and the pane of the fit screen, ``screens/fit.py``): which distroless base the image's application
would run on. The verdict is computed in a thread worker (candidate bases are loaded
through the app's shared analyses and layer memo) and shown as the text report, with the
before/after numbers on top. ``b`` builds it (``inspector fit --build``) into an OCI
layout in the working directory, then measures the image it wrote: the toast names the
path, the numbers line shows what was built."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from inspector.analysis import Analysis, analyze
from inspector.errors import InspectorError
from inspector.fit.bases import SAMPLE_BASES
from inspector.fit.model import FITS, FitResult
from inspector.tui.format import human
from inspector.tui.state import inspector_app
from inspector.visible import visible

#: the demo's key: hello-debian onto distroless-static
FIT_DEMO = Binding("f", "fit_demo", "Fit", id="demo.fit")
DEMO_FIT = ("sample:hello-debian", ("sample:distroless-static",))


@dataclass
class FitDone(Message):
    text: str
    headline: str
    ok: bool
    result: FitResult | None = None
    #: the analyses the build needs: the current image and the chosen base
    current: Analysis | None = None
    base: Analysis | None = None


@dataclass
class FitAnalysed(Message, bubble=False):
    """The fit's worker analysed an image the app did not hold yet: the pane files it in
    the app's analyses (on the app's thread; a screen may have loaded it meanwhile)."""

    reference: str
    analysis: Analysis


@dataclass
class BuildDone(Message):
    ok: bool
    message: str  # the toast: where it went, or why not
    numbers: Text | None = None  # the before/after line with the built image's figures


def build_target(reference: str) -> str:
    """``oci:./fit-NAME:latest`` in the working directory, NAME from the reference."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", reference.removeprefix("sample:")).strip("-.")
    return f"oci:{Path.cwd() / ('fit-' + (name[-60:] or 'image'))}:latest"


def numbers(result: FitResult, built: tuple[int, int] | None = None) -> Text:
    """``before 3,773 files, 74.8 MB → after 1,001 files, 21.0 MB (saved 53.8 MB)``; with
    the built image's measured (files, bytes) when there is one."""
    s = result.savings
    if s is None:
        return Text("")
    files, size = built if built is not None else (s.result_files, s.result_bytes)
    text = Text(f"before {s.current_files:,} files, {human(s.current_bytes)} → ", "bold")
    text.append(f"{'built' if built else 'after'} {files:,} files, {human(size)}", "bold green")
    saved = s.current_bytes - size
    text.append(f" ({'saved' if saved >= 0 else 'grows by'} {human(abs(saved))})")
    if built is None:
        text.append("   b builds it", "dim")
    return text


class FitPane(VerticalScroll):
    """The fit report for ``reference`` (analysed already, or loaded here) against ``bases``;
    computed the first time the pane is shown."""

    DEFAULT_CSS = """
    FitPane { height: 1fr; padding: 0 1; }
    FitPane #fit-headline { text-style: bold; }
    FitPane #fit-numbers { margin-bottom: 1; }
    """
    BINDINGS = [Binding("b", "build", "Build it", id="fit.build")]

    def __init__(self, analysis: Analysis | None = None, *, reference: str | None = None,
                 bases: tuple[str, ...] = SAMPLE_BASES, id: str | None = None) -> None:
        super().__init__(id=id)
        self.analysis = analysis
        self.reference = reference or (analysis.reference if analysis else "")
        self.bases = bases
        self.started = False
        self.text = ""  # the report once computed (tests read it)
        self.done: FitDone | None = None  # the verdict and what a build needs
        self.built = ""  # the last build's destination
        self.spare: list[Analysis] = []  # our analyses of images a screen loaded too

    def compose(self) -> ComposeResult:
        yield Static(Text("Fit: which distroless base would this run on? (computing…)"),
                     id="fit-headline")
        yield Static(Text(""), id="fit-numbers")
        yield Static(Text(""), id="fit-report")

    def on_show(self) -> None:
        if not self.started:
            self.started = True
            self.compute()
            self.focus()  # b reaches the pane

    def _analysis(self, reference: str) -> Analysis:
        from inspector.analysis import open_image

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
        self.post_message(FitAnalysed(reference, analysis))
        return analysis

    @on(FitAnalysed)
    def _analysed(self, message: FitAnalysed) -> None:
        kept = inspector_app(self).analyses.setdefault(message.reference, message.analysis)
        if kept is not message.analysis:  # loaded meanwhile by a screen: ours is spare
            self.spare.append(message.analysis)

    def on_unmount(self) -> None:
        for analysis in self.spare:  # the worker may have used it until now
            analysis.image.close()

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
        base = next((b for b in bases if chosen and b.reference == chosen.reference), None)
        self.post_message(FitDone(render(result, "text"), headline, chosen is not None,
                                  result, current, base))

    @on(FitDone)
    def _done(self, message: FitDone) -> None:
        self.text, self.done = message.text, message
        style = "green" if message.ok else "red"
        self.query_one("#fit-headline", Static).update(Text(message.headline, style=f"bold {style}"))
        if message.result is not None:
            self.query_one("#fit-numbers", Static).update(numbers(message.result))
        self.query_one("#fit-report", Static).update(Text(message.text))
        if not message.ok:
            self.notify(message.text.splitlines()[0] if message.text else message.headline,
                        severity="warning", markup=False)


    def action_build(self) -> None:
        done = self.done
        if done is None:
            self.notify("the fit is still being computed", severity="warning")
        elif done.result is None or done.current is None or done.base is None:
            self.notify("no candidate base fits: nothing to build", severity="warning")
        else:
            from inspector.fit.build import fetch_notice

            notice = fetch_notice(done.base)  # the base's TOC-listed layers, fetched whole
            self.notify(f"building {visible(build_target(self.reference))} …"
                        + (f"\n{notice}" if notice else ""), timeout=10 if notice else 3,
                        markup=False)
            self.build_image(done, build_target(self.reference))

    @work(thread=True, exclusive=True, group="fit-build", exit_on_error=False)
    def build_image(self, done: FitDone, dest: str) -> None:
        from inspector.fit.bases import non_dir_count
        from inspector.fit.build import build
        from inspector.sources.resolve import open_image

        assert done.result is not None and done.current is not None and done.base is not None
        try:
            built = build(done.current, done.base, done.result, dest)
            app = inspector_app(self)
            with open_image(str(built.target), app.options) as image:
                measured = analyze(image, app.options, memo=app.memo)
                figures = (non_dir_count(measured), measured.fs.file_bytes)
        except InspectorError as exc:
            self.post_message(BuildDone(False, f"build failed: {exc}"))
            return
        except Exception as exc:  # a bug must not take the app down: show it
            self.post_message(BuildDone(False, f"build failed: {type(exc).__name__}: {exc}"))
            return
        self.post_message(BuildDone(True, f"built {built.target}\ncompare: inspector compare "
                                          f"{self.reference} {built.target}",
                                    numbers(done.result, figures)))

    @on(BuildDone)
    def _built(self, message: BuildDone) -> None:
        if message.numbers is not None:
            self.built = message.message
            self.query_one("#fit-numbers", Static).update(message.numbers)
        self.notify(visible(message.message), severity="information" if message.ok else "error",
                    timeout=10, markup=False)
