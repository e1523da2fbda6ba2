"""The app: the state every screen shares and the routing. No image → the demo comparison,
one → inspect, 2+ → compare; every other screen is opened here on a screen's or widget's
behalf (``state.AppState``): this is the one module that imports the screens."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App

from inspector.analysis import Analysis, LayerMemo
from inspector.options import Options
from inspector.tui.binary import Content
from inspector.tui.bindings import APP, INTERRUPT
from inspector.tui.commands import InspectorCommands
from inspector.tui.scan import ScanInput
from inspector.tui.screens.compare import CompareScreen
from inspector.tui.screens.fit import ShownFitScreen
from inspector.tui.screens.help import HelpScreen
from inspector.tui.screens.inspect import InspectScreen
from inspector.tui.screens.prompt import PromptScreen
from inspector.tui.screens.prompt import ask_image as _ask_image
from inspector.tui.screens.viewer import ContentScreen
from inspector.tui.state import Answer, AppState
from inspector.visible import visible

DEMO = ("sample:debian-12-slim", "sample:distroless-static")
#: the exit status after Ctrl+C (128 + SIGINT, as shells report an interrupt)
INTERRUPTED = 130


class InspectorApp(App[int]):
    TITLE = "inspector"
    CSS_PATH = Path(__file__).with_name("app.tcss")
    BINDINGS = [*APP, INTERRUPT]  # a display: typed as Textual's list[BindingType]
    COMMANDS = App.COMMANDS | {InspectorCommands}

    def __init__(self, images: list[str], options: Options | None = None,
                 demo: bool = False, scan: ScanInput | None = None) -> None:
        super().__init__()
        #: ``--vulns`` reports by reference, ``--vulns-any-image``, ``--base-image``
        self.scan = scan or ScanInput()
        self.images = list(images) or list(DEMO)
        self.options = options or Options()
        self.demo = demo or not images
        #: analyses by reference, shared by every screen of this run
        self.analyses: dict[str, Analysis] = {}
        #: layer indexes shared between images (a common base is indexed once)
        self.memo = LayerMemo()

    def get_default_screen(self):
        if len(self.images) == 1 and not self.demo:
            return InspectScreen(self.images[0])
        return CompareScreen(self.images, demo=self.demo)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    # ---- routing (state.AppState): the screens opened on a screen's behalf --------------
    def ask(self, title: str, initial: str, *, id: str, then: Answer) -> None:
        self.push_screen(PromptScreen(title, initial, id=id), then)

    def ask_image(self, title: str, take: Callable[[str], None]) -> None:
        _ask_image(self, title, take)

    def view_content(self, title: str, text: Content = "", *,
                     columns: Sequence[tuple[str, Content]] | None = None,
                     follow: str | None = None, then: Answer | None = None) -> None:
        self.push_screen(ContentScreen(title, text, columns=columns, follow=follow), then)

    def open_compare(self, references: list[str]) -> None:
        self.push_screen(CompareScreen(references))

    def open_fit(self, reference: str, label: str) -> None:
        self.push_screen(ShownFitScreen(reference, label))

    def save_text(self, name: str, content: str, what: str,
                  mime_type: str = "text/markdown") -> Path | None:
        """Save ``content`` as ``name`` where it can be found (``export.save_dir``) and say
        where in a toast; in a browser, offer it as a download. The path, or None."""
        from inspector.tui.export import save_dir, write

        if self.is_web:
            self.deliver_text(io.StringIO(content), save_filename=name, mime_type=mime_type)
            self.notify(f"{what}: offered as a download ({visible(name)})", markup=False)
            return None
        try:
            path = write(save_dir(self.options), name, content)
        except OSError as exc:
            self.notify(f"{what} not saved: {visible(str(exc.strerror or exc))} "
                        f"({visible(name)})", severity="error", markup=False, timeout=10)
            return None
        self.notify(f"{what} saved: {visible(str(path))}", markup=False, timeout=10)
        return path

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        """The palette's Screenshot: an SVG in the working directory (else the cache
        directory), its path in a toast — not Textual's ``~/Downloads``, which may not
        exist."""
        if self.is_web:
            return super().deliver_screenshot(filename, path, time_format)
        from inspector.tui.export import file_name

        labels = getattr(self.screen, "references", None) or ["screen"]
        self.save_text(filename or file_name([str(label).rsplit(":", 1)[-1] for label in labels],
                                             "screenshot", ".svg"),
                       self.export_screenshot(), "screenshot", "image/svg+xml")
        return None

    def action_interrupt(self) -> None:
        """Ctrl+C: quit with the status of an interrupted program (128 + SIGINT)."""
        self.exit(return_code=INTERRUPTED)

    def on_unmount(self) -> None:
        for analysis in self.analyses.values():
            analysis.image.close()


def run_app(images: list[str], options: Options, demo: bool,
            scan: ScanInput | None = None) -> int:
    """Run the TUI (blocking); the exit code."""
    app = InspectorApp(images, options, demo=demo, scan=scan)
    app.run()
    return app.return_code or 0


if TYPE_CHECKING:
    def _routes(app: InspectorApp) -> AppState:  # mypy: the app is what screens ask of it
        return app
