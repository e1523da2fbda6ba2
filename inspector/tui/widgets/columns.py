"""Compare's widgets: the Overview table (a row cursor that scrolls its container), the
Packages tab's table, and the file diff's columns with the legend saying what their marks
are against and the status line under it."""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll

from inspector.compare import CompareResult
from inspector.tui.overview import package_rows
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


def status_text(labels: list[str], n: int, leader: FileView) -> Text:
    """What the columns show, ``leader`` being column ``n``: whose column the cursor is in
    and what its marks are against, the filter, the sort, the rows."""
    m = leader.model
    assert m is not None
    names = [visible(label) for label in labels]
    parts = [f"in {names[n]}'s column"]
    if leader.filter_text:
        parts.append(f"filter: {visible(leader.filter_text)}")
    if leader.hidden_marks:
        parts.append("hidden: " + " ".join(sorted(k or "unmodified"
                                                  for k in leader.hidden_marks)))
    parts.append(f"sort: {m.sort}")
    parts.append(f"row {leader.cursor + 1:,}/{len(m.rows):,}" if m.rows else "no rows")
    against = set(TOKENS_AGAINST_FIRST) & set(leader.filter_text.lower().split())
    if n == 0 and against and not m.rows and len(names) > 1:
        # the first image's column has nothing "missing" or "changed": its marks are
        # what the others are measured against
        parts.append(f"{' '.join(sorted(against))} is against {names[0]}: Tab to "
                     f"{names[1]}'s column, or Enter on the Overview's \"leaves out\"")
    return Text(" " + " · ".join(parts))


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

    def keep_in_view(self, scroll: VerticalScroll, row: int) -> None:
        """Scroll ``scroll`` (the table's container) so ``row`` shows, the verdict after
        the last row too (at 80x24 it is below the fold)."""
        if row >= self.row_count - 1:
            scroll.scroll_end(animate=False)
        elif row <= 0:
            scroll.scroll_home(animate=False)
        else:
            row_y = self.region.y + 1 + row  # under the header
            top, bottom = scroll.region.y, scroll.region.bottom
            if row_y >= bottom:
                scroll.scroll_relative(y=row_y - bottom + 1, animate=False)
            elif row_y < top:
                scroll.scroll_relative(y=row_y - top, animate=False)

    def action_scroll_home(self) -> None:
        self.move_cursor(row=0)

    def action_scroll_end(self) -> None:
        self.move_cursor(row=self.row_count - 1)

    def action_page_down(self) -> None:
        self.move_cursor(row=min(self.row_count - 1, self.cursor_row + self.PAGE))

    def action_page_up(self) -> None:
        self.move_cursor(row=max(0, self.cursor_row - self.PAGE))


class PackagesDiff(ClickToOpen):
    """Compare's Packages tab: every package (its version and size per image, where it is;
    with ``--vulns`` its findings per image, first: seen at 80 columns), or only those with
    findings, most first. ``names``: row key → package name (Enter lists its files)."""

    def __init__(self, result: CompareResult, vulns, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self.result = result
        self.vulns = vulns  # an ``Overlay`` (or None) per image; None without reports
        self.names: dict[str, str] = {}
        self.vulnerable_only: bool | None = None  # None: not filled yet

    def fill(self, vulnerable_only: bool) -> None:
        if self.vulnerable_only == vulnerable_only:
            return
        self.vulnerable_only = vulnerable_only
        self.clear(columns=True)
        self.names.clear()
        labels = [visible(label) for label in self.result.labels]
        self.add_columns("package", *(["vulns"] if self.vulns else []),
                         *(Text(f"{label} (version · size)") for label in labels), "where")
        for name, cells, where in package_rows(self.result, self.vulns, vulnerable_only):
            key = f"p{len(self.names)}"
            self.names[key] = name
            self.add_row(Text(visible(name)), *cells, Text(where), key=key)
        if not self.row_count:
            self.add_row("no packages with findings" if vulnerable_only else
                         "no packages found", *[""] * (len(self.columns) - 1))
