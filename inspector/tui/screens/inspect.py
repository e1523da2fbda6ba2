"""Inspect one image: layers, the file tree as of the selected layer, details, and tabs for
packages, categories, config & history and efficiency."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.coordinate import Coordinate
from textual.lazy import Lazy
from textual.message import Message
from textual.widgets import DataTable, Footer, Static, TabbedContent, TabPane

from inspector.analysis import Analysis
from inspector.content import data_path, link_target
from inspector.errors import InspectorError
from inspector.index.entries import DIR, SYMLINK
from inspector.index.tree import ADDED, MODIFIED, REMOVED, DirTree, TreeRows, layer_marks
from inspector.tui.binary import Blob, read_blob
from inspector.tui.bindings import INSPECT, SCREEN, TAB_KEYS
from inspector.tui.format import human
from inspector.tui.messages import DrillDown
from inspector.tui.paths import resolver
from inspector.tui.scan import image_overlay
from inspector.tui.screens.base import (
    KeysFooter,
    LoadingScreen,
    TooSmall,
    tab_bars_unfocusable,
)
from inspector.tui.state import inspector_app
from inspector.tui.widgets.file_view import FileView
from inspector.tui.widgets.fit import FitPane
from inspector.tui.widgets.loading import LoadingPanel
from inspector.tui.widgets.panes import Details, LayersTable, Line
from inspector.tui.widgets.tabs import CategoriesPane, ConfigPane, EfficiencyPane, PackagesPane
from inspector.visible import visible
from inspector.vulns import Overlay

ALL_MARKS = frozenset({ADDED, MODIFIED, REMOVED})


def title_text(a: Analysis) -> Text:
    n = len(a.layers)
    return Text.assemble(
        (visible(a.reference), "bold"), f"  {visible(a.image.platform)} · ",
        f"{human(a.compressed_size)} compressed · {human(a.uncompressed_size)} uncompressed · ",
        f"{len(a.fs):,} entries · {n} layer{'s' if n != 1 else ''}")


@dataclass
class TreeReady(Message):
    """The tree of the filesystem as of ``layer`` is built."""

    layer: int
    tree: DirTree


@dataclass
class ContentReady(Message):
    """A file's bytes are read (by the ``read_content`` worker), or the read failed: then
    ``blob`` is None and ``error`` the one-line reason, shown in a toast."""

    path: str
    blob: Blob | None
    error: str = ""


class InspectView(Vertical):
    """Everything shown for one analysed image."""

    DEFAULT_CSS = """
    InspectView { height: 1fr; }
    InspectView TabbedContent, InspectView ContentSwitcher { height: 1fr; }
    InspectView #files-tab { height: 1fr; }
    InspectView #left { width: 38%; min-width: 30; max-width: 70; }
    InspectView #tree-status { height: 1; background: $boost; color: $text-muted; }
    InspectView FileView { height: 1fr; }
    """

    def __init__(self, analysis: Analysis, vulns: Overlay | None = None) -> None:
        super().__init__()
        self.analysis = analysis
        self.vulns = vulns  # ``--vulns``: the scanner report laid over the image
        self.layer_index = len(analysis.layers) - 1
        self.layer_only = False
        self.trees: dict[int, DirTree] = {}
        self.rows: TreeRows | None = None

    def compose(self) -> ComposeResult:
        a = self.analysis
        with TabbedContent(id="tabs"):
            with TabPane("Files", id="tab-files"):
                with Horizontal(id="files-tab"):
                    with Vertical(id="left"):
                        yield LayersTable(a, id="layers")
                        yield Details(id="details")
                    with Vertical(id="right"):
                        yield Line(id="tree-status")
                        yield FileView(id="files")
            with TabPane("Packages", id="tab-packages"):
                yield Lazy(PackagesPane(a, self.vulns))
            with TabPane("Categories", id="tab-categories"):
                yield Lazy(CategoriesPane(a))
            with TabPane("Config & History", id="tab-config"):
                yield Lazy(ConfigPane(a))
            with TabPane("Efficiency", id="tab-efficiency"):
                yield Lazy(EfficiencyPane(a))
            with TabPane("Fit", id="tab-fit"):
                yield FitPane(a)

    def on_mount(self) -> None:
        self.build_tree(self.layer_index)
        tab_bars_unfocusable(self)
        view = self.query_one(FileView)
        view.resolve = resolver([self.analysis])
        view.focus()

    # ---- layer → tree --------------------------------------------------------------
    @work(thread=True, exclusive=True, group="tree", exit_on_error=False)
    def build_tree(self, layer: int) -> None:
        if layer in self.trees:
            self.post_message(TreeReady(layer, self.trees[layer]))
            return
        fs = self.analysis.fs_at(layer)
        marks, ghosts = layer_marks(fs, layer)
        tree = DirTree(fs, ghosts=ghosts, marks=marks)
        tree.totals()  # here, off the event loop, not in the first render
        self.post_message(TreeReady(layer, tree))

    @on(TreeReady)
    def _tree_ready(self, message: TreeReady) -> None:
        self.trees[message.layer] = message.tree
        if message.layer != self.layer_index:
            return
        view = self.query_one(FileView)
        follow = view.path
        old = self.rows
        rows = TreeRows(message.tree, sort=old.sort if old else "name")
        if old is not None:
            rows.expanded = set(old.expanded)
            flt = old.filter
            rows.filter = flt
        self.rows = rows
        self.apply_filter_state(rows.filter, follow)

    def apply_filter_state(self, flt, follow: str | None) -> None:
        from dataclasses import replace

        assert self.rows is not None
        if self.layer_only and flt.marks is None:
            flt = replace(flt, marks=ALL_MARKS)
        elif not self.layer_only and flt.marks == ALL_MARKS:
            flt = replace(flt, marks=None)
        self.rows.set_filter(flt)
        self.query_one(FileView).set_rows(self.rows, follow=follow)
        self.update_status()

    def update_status(self) -> None:
        rows = self.rows
        n = len(self.analysis.layers)
        parts = [f"layer {self.layer_index + 1}/{n}",
                 "this layer's changes" if self.layer_only else "whole filesystem"]
        if rows is not None:
            parts.append(f"sort: {rows.sort}")
            f = rows.filter
            text = self.query_one(FileView).filter_text
            if text:
                parts.append(f"filter: {visible(text)}")
            if f.marks and f.marks != ALL_MARKS:
                parts.append("only " + " ".join(sorted(m or "unmodified" for m in f.marks)))
            parts.append(f"{len(rows.rows):,} rows")
        self.query_one("#tree-status", Line).update(" " + " · ".join(parts))

    @on(DataTable.RowHighlighted, "#layers")
    def _layer_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = str(event.row_key.value)
        self.show_layer_details(key)
        if key.startswith("L"):
            layer = int(key[1:])
            if layer != self.layer_index:
                self.layer_index = layer
                self.update_status()
                self.build_tree(layer)

    def set_layer_only(self, only: bool) -> None:
        self.layer_only = only
        if self.rows is not None:
            self.apply_filter_state(self.rows.filter, self.query_one(FileView).path)

    @on(DrillDown)
    def _drill_down(self, message: DrillDown) -> None:
        """A category's or package's files: the Files tab, filtered, the whole filesystem."""
        self.query_one(TabbedContent).active = "tab-files"
        view = self.query_one(FileView)
        view.focus()
        if self.layer_only:
            self.set_layer_only(False)
        if view.apply_filter(message.term):
            view.move_cursor(0, force=True)
        self.update_status()

    def show_layer_details(self, key: str | None = None) -> None:
        """The details pane shows the highlighted layer while the layers pane has focus."""
        table = self.query_one(LayersTable)
        if not table.has_focus:
            return
        if key is None:
            if not table.row_count:
                return
            key = str(table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value)
        layer = int(key[1:]) if key.startswith("L") else None
        self.query_one(Details).show_layer(self.analysis, layer, table.commands.get(key, ""))

    def on_descendant_focus(self, event) -> None:
        if isinstance(event.widget, LayersTable):
            self.show_layer_details()
        elif isinstance(event.widget, FileView):
            tree = self.rows.tree if self.rows else None
            self.query_one(Details).show(self.analysis, tree, event.widget.path)

    # ---- details and content ---------------------------------------------------------
    @on(FileView.CursorMoved)
    def _cursor(self, event: FileView.CursorMoved) -> None:
        tree = self.rows.tree if self.rows else None
        self.query_one(Details).show(self.analysis, tree, event.path)

    @on(FileView.ViewChanged)
    def _rows_changed(self, event: FileView.ViewChanged) -> None:
        self.update_status()  # every change of rows (a Space too), not only cursor moves

    @on(FileView.ViewRequested)
    def _view(self, event: FileView.ViewRequested) -> None:
        tree = self.rows.tree if self.rows else None
        if tree is None or tree.is_ghost(event.path):
            self.say("removed in this layer: nothing to show", severity="warning")
            return
        fs = tree.fs
        path = data_path(fs, event.path)  # a hardlink's data lives at its target
        kind = fs.kind(path) if path in fs else DIR
        if kind == DIR:
            self.say(f"{visible(path)} is a directory", severity="warning")
        elif kind == SYMLINK:
            target = link_target(fs, path)

            def followed(to: str | None) -> None:
                if to is not None:
                    self.follow_link(event.view, to)

            inspector_app(self).view_content(
                path, f"symbolic link → {fs.target(path)}\n\nf follows it to {target}",
                follow=target, then=followed)
        elif fs.size(path) == 0 and kind != 0:
            self.say(f"{visible(path)} is a {fs.kind_name(path)}", severity="warning")
        else:
            self.say(f"reading {visible(path)}…", timeout=2)
            self.read_content(*fs.source(path), path)  # a hardlink: where its inode was written

    def say(self, message: str, **kwargs) -> None:
        """A toast whose text may hold an image's paths: never read as markup."""
        self.notify(message, markup=False, **kwargs)

    def follow_link(self, view: FileView, target: str) -> None:
        """Put the cursor on a symlink's target and view it (or say it is missing)."""
        if view.go_to(target):
            view.action_view()
        else:
            self.say(f"{visible(target)}: not in this image (a dangling link)",
                     severity="warning")

    @work(thread=True, group="content", exit_on_error=False)
    def read_content(self, layer: int, member: str, path: str) -> None:
        try:
            blob = read_blob(self.analysis.image, layer, member)
        except InspectorError as exc:
            self.post_message(ContentReady(path, None, visible(exc)))
            return
        self.post_message(ContentReady(path, blob))

    @on(ContentReady)
    def _content(self, message: ContentReady) -> None:
        if message.blob is not None:
            for notice in message.blob.notices:
                self.say(visible(notice), severity="warning", timeout=10)
            inspector_app(self).view_content(message.path, message.blob)
        elif message.error:
            self.say(message.error, severity="error")


