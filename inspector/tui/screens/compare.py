"""Compare images side by side: sizes and categories in aligned columns, a verdict in
words, the package diff, and the file diff as one virtual tree per image with the cursor's
path followed in every column. The demo is this screen on the bundled samples plus a short
explanation."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.lazy import Lazy
from textual.message import Message
from textual.widgets import DataTable, Footer, Label, Static, TabbedContent, TabPane

from inspector.analysis import Analysis
from inspector.compare import compare_analyses
from inspector.content import link_target
from inspector.index.tree import TreeRows
from inspector.options import Options
from inspector.tui.binary import Blob, Content, file_content
from inspector.tui.bindings import COMPARE, PACKAGES_DIFF, SCREEN, TAB_KEYS
from inspector.tui.overview import (
    compare_rows,
    intro_text,
    layers_text,
    runs_as_text,
    verdict_text,
    vuln_sentences,
)
from inspector.tui.paths import column_trees, resolver
from inspector.tui.scan import ScanInput, lay_over
from inspector.tui.screens.base import (
    KeysFooter,
    LoadingScreen,
    TooSmall,
    tab_bars_unfocusable,
)
from inspector.tui.state import inspector_app
from inspector.tui.widgets.columns import (
    Column,
    OverviewTable,
    PackagesDiff,
    legend_text,
    status_text,
)
from inspector.tui.widgets.file_view import FileView
from inspector.tui.widgets.fit import FIT_DEMO
from inspector.tui.widgets.loading import LoadingPanel
from inspector.tui.widgets.panes import Line
from inspector.visible import visible


@dataclass
class ColumnsRead(Message):
    """A path read in every image (by the ``read_all`` worker), for the side-by-side view:
    ``columns`` is (image label, content) per image, ``follow`` the one symlink target
    they share (else None)."""

    path: str
    columns: list[tuple[str, Content]]
    follow: str | None


class CompareView(Vertical):
    BINDINGS = [*PACKAGES_DIFF]
    DEFAULT_CSS = """
    CompareView { height: 1fr; }
    CompareView TabbedContent, CompareView ContentSwitcher { height: 1fr; }
    CompareView #intro { border: round $accent; padding: 0 1; margin-bottom: 1; }
    CompareView #file-columns { height: 1fr; }
    CompareView .column { width: 1fr; height: 1fr; }
    CompareView .column Label { width: 1fr; height: 1; background: $boost; text-style: bold; }
    CompareView .column FileView { height: 1fr; }
    CompareView #legend { height: 1; color: $text-muted; }
    CompareView #compare-status { height: 1; background: $boost; color: $text-muted; }
    CompareView #packages-diff { height: 1fr; }
    CompareView #packages-note { height: 1; background: $boost; color: $text-muted; }
    """

    def __init__(self, analyses: list[Analysis], demo: bool, intro: bool = True,
                 scan: ScanInput | None = None, options: Options | None = None) -> None:
        super().__init__()
        self.analyses = analyses
        self.demo = demo
        self.intro = intro  # the intro box shows (``i`` toggles it)
        self.result = compare_analyses(analyses)
        #: ``--vulns`` overlays per image (None: no reports); what could not be laid over
        self.vulns, self.scan_problem = lay_over(self.result, analyses, scan or ScanInput(),
                                                 options or Options())
        self._opening_row: int | None = None  # see on_mount

    def compose(self) -> ComposeResult:
        labels = [visible(label) for label in self.result.labels]
        with TabbedContent(id="tabs"):
            with TabPane("Overview", id="tab-overview"), VerticalScroll(id="overview-scroll"):
                intro = Static(intro_text(self.result.labels), id="intro")
                intro.display = self.intro
                yield intro
                yield OverviewTable(id="overview", cursor_type="row", zebra_stripes=False)
                yield Static(verdict_text(self.result).append_text(
                    vuln_sentences(self.vulns, self.result.labels)), id="verdict")
            with TabPane("Packages", id="tab-packages"):
                note = Line(id="packages-note")
                note.display = False
                yield note
                yield Lazy(PackagesDiff(self.result, self.vulns, id="packages-diff"))
            with TabPane("Files", id="tab-files"):
                yield Static(legend_text(self.result.labels, 0), id="legend")
                yield Line(id="compare-status")
                with Horizontal(id="file-columns"):
                    for i, label in enumerate(labels):
                        with Vertical(classes="column"):
                            yield Label(Text(f" {label}"))
                            yield Column(id=f"files-{i}")

    def on_mount(self) -> None:
        table = self.query_one("#overview", DataTable)
        table.add_column("", key="row")
        for label in self.result.labels:
            table.add_column(Text(visible(label)))
        rows = compare_rows(self.result, self.vulns, self.app.size.width)
        if self.scan_problem:
            self.notify(visible(self.scan_problem), severity="warning", markup=False, timeout=10)
        for row in rows:
            table.add_row(row.name, *row.cells, key=row.key)
        resolve = resolver(self.analyses)
        for i, tree in enumerate(column_trees(self.analyses)):
            view = self.query_one(f"#files-{i}", FileView)
            view.resolve = resolve
            view.set_rows(TreeRows(tree))
        tab_bars_unfocusable(self)
        # the table takes the keys and scrolls its container (the verdict below it too);
        # the cursor starts on the first category, so Enter lists its files at once
        self.query_one("#overview-scroll").can_focus = False
        first = next((n for n, row in enumerate(rows) if row.key.startswith("cat:")), 0)
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
        # the table is inside a scroll: keep its cursor row in view
        scroll = self.query_one("#overview-scroll", VerticalScroll)
        if self._opening_row is not None:
            if event.cursor_row == self._opening_row:
                self._opening_row = None
            scroll.scroll_home(animate=False)
            return
        self.query_one("#overview", OverviewTable).keep_in_view(scroll, event.cursor_row)

    @on(DataTable.RowSelected, "#overview")
    def _overview_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a row opens its evidence: a category's files, what an image leaves out
        of the first (``:missing`` in its column) or adds (``:only``), a security set's
        files, /etc/passwd, the users and commands, the layers."""
        key = str(event.row_key.value)
        kind, _, name = key.partition(":")
        if kind == "cat":
            self.show_files(f"category:{name}")
        elif kind in ("out", "add"):
            self.show_files(":missing" if kind == "out" else ":only", leader=int(name))
            self.query_one(f"#files-{name}", FileView).action_expand_all()  # every path
        elif key in ("sec:setuid", "sec:world_writable", "sec:executables", "sec:interpreters"):
            self.show_files(f"finding:{name}")
        elif kind in ("vulns", "vdrop", "scanner") and self.vulns:
            self.fill_packages(vulnerable_only=True)
            self.query_one(TabbedContent).active = "tab-packages"
            for table in self.query("#packages-diff").results(DataTable):
                table.focus()
        elif key == "sec:login_users":
            self.show_files("/etc/passwd")
            self.view_everywhere("/etc/passwd")
        elif key == "sec:runs_as":
            inspector_app(self).view_content(
                "who each image runs as", columns=runs_as_text(
                    self.result, [a.config for a in self.analyses]))
        elif key == "sec:shared_layers":
            inspector_app(self).view_content("layers, base first (shared ones named)",
                                             columns=layers_text(self.result))

    @on(DataTable.RowSelected, "#packages-diff")
    def _package_selected(self, event: DataTable.RowSelected) -> None:
        name = self.query_one(PackagesDiff).names.get(str(event.row_key.value))
        if name:
            self.show_files(f"package:{name}")

    def show_files(self, term: str, leader: int = 0) -> None:
        """The Files tab filtered by ``term`` in every column (column ``leader`` leads:
        its marks are the filter's)."""
        self.query_one(TabbedContent).active = "tab-files"
        view = self.query_one(f"#files-{leader}", FileView)
        view.focus()
        if view.apply_filter(term):
            view.move_cursor(0, force=True)

    @on(TabbedContent.TabActivated)
    def _tab(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "tab-packages":
            self.call_after_refresh(self.fill_packages)
        self.refresh_bindings()  # Esc "every package" is the Packages tab's

    def fill_packages(self, vulnerable_only: bool = False, retried: bool = False) -> None:
        """The Packages tab: every package, or only those with findings (a tab switch
        does not undo "only the vulnerable ones")."""
        table = next(iter(self.query("#packages-diff").results(PackagesDiff)), None)
        if table is None:  # not mounted yet (Lazy), or this view is being replaced
            if self.is_attached and not retried:
                self.call_after_refresh(self.fill_packages, vulnerable_only, True)
            return
        if table.vulnerable_only is None or vulnerable_only:
            table.fill(vulnerable_only)
        note = self.query_one("#packages-note", Line)
        note.display = bool(table.vulnerable_only)
        note.update(Text(" only the packages with findings, most first · Esc: every package"))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "all_packages":  # only while the Packages tab shows the vulnerable ones
            table = next(iter(self.query("#packages-diff").results(PackagesDiff)), None)
            return bool(table is not None and table.vulnerable_only
                        and self.query_one(TabbedContent).active == "tab-packages")
        return True

    def action_all_packages(self) -> None:
        """Esc: the Packages tab lists every package again (after Enter on the Overview's
        vulnerabilities row listed only those with findings)."""
        for table in self.query("#packages-diff").results(PackagesDiff):
            table.fill(False)
        self.fill_packages()

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
        """What the columns show: whose column the cursor is in and what its marks are
        against, the filter, the sort, the rows."""
        m = leader.model
        if m is None:
            return
        n = int(str(leader.id).removeprefix("files-"))
        self.query_one("#legend", Static).update(legend_text(self.result.labels, n))
        self.query_one("#compare-status", Line).update(status_text(self.result.labels, n, leader))

    # ---- v: the path in every image ---------------------------------------------------
    @on(FileView.ViewRequested)
    def _view(self, event: FileView.ViewRequested) -> None:
        self.view_everywhere(event.path)

    def view_everywhere(self, path: str) -> None:
        self.notify(f"reading {visible(path)} in {len(self.analyses)} images…", timeout=2,
                    markup=False)
        self.read_all(path)

    @work(thread=True, group="content", exit_on_error=False)
    def read_all(self, path: str) -> None:
        columns: list[tuple[str, Content]] = [
            (label, file_content(a.image, a.fs, path))
            for label, a in zip(self.result.labels, self.analyses, strict=True)]
        targets = {t for a in self.analyses if (t := link_target(a.fs, path))}
        follow = targets.pop() if len(targets) == 1 else None
        self.post_message(ColumnsRead(path, columns, follow))

    @on(ColumnsRead)
    def show_columns(self, message: ColumnsRead) -> None:
        for _, column in message.columns:
            for notice in column.notices if isinstance(column, Blob) else ():
                self.notify(visible(notice), severity="warning", timeout=10, markup=False)
        def followed(target: str | None) -> None:
            if target is not None:
                view = self.query_one("#files-0", FileView)
                view.focus()
                view.go_to(target)
                self.read_all(target)

        inspector_app(self).view_content(message.path, columns=message.columns,
                                         follow=message.follow, then=followed)


class CompareScreen(LoadingScreen):
    BINDINGS = [*SCREEN, *TAB_KEYS, *COMPARE, FIT_DEMO]

    #: the intro box shows below this height only when asked for (``i``)
    INTRO_MIN_HEIGHT = 20

    def __init__(self, references: list[str], demo: bool = False) -> None:
        super().__init__()
        self.references = list(references)
        self.demo = demo
        self.intro: bool | None = None  # None: shown when the terminal has room

    def compose(self) -> ComposeResult:
        yield TooSmall(id="too-small")
        yield Static(Text(" vs ".join(map(visible, self.references)), style="bold"), id="title")
        yield LoadingPanel(self.references, id="loading")
        yield KeysFooter()

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
        shown = [visible(r) for r in self.references]
        self.query_one("#title", Static).update(Text(
            "compare: " + " vs ".join(shown) if len(analyses) > 1 else
            (shown[0] if analyses else "nothing to compare"), style="bold"))
        await self.query(CompareView).remove()
        if not analyses:
            return
        self.query_one(LoadingPanel).display = False
        intro = self.intro if self.intro is not None else (
            self.app.size.height >= self.INTRO_MIN_HEIGHT)
        app = inspector_app(self)
        await self.mount(CompareView(analyses, self.demo, intro, app.scan, app.options),
                         before=self.query_one(Footer))

    def action_toggle_intro(self) -> None:
        for box in self.query("#intro"):
            self.intro = not box.display
            box.display = self.intro


    def loaded(self, reference: str) -> None:
        if not self.pending:
            self.show_comparison()

    def failed(self, reference: str) -> None:
        if reference in self.references and self.analysis_for(reference) is None:
            self.references.remove(reference)
        if not self.pending and any(self.analysis_for(r) for r in self.references):
            self.show_comparison()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "remove_image":
            return len(self.references) > 1
        return True

    def action_fit_demo(self) -> None:
        """``f``: the fit of the first image on screen, the demo app offered beside it."""
        label = next((v.result.labels[0] for v in self.query(CompareView)), self.references[0])
        inspector_app(self).open_fit(self.references[0], label)

    def markdown(self) -> tuple[list[str], str, str] | None:
        """The Overview and Packages tabs: the compare report; Files: its rows."""
        from inspector.tui.export import files_markdown, report_markdown

        view = next(iter(self.query(CompareView)), None)
        if view is None:
            return None
        labels = view.result.labels
        if view.query_one(TabbedContent).active != "tab-files":
            return labels, "report", report_markdown(view.result)
        columns = list(view.query(Column))
        leader = next((c for c in columns if c.has_focus), columns[0])
        models = [c.model for c in columns if c.model is not None]
        title = " vs ".join(labels) + " — files"
        return labels, "files", files_markdown(title, leader.filter_text, labels, models)

    def html(self) -> tuple[list[str], str] | None:
        from inspector.report.html import render_compare

        view = next(iter(self.query(CompareView)), None)
        if view is None:
            return None
        return view.result.labels, render_compare(view.result, view.analyses)

    def action_layer_changes(self, only: bool) -> None:
        """Ctrl+L / Ctrl+A are inspect's: say so rather than do nothing."""
        self.notify(f"{'Ctrl+L' if only else 'Ctrl+A'} shows one image's layers in inspect "
                    "(inspector IMAGE); here, Enter on the Overview's \"shared layers\" "
                    "lists each image's layers", severity="warning", timeout=6)

    def _show_loading(self, references: list[str]) -> None:
        panel = self.query_one(LoadingPanel)
        panel.reset(references)
        panel.display = True

    def action_add_image(self) -> None:
        def add(ref: str) -> None:
            if ref not in self.references:
                self.references.append(ref)
                if self.analysis_for(ref) is None:
                    self._show_loading([ref])
                self.refresh_view()

        inspector_app(self).ask_image("Add an image", add)

    def action_remove_image(self) -> None:
        def remove(answer: str | None) -> None:
            if not answer:
                return
            refs = self.references
            target = refs[int(answer) - 1] if answer.isdigit() and 0 < int(answer) <= len(refs) \
                else answer if answer in refs else None
            if target is None:
                self.notify(f"no image {visible(answer)!r} in the comparison",
                            severity="warning", markup=False)
                return
            refs.remove(target)
            self.show_comparison()

        listing = ", ".join(f"{i}={visible(r)}" for i, r in enumerate(self.references, start=1))
        inspector_app(self).ask(f"Remove which image? {listing}", "", id="remove-prompt",
                                then=remove)
