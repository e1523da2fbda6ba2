"""The help screen (``?``): every binding, from the binding tables, then the notes."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


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
