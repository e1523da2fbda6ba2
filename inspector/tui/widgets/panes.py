"""The inspect screen's side panes: the layer list and the details of the cursor's entry."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.widget import Widget
from textual.widgets import DataTable

from inspector.analysis import Analysis
from inspector.index.tree import DirTree
from inspector.tui.format import human, is_special, mode_string, one_line, short_size


def history_rows(analysis: Analysis) -> list[tuple[int | None, str]]:
    """(layer index or None for an empty layer, created_by) in history order; layers
    without a history entry get an empty command."""
    history = analysis.config.get("history") or []
    non_empty = [h for h in history if not h.get("empty_layer")]
    n = len(analysis.layers)
    if len(non_empty) != n:
        return [(i, analysis.created_by[i] if i < len(analysis.created_by) else "")
                for i in range(n)]
    out, i = [], 0
    for h in history:
        text = str(h.get("created_by") or h.get("comment") or "")
        if h.get("empty_layer"):
            out.append((None, text))
        else:
            out.append((i, text))
            i += 1
    return out


class LayersTable(DataTable):
    """One row per history entry: layers with sizes and change counts, empty ones dimmed."""

    DEFAULT_CSS = "LayersTable { height: 1fr; }"

    def __init__(self, analysis: Analysis, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.analysis = analysis

    def on_mount(self) -> None:
        a = self.analysis
        self.add_columns("#", "blob", "tar", "+ ~ -", "created by")
        last_key = None
        for n, (layer, text) in enumerate(history_rows(a)):
            cmd = one_line(text, 200)
            if layer is None:
                dim = "dim italic"
                self.add_row(Text("·", dim), "", "", "", Text(cmd or "(empty layer)", dim),
                             key=f"E{n}")
                continue
            st = a.fs.stats[layer]
            changes = f"{st.added} {st.modified} {st.removed}"
            last_key = f"L{layer}"
            self.add_row(str(layer), short_size(a.image.layers[layer].compressed_size),
                         short_size(a.layers[layer].uncompressed_size), changes, cmd,
                         key=last_key)
        if last_key is not None:
            row = self.get_row_index(last_key)
            self.call_after_refresh(self.move_cursor, row=row, animate=False, scroll=True)


class Line(Widget):
    """A fixed-size text widget that repaints without a layout pass (``Static.update``
    re-lays out the screen: too slow to do on every cursor move)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._renderable: RenderableType = ""

    def update(self, renderable: RenderableType) -> None:
        self._renderable = renderable
        self.refresh()

    def render(self) -> RenderableType:
        return self._renderable


class Details(Line):
    """The entry under the cursor: path, type, size, mode (setuid highlighted), owner,
    layer, owning package, category."""

    DEFAULT_CSS = "Details { height: 11; padding: 0 1; border-top: solid $primary 50%; }"

    shown: str | None = None  # the path on display

    def show(self, analysis: Analysis | None, tree: DirTree | None, path: str | None) -> None:
        self.shown = path
        if analysis is None or tree is None or path is None:
            self.update(Text("no entry", style="dim"))
            return
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(overflow="fold")
        grid.add_row("path", Text(path, style="bold"))
        mark = tree.marks.get(path)
        if tree.is_ghost(path):
            grid.add_row("state", Text(f"{mark or 'removed'}", style="red"))
            self.update(grid)
            return
        fs = tree.fs
        kind = fs.kind_name(path)
        mode = fs.mode(path)
        uid, gid = fs.owner(path)
        size = tree.size(path)
        grid.add_row("type", kind + (f" · {mark}" if mark else ""))
        if tree.is_dir(path):
            grid.add_row("size", f"{human(size)} · {tree.file_count(path):,} files")
        else:
            grid.add_row("size", f"{human(size)} ({size:,} B)")
        grid.add_row("mode", Text(f"{mode_string(kind, mode)} {mode & 0o7777:04o}",
                                  style="bold red" if is_special(mode) else ""))
        grid.add_row("owner", f"{uid}:{gid}")
        target = fs.target(path)
        if target is not None:
            grid.add_row("target", target)
        grid.add_row("layer", str(fs.layer_of(path)))
        grid.add_row("package", analysis.catalog.owner_name(path) or "—")
        grid.add_row("category", analysis.classification.categories.get(path) or "—")
        self.update(grid)
