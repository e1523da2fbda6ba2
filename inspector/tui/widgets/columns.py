"""Compare's widgets: the Overview table (a row cursor that scrolls its container) and
the file diff's columns, with the legend saying what their marks are against."""

from __future__ import annotations

from rich.text import Text

from inspector.tui.widgets.file_rows import ATTRS_MIN_WIDTH
from inspector.tui.widgets.file_view import FileView
from inspector.tui.widgets.tabs import ClickToOpen
from inspector.visible import visible

#: compare's filter tokens that mean "against the first image"
TOKENS_AGAINST_FIRST = (":missing", ":removed", ":changed", ":modified")


def legend_text(labels: list[str], leader: int) -> Text:
    """What the marks mean in the cursor's column: against the first image, or (in the
    first image's column) against all the others."""
    names = [visible(label) for label in labels]
    text = Text(" ")
    if leader == 0 or len(names) == 1:
        others = "the other images" if len(names) > 2 else (names[1] if len(names) > 1 else "")
        for mark, style, words in (("+", "green", f" not in {others}   "),
                                   ("dim", "dim", f" only in {others}   ")):
            text.append(mark, style)
            text.append(words)
        text.append("(Tab: another image's column, marked against this one)", "dim")
        return text
    first, here = names[0], names[leader]
    for mark, style, words in (("+", "green", f" not in {first}   "),
                               ("~", "yellow", f" differs from {first}   "),
                               ("-", "red", f" in {first}, not in {here}   "),
                               ("dim", "dim", " only in others")):
        text.append(mark, style)
        text.append(words)
    return text


class Column(FileView):
    """One image's column of the file diff."""

    def action_attributes(self) -> None:
        """Ctrl+B: the mode and owner columns need ``ATTRS_MIN_WIDTH`` cells; a compare
        column is narrower, so say so rather than do nothing."""
        if self.size.width < ATTRS_MIN_WIDTH:
            self.notify(f"Ctrl+B: a column needs {ATTRS_MIN_WIDTH} cells for mode and owner "
                        f"(it has {self.size.width}); v shows a file in every image, or "
                        "inspect one image", severity="warning", timeout=6)
            return
        super().action_attributes()


class OverviewTable(ClickToOpen):
    """The overview rows. The table is as tall as its rows inside a scroll (with the intro
    and the verdict), so Home/End/PgUp/PgDn move the cursor, and the view follows it."""

    PAGE = 8
    #: True until the user first presses a key or clicks here. DataTable scrolls its cursor
    #: into view whenever the cursor moves, and the opening's move to the first category can
    #: run before the table is laid out (size 0x0): it then scrolled the rows by the cursor's
    #: row, and the first picture depended on timing. The opening cursor row is always in
    #: view, so nothing scrolls the table until the user acts.
    opening = True

    def _scroll_cursor_into_view(self, animate: bool = False) -> None:
        if not self.opening:
            super()._scroll_cursor_into_view(animate)

    def on_key(self) -> None:
        self.opening = False  # before the binding's action moves the cursor

    def on_mouse_down(self) -> None:
        self.opening = False

    def action_scroll_home(self) -> None:
        self.move_cursor(row=0)

    def action_scroll_end(self) -> None:
        self.move_cursor(row=self.row_count - 1)

    def action_page_down(self) -> None:
        self.move_cursor(row=min(self.row_count - 1, self.cursor_row + self.PAGE))

    def action_page_up(self) -> None:
        self.move_cursor(row=max(0, self.cursor_row - self.PAGE))
