"""Compare images side by side: sizes and categories in aligned columns, a verdict in
words, the package diff, and the file diff as one virtual tree per image with the cursor's
path followed in every column. The demo is this screen on the bundled samples plus a short
explanation."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.lazy import Lazy
from textual.widgets import DataTable, Footer, Label, Static, TabbedContent, TabPane

from inspector.analysis import Analysis
from inspector.compare import CompareResult, compare_analyses
from inspector.index.tree import ADDED, MODIFIED, DirTree, TreeRows
from inspector.tui.bindings import SCREEN
from inspector.tui.format import bar, human
from inspector.tui.screens.base import LoadingScreen
from inspector.tui.widgets.file_view import FileView
from inspector.tui.widgets.fit import FIT_DEMO, FitDemoAction
from inspector.tui.widgets.loading import LoadingPanel
from inspector.tui.widgets.prompt import PromptScreen

BAR_WIDTH = 14

DEMO_TEXT = """\
[b]What does distroless leave out?[/b] Left: Debian 12 slim, a minimal general-purpose \
base. Right: distroless static, only what a static binary needs (CA certificates, time \
zones, /etc/passwd). Each row is a category of files; a bar is its bytes, aligned across \
columns, so "present here, absent there" shows at a glance: no shell, no package manager, \
no core utilities means nothing for an attacker to run. Tabs: Packages and Files (the file \
diff; Tab switches columns). Press [b]a[/b] to add an image, [b]?[/b] for every key."""


def marks_against(base: Analysis, other: Analysis, is_base: bool, others: list[Analysis]):
    """Marks and ghosts of one column: green only here, yellow differs from the first
    image, red (a ghost) in the first image but missing here."""
    fs = other.fs
    marks: dict[str, str] = {}
    ghosts: dict[str, bool] = {}
    if is_base:
        rest = [a.fs.entries for a in others]
        for path in fs.entries:
            if not any(path in r for r in rest):
                marks[path] = ADDED
        return marks, ghosts
    bfs = base.fs
    for path in fs.entries:
        if path not in bfs.entries:
            marks[path] = ADDED
        elif (fs.kind(path), fs.size(path), fs.mode(path), fs.target(path)) != (
                bfs.kind(path), bfs.size(path), bfs.mode(path), bfs.target(path)):
            marks[path] = MODIFIED
    for path in bfs.entries:
        if path not in fs.entries:
            ghosts[path] = bfs.kind(path) == 5
    return marks, ghosts


def overview_table(result: CompareResult) -> Table:
    labels = result.labels
    table = Table(box=None, pad_edge=False, expand=False)
    table.add_column("")
    for label in labels:
        table.add_column(label, no_wrap=True, overflow="ellipsis")
    table.add_row("compressed", *[human(i.compressed_size) for i in result.images])
    table.add_row("uncompressed", *[human(i.uncompressed_size) for i in result.images])
    table.add_row("files", *[f"{i.files:,} · {human(i.file_bytes)}" for i in result.images])
    table.add_row("packages", *[f"{i.packages:,}" for i in result.images])
    table.add_row("layers", *[str(len(i.layers)) for i in result.images], end_section=True)
    scale = max((c.bytes for row in result.categories for c in row.per_image), default=0)
    for row in result.categories:
        cells = []
        for c in row.per_image:
            if not c.files:
                cells.append(Text("absent", style="dim red" if row.differs else "dim"))
                continue
            t = Text(bar(c.bytes, scale, BAR_WIDTH).ljust(BAR_WIDTH), style="cyan")
            t.append(f" {c.files:,} · {human(c.bytes)}")
            cells.append(t)
        table.add_row(Text(row.name, style="bold" if row.differs else ""), *cells)
    return table


def verdict_text(result: CompareResult) -> Text:
    text = Text()
    labels = result.labels
    files = result.files
    base = labels[0]
    for i, label in enumerate(labels[1:], start=1):
        gone = files.only_in[0]
        nbytes = sum(f.size for f in gone)
        text.append(f"{label}", style="bold")
        text.append(f" leaves out {len(gone):,} files ({human(nbytes)}) of {base}"
                    if i == 1 or len(labels) == 2 else f" vs {base}")
        text.append(f" and adds {len(files.only_in[i]):,} of its own.\n")
    text.append(f"{files.common:,} files identical, {len(files.changed):,} differ.\n")
    for line in result.verdicts:
        text.append(f"• {line}\n")
    return text


class CompareView(Vertical):
    DEFAULT_CSS = """
    CompareView { height: 1fr; }
    CompareView TabbedContent, CompareView ContentSwitcher { height: 1fr; }
    CompareView #demo-intro { border: round $accent; padding: 0 1; margin-bottom: 1; }
    CompareView .column { width: 1fr; }
    CompareView .column Label { width: 1fr; background: $boost; text-style: bold; }
    CompareView #legend { height: 1; color: $text-muted; }
    CompareView #packages-diff { height: 1fr; }
    """

    def __init__(self, analyses: list[Analysis], demo: bool) -> None:
        super().__init__()
        self.analyses = analyses
        self.demo = demo
        self.result = compare_analyses(analyses)

    def compose(self) -> ComposeResult:
        with TabbedContent(id="tabs"):
            with TabPane("Overview", id="tab-overview"), VerticalScroll():
                if self.demo:
                    yield Static(DEMO_TEXT, id="demo-intro")
                yield Static(overview_table(self.result), id="columns")
                yield Static(verdict_text(self.result), id="verdict")
            with TabPane("Packages", id="tab-packages"):
                yield Lazy(DataTable(id="packages-diff", cursor_type="row"))
            with TabPane("Files", id="tab-files"):
                yield Static(" + only here   ~ differs from the first image   "
                             "- in the first image, missing here", id="legend")
                with Horizontal():
                    for i, label in enumerate(self.result.labels):
                        with Vertical(classes="column"):
                            yield Label(f" {label}")
                            yield FileView(id=f"files-{i}")

    def on_mount(self) -> None:
        for i, a in enumerate(self.analyses):
            others = [o for j, o in enumerate(self.analyses) if j != i]
            marks, ghosts = marks_against(self.analyses[0], a, i == 0, others)
            view = self.query_one(f"#files-{i}", FileView)
            view.set_rows(TreeRows(DirTree(a.fs, ghosts=ghosts, marks=marks)))

    @on(TabbedContent.TabActivated)
    def _tab(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "tab-packages":
            self.call_after_refresh(self.fill_packages)

    def fill_packages(self) -> None:
        table = self.query_one("#packages-diff", DataTable)
        if table.row_count:
            return
        labels = self.result.labels
        pk = self.result.packages
        table.add_columns("package", *labels, "where")
        for i, only in enumerate(pk.only_in):
            for p in only:
                cells = [p.version if j == i else "—" for j in range(len(labels))]
                table.add_row(p.name, *cells, f"only {labels[i]}")
        for change in pk.version_changed:
            table.add_row(change.name, *[v or "—" for v in change.versions], "version differs")
        for p in pk.common:
            table.add_row(p.name, *[p.version] * len(labels), "same")
        if not table.row_count:
            table.add_row("no packages found", *[""] * len(labels), "")

    @on(FileView.CursorMoved)
    def _follow(self, event: FileView.CursorMoved) -> None:
        """The focused column leads; the others show the same path (or its nearest
        ancestor)."""
        if not event.view.has_focus or event.path is None:
            return
        for view in self.query(FileView):
            if view is not event.view:
                view.go_to(event.path)


class CompareScreen(FitDemoAction, LoadingScreen):
    BINDINGS = [*SCREEN, FIT_DEMO]

    def __init__(self, references: list[str], demo: bool = False) -> None:
        super().__init__()
        self.references = list(references)
        self.demo = demo

    def compose(self) -> ComposeResult:
        yield Static(Text(" vs ".join(self.references), style="bold"), id="title")
        yield LoadingPanel(self.references, id="loading")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_view()

    def refresh_view(self) -> None:
        """Load what is missing, then (re)build the comparison of everything loaded."""
        missing = [r for r in self.references if self.analysis_for(r) is None]
        for ref in missing:
            self.start_load(ref)
        if not self.pending:
            self.show_comparison()

    def show_comparison(self) -> None:
        self.call_later(self._rebuild)

    async def _rebuild(self) -> None:
        analyses = [a for r in self.references if (a := self.analysis_for(r)) is not None]
        self.references = [a.reference for a in analyses]
        self.query_one("#title", Static).update(Text(
            "compare: " + " vs ".join(self.references) if len(analyses) > 1 else
            (self.references[0] if analyses else "nothing to compare"), style="bold"))
        await self.query(CompareView).remove()
        if not analyses:
            return
        self.query_one(LoadingPanel).display = False
        await self.mount(CompareView(analyses, self.demo), before=self.query_one(Footer))

    def loaded(self, reference: str) -> None:
        if not self.pending:
            self.show_comparison()

    def failed(self, reference: str) -> None:
        if reference in self.references and self.analysis_for(reference) is None:
            self.references.remove(reference)
        if not self.pending and any(self.analysis_for(r) for r in self.references):
            self.show_comparison()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "layer_changes":
            return False
        if action == "remove_image":
            return len(self.references) > 1
        return True

    def _show_loading(self, references: list[str]) -> None:
        panel = self.query_one(LoadingPanel)
        panel.reset(references)
        panel.display = True

    def action_add_image(self) -> None:
        def add(ref: str | None) -> None:
            if ref and ref not in self.references:
                self.references.append(ref)
                if self.analysis_for(ref) is None:
                    self._show_loading([ref])
                self.refresh_view()

        self.app.push_screen(PromptScreen("Add image (reference)", id="add-prompt"), add)

    def action_remove_image(self) -> None:
        def remove(answer: str | None) -> None:
            if not answer:
                return
            refs = self.references
            target = refs[int(answer) - 1] if answer.isdigit() and 0 < int(answer) <= len(refs) \
                else answer if answer in refs else None
            if target is None:
                self.notify(f"no image {answer!r} in the comparison", severity="warning")
                return
            refs.remove(target)
            self.show_comparison()

        listing = ", ".join(f"{i}={r}" for i, r in enumerate(self.references, start=1))
        self.app.push_screen(PromptScreen(f"Remove which image? {listing}", id="remove-prompt"),
                             remove)
