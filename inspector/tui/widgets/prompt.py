"""Small modal screens: a one-line prompt, the help screen, a file's content."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static, TextArea


class PromptScreen(ModalScreen[str | None]):
    """Ask for one line of text; Enter answers, Esc answers ``None``."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="prompt.cancel")]
    DEFAULT_CSS = """
    PromptScreen { align: center middle; }
    PromptScreen > Vertical { width: 70%; min-width: 40; height: auto; border: round $primary;
                              background: $panel; padding: 0 1; }
    """

    def __init__(self, title: str, initial: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.title_text = title
        self.initial = initial

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text)
            yield Input(self.initial, id="prompt-input", select_on_focus=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """Every binding, from the binding tables."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; max-width: 100; height: 90%; border: round $primary;
                                  background: $panel; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        from rich.table import Table
        from rich.text import Text

        from inspector.tui.bindings import HELP_NOTES, TABLES

        with VerticalScroll():
            for title, bindings in TABLES:
                table = Table(title=title, title_justify="left", expand=True, box=None,
                              show_header=False)
                table.add_column("keys", style="bold", ratio=1)
                table.add_column("what", ratio=3)
                for b in bindings:
                    keys = b.key_display or b.key
                    table.add_row(keys.replace("question_mark", "?").replace("slash", "/"),
                                  b.description)
                yield Static(table)
            yield Static(Text(HELP_NOTES), id="help-notes")


class ContentScreen(ModalScreen[None]):
    """A file's content (text, or a hex dump for binary), read-only."""

    BINDINGS = [Binding("escape,q,v", "dismiss", "Close", id="content.close")]
    DEFAULT_CSS = """
    ContentScreen { align: center middle; }
    ContentScreen > Vertical { width: 95%; height: 95%; border: round $primary; background: $panel; }
    ContentScreen TextArea { height: 1fr; }
    """

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, id="content-title")
            yield TextArea(self.text, read_only=True, soft_wrap=False, show_line_numbers=True,
                           id="content-text")
