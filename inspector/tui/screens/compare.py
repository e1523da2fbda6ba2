"""Compare images side by side: sizes and categories in aligned columns, a verdict in
words, the package diff, and the file diff as one virtual tree per image with the cursor's
path followed in every column. The demo is this screen on the bundled samples plus a short
explanation."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.lazy import Lazy
from textual.widgets import DataTable, Footer, Label, Static, TabbedContent, TabPane

from inspector.analysis import Analysis
from inspector.compare import CompareResult, compare_analyses
from inspector.content import link_target, view_text
from inspector.index.tree import TreeRows
from inspector.tui.bindings import SCREEN, TAB_KEYS
from inspector.tui.format import bar, human
from inspector.tui.paths import column_trees, resolver
from inspector.tui.screens.base import LoadingScreen, tab_bars_unfocusable
from inspector.tui.widgets.file_view import FileView
from inspector.tui.widgets.fit import FIT_DEMO, FitDemoAction
from inspector.tui.widgets.loading import LoadingPanel
from inspector.tui.widgets.panes import Line
from inspector.tui.widgets.prompt import (
    ContentScreen,
    PromptScreen,
    image_prompt,
    image_reference,
)
from inspector.tui.widgets.tabs import ClickToOpen

BAR_WIDTH = 14

def demo_text(labels: list[str]) -> str:
    """The demo's explanation, naming the columns actually shown (after ``a``/``x`` too);
    short, so the category rows still show at 80x24."""
    if len(labels) == 2:
        cols = f"Left: [b]{labels[0]}[/b]. Right: [b]{labels[1]}[/b]."
    else:
        cols = " ".join(f"Column {n}: [b]{label}[/b]." for n, label in enumerate(labels, 1))
    question = (f"What does {', '.join(labels[1:])} leave out of {labels[0]}?"
                if len(labels) > 1 else f"What is in {labels[0]}?")
    return (f"[b]{question}[/b] {cols} Each row is a category of files, its bar the bytes "
            "on one scale, so \"present here, absent there\" shows at a glance: no shell, "
            "no package manager, no core utilities leaves nothing for an attacker to run. "
            "[b]↑↓ Enter[/b] open a category's files; [b]1[/b] Overview [b]2[/b] Packages "
            "[b]3[/b] Files ([b]v[/b] views a file in every image); [b]a[/b] adds an image, "
            "[b]?[/b] every key.")


def bar_width(screen_width: int, images: int) -> int:
    """Cells of a category bar so that every column fits (``BAR_WIDTH`` when there is room;
    a cell's text after the bar takes about 16 cells, the row names about 20)."""
    return max(3, min(BAR_WIDTH, (screen_width - 20) // max(1, images) - 18))


def overview_rows(result: CompareResult,
                  width: int = BAR_WIDTH) -> list[tuple[str, list[str | Text]]]:
    """(row key, cells) of the overview: sizes, then one row per category (key
    ``cat:NAME``) with a bar of its bytes on one scale across the images."""
    ims = result.images
    rows: list[tuple[str, list[str | Text]]] = [
        ("compressed", [human(i.compressed_size) for i in ims]),
        ("uncompressed", [human(i.uncompressed_size) for i in ims]),
        ("files", [f"{i.files:,} · {human(i.file_bytes)}" for i in ims]),
        ("packages", [f"{i.packages:,}" for i in ims]),
        ("layers", [str(len(i.layers)) for i in ims]),
    ]
    scale = max((c.bytes for row in result.categories for c in row.per_image), default=0)
    for row in result.categories:
        cells: list[str | Text] = []
        for c in row.per_image:
            if not c.files:
                cells.append(Text("absent", style="dim red" if row.differs else "dim"))
                continue
            t = Text(bar(c.bytes, scale, width).ljust(width), style="cyan")
            t.append(f" {c.files:,} · {human(c.bytes)}")
            cells.append(t)
        rows.append((f"cat:{row.name}", cells))
    return rows


def verdict_text(result: CompareResult) -> Text:
    """Each image against the first, pairwise (the compare model's ``pairs`` when it has
    them), then the category verdicts."""
    text = Text()
    labels = result.labels
    pairs = getattr(result, "pairs", None)
    if pairs:
        for pair in pairs:
            text.append(pair.sentence(labels) + "\n")
    elif len(labels) == 2:
        files = result.files
        gone = files.only_in[0]
        text.append(labels[1], style="bold")
        text.append(f" leaves out {len(gone):,} files ({human(sum(f.size for f in gone))}) "
                    f"of {labels[0]} and adds {len(files.only_in[1]):,} of its own.\n")
        text.append(f"{files.common:,} files identical, {len(files.changed):,} differ.\n")
    for line in result.verdicts:
        text.append(f"• {line}\n")
    return text


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


class CompareView(Vertical):
    DEFAULT_CSS = """
    CompareView { height: 1fr; }
    CompareView TabbedContent, CompareView ContentSwitcher { height: 1fr; }
    CompareView #demo-intro { border: round $accent; padding: 0 1; margin-bottom: 1; }
    CompareView #file-columns { height: 1fr; }
    CompareView .column { width: 1fr; height: 1fr; }
    CompareView .column Label { width: 1fr; height: 1; background: $boost; text-style: bold; }
    CompareView .column FileView { height: 1fr; }
    CompareView #legend { height: 1; color: $text-muted; }
    CompareView #compare-status { height: 1; background: $boost; color: $text-muted; }
    CompareView #packages-diff { height: 1fr; }
    """

    def __init__(self, analyses: list[Analysis], demo: bool) -> None:
        super().__init__()
        self.analyses = analyses
        self.demo = demo
        self.result = compare_analyses(analyses)
        self.package_keys: dict[str, str] = {}  # packages-diff row key → package name
        self._opening_row: int | None = None  # see on_mount

    def compose(self) -> ComposeResult:
        labels = self.result.labels
        with TabbedContent(id="tabs"):
            with TabPane("Overview", id="tab-overview"), VerticalScroll(id="overview-scroll"):
                if self.demo:
                    yield Static(demo_text(labels), id="demo-intro")
                yield OverviewTable(id="overview", cursor_type="row", zebra_stripes=False)
                yield Static(verdict_text(self.result), id="verdict")
            with TabPane("Packages", id="tab-packages"):
                yield Lazy(ClickToOpen(id="packages-diff", cursor_type="row"))
            with TabPane("Files", id="tab-files"):
                yield Static(" + only here   ~ differs from the first image   "
                             "- in the first image, missing here   dim: only in others",
                             id="legend")
                yield Line(id="compare-status")
                with Horizontal(id="file-columns"):
                    for i, label in enumerate(labels):
                        with Vertical(classes="column"):
                            yield Label(f" {label}")
                            yield FileView(id=f"files-{i}")

    def on_mount(self) -> None:
        table = self.query_one("#overview", DataTable)
        table.add_column("", key="row")
        for label in self.result.labels:
            table.add_column(label)
        width = bar_width(self.app.size.width, len(self.analyses))
        for key, cells in overview_rows(self.result, width):
            name = key.removeprefix("cat:")
            bold = key.startswith("cat:") and any(
                r.differs for r in self.result.categories if r.name == name)
            table.add_row(Text(name, style="bold" if bold else ""), *cells, key=key)
        resolve = resolver(self.analyses)
        for i, tree in enumerate(column_trees(self.analyses)):
            view = self.query_one(f"#files-{i}", FileView)
            view.resolve = resolve
            view.set_rows(TreeRows(tree))
        tab_bars_unfocusable(self)
        # the table takes the keys and scrolls its container (the verdict below it too);
        # the cursor starts on the first category, so Enter lists its files at once
        self.query_one("#overview-scroll").can_focus = False
        first = next((n for n, (key, _) in enumerate(overview_rows(self.result))
                      if key.startswith("cat:")), 0)
        table.focus()  # arrows, PgDn and Enter work at once (nothing had focus)
        scroll = self.query_one("#overview-scroll", VerticalScroll)

        # the highlights until the cursor reaches its first row (filling the table highlights
        # row 0 too) show the intro, whenever their messages arrive: the opening picture
        # does not depend on timing
        self._opening_row = first

        def start() -> None:
            # after the layout, so the table knows its height and scrolls (or not) the same
            # way every time; then the intro first
            table.move_cursor(row=first, animate=False)
            scroll.scroll_home(animate=False)

        self.call_after_refresh(start)

    @on(DataTable.RowHighlighted, "#overview")
    def _overview_row(self, event: DataTable.RowHighlighted) -> None:
        # the table is inside a scroll: keep its cursor row, and the verdict after the
        # last row, in view (at 80x24 the verdict is below the fold)
        scroll = self.query_one("#overview-scroll", VerticalScroll)
        if self._opening_row is not None:
            if event.cursor_row == self._opening_row:
                self._opening_row = None
            scroll.scroll_home(animate=False)
            return
        if event.cursor_row >= event.data_table.row_count - 1:
            scroll.scroll_end(animate=False)
        elif event.cursor_row <= 0:
            scroll.scroll_home(animate=False)
        else:
            region = event.data_table.region
            row_y = region.y + 1 + event.cursor_row  # under the header
            top, bottom = scroll.region.y, scroll.region.bottom
            if row_y >= bottom:
                scroll.scroll_relative(y=row_y - bottom + 1, animate=False)
            elif row_y < top:
                scroll.scroll_relative(y=row_y - top, animate=False)

    @on(DataTable.RowSelected, "#overview")
    def _overview_selected(self, event: DataTable.RowSelected) -> None:
        key = str(event.row_key.value)
        if key.startswith("cat:"):
            self.show_files(f"category:{key.removeprefix('cat:')}")

    @on(DataTable.RowSelected, "#packages-diff")
    def _package_selected(self, event: DataTable.RowSelected) -> None:
        name = self.package_keys.get(str(event.row_key.value))
        if name:
            self.show_files(f"package:{name}")

    def show_files(self, term: str) -> None:
        """The Files tab filtered by ``term`` in every column (the first leads)."""
        self.query_one(TabbedContent).active = "tab-files"
        view = self.query_one("#files-0", FileView)
        view.focus()
        if view.apply_filter(term):
            view.move_cursor(0, force=True)

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

        def add(name: str, cells: list[str], where: str) -> None:
            key = f"p{len(self.package_keys)}"
            self.package_keys[key] = name
            table.add_row(name, *cells, where, key=key)

        table.add_columns("package", *(f"{label} (version · size)" for label in labels),
                          "where")
        def cell(version: str | None, size: int | None) -> str:
            return "—" if version is None else f"{version} · {human(size)}"

        for i, only in enumerate(pk.only_in):
            for p in only:
                add(p.name, [cell(p.version, p.size) if j == i else "—"
                             for j in range(len(labels))], f"only {labels[i]}")
        for change in pk.version_changed:
            add(change.name, [cell(v, n) for v, n in zip(change.versions, change.sizes,
                                                          strict=True)], "version differs")
        for p in pk.common:
            add(p.name, [cell(p.version, p.size)] * len(labels), "same")
        if not table.row_count:
            table.add_row("no packages found", *[""] * len(labels), "")

    @on(FileView.ViewChanged)
    def _mirror(self, event: FileView.ViewChanged) -> None:
        """The focused column leads; the others show the same rows, scrolled alike."""
        if not event.view.has_focus:
            return
        for view in self.query(FileView):
            if view is not event.view:
                view.mirror(event.view)
        self.update_status(event.view)

    def on_descendant_focus(self, event) -> None:
        if isinstance(event.widget, FileView):  # the focused column leads from now on
            self.update_status(event.widget)

    def update_status(self, leader: FileView) -> None:
        """What the columns show: the leading column, the filter, the sort, the rows."""
        m = leader.model
        if m is None:
            return
        n = int(str(leader.id).removeprefix("files-"))
        parts = [f"led by {self.result.labels[n]}", f"sort: {m.sort}"]
        if leader.filter_text:
            parts.append(f"filter: {leader.filter_text}")
        if leader.hidden_marks:
            parts.append("hidden: " + " ".join(sorted(k or "unmodified"
                                                      for k in leader.hidden_marks)))
        parts.append(f"row {leader.cursor + 1:,}/{len(m.rows):,}")
        self.query_one("#compare-status", Line).update(" " + " · ".join(parts))

    # ---- v: the path in every image ---------------------------------------------------
    @on(FileView.ViewRequested)
    def _view(self, event: FileView.ViewRequested) -> None:
        self.notify(f"reading {event.path} in {len(self.analyses)} images…", timeout=2)
        self.read_all(event.path)

    @work(thread=True, group="content", exit_on_error=False)
    def read_all(self, path: str) -> None:
        columns = [(label, view_text(a.image, a.fs, path))
                   for label, a in zip(self.result.labels, self.analyses, strict=True)]
        targets = {t for a in self.analyses if (t := link_target(a.fs, path))}
        follow = targets.pop() if len(targets) == 1 else None
        self.app.call_from_thread(self.show_columns, path, columns, follow)

    def show_columns(self, path: str, columns: list[tuple[str, str]],
                     follow: str | None) -> None:
        def followed(target: str | None) -> None:
            if target is not None:
                view = self.query_one("#files-0", FileView)
                view.focus()
                view.go_to(target)
                self.read_all(target)

        self.app.push_screen(ContentScreen(path, columns=columns, follow=follow), followed)


class CompareScreen(FitDemoAction, LoadingScreen):
    BINDINGS = [*SCREEN, *TAB_KEYS, FIT_DEMO]

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
        def add(answer: str | None) -> None:
            ref = image_reference(answer or "")
            if ref and ref not in self.references:
                self.references.append(ref)
                if self.analysis_for(ref) is None:
                    self._show_loading([ref])
                self.refresh_view()

        self.app.push_screen(image_prompt("Add an image"), add)

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