class InspectScreen(LoadingScreen):
    BINDINGS = [*SCREEN, *INSPECT, *TAB_KEYS]

    def __init__(self, reference: str) -> None:
        super().__init__()
        self.reference = reference

    def compose(self) -> ComposeResult:
        yield TooSmall(id="too-small")
        yield Static(Text(visible(self.reference), style="bold"), id="title")
        yield LoadingPanel([self.reference], id="loading")
        yield KeysFooter()

    def on_mount(self) -> None:
        if self.analysis_for(self.reference) is not None:
            self.loaded(self.reference)
        else:
            self.start_load(self.reference)

    def loaded(self, reference: str) -> None:
        analysis = self.analysis_for(reference)
        assert analysis is not None
        self.query_one("#title", Static).update(title_text(analysis))
        self.query_one(LoadingPanel).remove()
        vulns, problem = image_overlay(analysis, inspector_app(self).scan)
        if problem:
            self.notify(visible(problem), severity="warning", markup=False, timeout=10)
        self.mount(InspectView(analysis, vulns), before=self.query_one(Footer))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "remove_image":
            return False
        if action == "layer_changes":
            return bool(self.query(InspectView))
        return True

    def markdown(self) -> tuple[list[str], str, str] | None:
        """The Files tab: the rows shown; any other tab: the image's report."""
        from inspector.tui.export import files_markdown, single_markdown

        view = next(iter(self.query(InspectView)), None)
        if view is None:
            return None
        label = view.analysis.reference.rsplit("/", 1)[-1]
        if view.query_one(TabbedContent).active == "tab-files" and view.rows is not None:
            files = view.query_one(FileView)
            return [label], "files", files_markdown(f"{label} — files", files.filter_text,
                                                   [label], [view.rows])
        return [label], "report", single_markdown(view.analysis)

    def html(self) -> tuple[list[str], str] | None:
        from inspector.report.html import render_export

        view = next(iter(self.query(InspectView)), None)
        if view is None:
            return None
        return [view.analysis.reference.rsplit("/", 1)[-1]], render_export(view.analysis)

    def action_layer_changes(self, only: bool) -> None:
        for view in self.query(InspectView):
            view.set_layer_only(only)

    def action_add_image(self) -> None:
        def compare(ref: str) -> None:
            # pushed: Textual cannot switch away from the default screen (IndexError)
            inspector_app(self).open_compare([self.reference, ref])

        inspector_app(self).ask_image("Compare with an image", compare)
