"""The inspect screen's other tabs: packages, categories, config & history, efficiency."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Input, Static

from inspector.analysis import Analysis
from inspector.classify import CATEGORY_ORDER
from inspector.tui.format import bar, human
from inspector.tui.messages import DrillDown
from inspector.tui.overview import vulns_line
from inspector.tui.shown import line, shown
from inspector.tui.widgets.panes import history_rows
from inspector.visible import visible

if TYPE_CHECKING:
    from inspector.vulns import Overlay

BAR_WIDTH = 24
PACKAGE_COLUMNS = ("type", "name", "version", "size", "layer")


class ClickToOpen(DataTable):
    """A row table where one click opens a row (DataTable opens on the second click, the
    first only moves the cursor): a category's or package's files are one click away."""

    BINDINGS = [Binding("enter", "select_cursor", "Show its files", id="table.open")]

    async def _on_click(self, event) -> None:
        before = self.cursor_coordinate
        row = event.style.meta.get("row", -1)
        await super()._on_click(event)
        if row >= 0 and self.cursor_row == row and self.cursor_coordinate != before:
            self._post_selected_message()


class PackagesPane(Vertical):
    """A sortable, filterable table of installed packages (hundreds of rows at most)."""

    DEFAULT_CSS = "PackagesPane Input { height: 3; } PackagesPane DataTable { height: 1fr; }"
    BINDINGS = [Binding("slash,ctrl+f", "focus_filter", "Filter packages",
                        id="packages.filter", key_display="/")]

    def __init__(self, analysis: Analysis, vulns: Overlay | None = None) -> None:
        super().__init__()
        self.analysis = analysis
        self.sort_column = "size"
        #: ``--vulns``: the scanner report laid over the image, findings per catalog index
        self.vulns = vulns
        self.findings = ({i: len(items) for i, items in vulns.by_package().items()}
                         if vulns else {})

    def compose(self) -> ComposeResult:
        if self.vulns is not None:
            yield Static(vulns_line(self.vulns), id="packages-vulns")
        yield Input(placeholder="filter packages by name", id="packages-filter")
        yield ClickToOpen(id="packages-table", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for name in PACKAGE_COLUMNS + (("vulns",) if self.vulns is not None else ()):
            table.add_column(name, key=name)
        self.fill("")

    def fill(self, text: str) -> None:
        table = self.query_one(DataTable)
        table.clear()
        found = self.findings
        pkgs = [(i, p) for i, p in enumerate(self.analysis.catalog.packages)
                if text.lower() in p.name.lower()]
        key = {"type": lambda p: (p.type, p.name), "name": lambda p: p.name,
               "version": lambda p: p.version, "size": lambda p: (-(p.size or 0), p.name),
               "layer": lambda p: (p.layer if p.layer is not None else -1, p.name)}.get(
                   self.sort_column, lambda p: p.name)
        order = ((lambda ip: (-found.get(ip[0], 0), ip[1].name)) if self.sort_column == "vulns"
                 else (lambda ip: key(ip[1])))
        for n, (i, p) in enumerate(sorted(pkgs, key=order)):
            extra = [] if self.vulns is None else [
                Text(f"{found[i]:,}" if i in found else "", "red", justify="right")]
            table.add_row(shown(p.type), shown(p.name), shown(p.version),
                          Text(human(p.size), justify="right"),
                          "" if p.layer is None else str(p.layer + 1), *extra,
                          key=f"{n}:{p.name}")
        if not pkgs:
            table.add_row("", Text("no packages found" if not text else "no match", style="dim"),
                          *[""] * (len(table.columns) - 2))

    def action_focus_filter(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(DataTable).focus()  # Enter: back to the rows, to pick one

    def on_input_changed(self, event: Input.Changed) -> None:
        self.fill(event.value)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        self.sort_column = str(event.column_key.value)
        self.fill(self.query_one(Input).value)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        key = str(event.row_key.value or "")
        if ":" in key:  # not the "no packages" row
            self.post_message(DrillDown(f"package:{key.split(':', 1)[1]}"))


class CategoriesTable(ClickToOpen):
    """One row per category (files, bytes, a bar); Enter or a click lists its files."""

    DEFAULT_CSS = "CategoriesTable { height: auto; max-height: 100%; }"

    def __init__(self, analysis: Analysis) -> None:
        super().__init__(id="categories-table", cursor_type="row", zebra_stripes=False)
        self.analysis = analysis

    def on_mount(self) -> None:
        totals = self.analysis.classification.totals
        self.add_columns("category", "files", "bytes", "")
        scale = max((t.bytes for t in totals.values()), default=0)
        for name in CATEGORY_ORDER:
            t = totals.get(name)
            if t is None or not t.files:
                self.add_row(Text(name, style="dim"), Text("—", style="dim"), "", "", key=name)
                continue
            self.add_row(name, Text(f"{t.files:,}", justify="right"),
                         Text(human(t.bytes), justify="right"),
                         Text(bar(t.bytes, scale, BAR_WIDTH), style="cyan"), key=name)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.post_message(DrillDown(f"category:{event.row_key.value}"))


def findings_text(analysis: Analysis) -> Text:
    text = Text()
    findings = analysis.classification.findings
    for name, items in findings.items():
        text.append(f"\n{name}: ", style="bold")
        text.append(f"{len(items)}\n" if items else "none\n", style="red" if items else "dim")
        for item in items[:50]:
            text.append(f"  {visible(item)}\n")
        if len(items) > 50:
            text.append(f"  … {len(items) - 50} more\n", style="dim")
    return text


class CategoriesPane(VerticalScroll, can_focus=False):
    """The category table (it takes the focus) and the findings below it."""

    def __init__(self, analysis: Analysis) -> None:
        super().__init__()
        self.analysis = analysis

    def compose(self) -> ComposeResult:
        if not self.analysis.classification.totals:
            yield Static(Text("No categories: the classifier found nothing to report.",
                              style="dim"))
        yield CategoriesTable(self.analysis)
        yield Static(findings_text(self.analysis), id="findings")


def config_text(analysis: Analysis) -> Table:
    cfg = analysis.config.get("config") or {}
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    image = analysis.image
    # a rich grid reads str cells as markup: every value is a Text, escaped line by line
    grid.add_row("reference", shown(image.reference))
    grid.add_row("platform", shown(image.platform))
    grid.add_row("manifest", shown(image.manifest_digest))
    grid.add_row("user", shown(cfg.get("User") or "(root)"))
    grid.add_row("workdir", shown(cfg.get("WorkingDir") or "/"))
    grid.add_row("entrypoint", Text(json.dumps(cfg.get("Entrypoint"))))  # JSON escapes
    grid.add_row("cmd", Text(json.dumps(cfg.get("Cmd"))))
    grid.add_row("env", Text("\n".join(map(visible, cfg.get("Env") or [])) or "—"))
    labels = cfg.get("Labels") or {}
    grid.add_row("labels", Text("\n".join(visible(f"{k}={v}") for k, v in sorted(labels.items()))
                                or "—"))
    history = Text()
    for layer, text in history_rows(analysis):
        style = "dim italic" if layer is None else ""
        history.append(f"{'·' if layer is None else layer + 1:>3} ", style="dim")
        history.append(line(text, 400) + "\n", style=style)
    grid.add_row("history", history)
    if analysis.notices:
        grid.add_row("warnings", Text("\n".join(map(visible, analysis.notices)), style="yellow"))
    return grid


class ConfigPane(VerticalScroll):
    def __init__(self, analysis: Analysis) -> None:
        super().__init__()
        self.analysis = analysis

    def compose(self) -> ComposeResult:
        yield Static(config_text(self.analysis))


class EfficiencyPane(Vertical):
    """dive's score and wasted bytes, what a squash would reclaim, the inefficient files."""

    DEFAULT_CSS = "EfficiencyPane > Static { height: auto; } EfficiencyPane DataTable { height: 1fr; }"

    def __init__(self, analysis: Analysis) -> None:
        super().__init__()
        self.analysis = analysis

    def compose(self) -> ComposeResult:
        e = self.analysis.efficiency
        text = Text.assemble(
            ("efficiency ", "bold"), f"{e.score * 100:.1f} %   ",
            ("wasted ", "bold"), f"{human(e.wasted_bytes)} (dive's count)   ",
            ("reclaimable ", "bold"), f"{human(e.reclaimable_bytes)} (by squashing)")
        yield Static(text)
        yield DataTable(id="inefficient-table", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("copies", "total", "path")
        for path, copies, total in self.analysis.efficiency.inefficient:
            table.add_row(str(copies), Text(human(total), justify="right"), shown(path))
        if not self.analysis.efficiency.inefficient:
            table.add_row("", "", Text("no file is written by more than one layer", style="dim"))
