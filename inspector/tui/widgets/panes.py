"""The inspect screen's side panes: the layer list and the details of the cursor's entry."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from inspector.analysis import Analysis
from inspector.index.tree import DirTree
from inspector.tui.format import human, is_special, mode_string
from inspector.tui.shown import line
from inspector.visible import visible


def history_rows(analysis: Analysis) -> list[tuple[int | None, str]]:
    """(layer index or None for an empty layer, created_by) in history order; layers
    without a history entry get an empty command."""
    history = analysis.config.get("history") or []
    non_empty = [h for h in history if not h.get("empty_layer")]
    n = len(analysis.layers)
    if len(non_empty) != n:
        return [(i, analysis.created_by[i] if i < len(analysis.created_by) else "")
                for i in range(n)]
    out: list[tuple[int | None, str]] = []
    i = 0
    for h in history:
        text = str(h.get("created_by") or h.get("comment") or "")
        if h.get("empty_layer"):
            out.append((None, text))
        else:
            out.append((i, text))
            i += 1
    return out


#: the narrowest the command column gets (the table scrolls sideways below that)
MIN_COMMAND_CELLS = 12


class LayersTable(DataTable):
    """One row per history entry: layers (numbered 1..N, base first, as the status line
    says) with sizes and change counts, empty ones dimmed. The command is cut to the
    pane's width with an ellipsis; the details pane shows it whole."""

    DEFAULT_CSS = "LayersTable { height: 1fr; }"

    def __init__(self, analysis: Analysis, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.analysis = analysis
        self.commands: dict[str, str] = {}  # row key → the whole command
        self._cmd_width = 0

    def on_mount(self) -> None:
        a = self.analysis
        self.add_columns("#", "blob", "tar", "+ ~ -")
        self.add_column("created by", key="cmd")
        width = MIN_COMMAND_CELLS
        last_key = None
        for n, (layer, text) in enumerate(history_rows(a)):
            cmd = line(text, 10_000)
            if layer is None:
                dim = "dim italic"
                key = f"E{n}"
                self.commands[key] = cmd
                self.add_row(Text("·", dim), "", "", "",
                             Text(line(cmd or "(empty layer)", width), dim), key=key)
                continue
            st = a.fs.stats[layer]
            changes = f"{st.added} {st.modified} {st.removed}"
            last_key = f"L{layer}"
            self.commands[last_key] = cmd
            self.add_row(str(layer + 1), human(a.image.layers[layer].compressed_size),
                         human(a.layers[layer].uncompressed_size), changes,
                         Text(line(cmd, width)), key=last_key)
        self._cmd_width = width
        self.call_after_refresh(self.fit_commands)
        if last_key is not None:
            row = self.get_row_index(last_key)
            self.call_after_refresh(self.move_cursor, row=row, animate=False, scroll=True)

    def command_width(self) -> int:
        """Cells left for the command: the pane's width less the other columns (and the
        scrollbar's cell)."""
        others = sum(c.get_render_width(self) for c in self.ordered_columns[:-1])
        return max(MIN_COMMAND_CELLS, self.size.width - others - 2)

    def on_resize(self) -> None:
        self.fit_commands()

    def fit_commands(self) -> None:
        width = self.command_width()
        if width == self._cmd_width or not self.row_count:
            return
        self._cmd_width = width
        column = self.columns[ColumnKey("cmd")]
        column.auto_width, column.width = False, width  # shrinks too, unlike auto widths
        for key, cmd in self.commands.items():
            cell = line(cmd or ("(empty layer)" if key.startswith("E") else ""), width)
            self.update_cell(key, "cmd", Text(cell, "dim italic" if key.startswith("E") else ""))
        self._require_update_dimensions = True
        self.refresh()


class Line(Widget):
    """A fixed-size text widget that repaints without a layout pass (``Static.update``
    re-lays out the screen: too slow to do on every cursor move)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._renderable: RenderableType = ""

    def update(self, renderable: RenderableType) -> None:
        if isinstance(renderable, (str, Text)) and renderable == self._renderable:
            return  # unchanged: a repaint would widen the screen's next update for nothing
        self._renderable = renderable
        self.refresh()

    def render(self) -> RenderableType:
        # a plain string is text, never Textual markup: it may hold what the user typed
        # (the filter in the status line) — '[/x]' would raise MarkupError when drawn
        r = self._renderable
        return Text(r) if isinstance(r, str) else r


#: width of the Details labels column (the longest label, "category", plus a space)
LABEL_WIDTH = 9


class Details(Line):
    """The entry under the cursor: path, type, size, mode (setuid highlighted), owner,
    layer, owning package, category."""

    DEFAULT_CSS = "Details { height: 13; padding: 0 1; border-top: solid $primary 50%; }"

    shown: str | None = None  # the path on display

    def show(self, analysis: Analysis | None, tree: DirTree | None, path: str | None) -> None:
        self.shown = path
        if analysis is None or tree is None or path is None:
            self.update(Text("no entry", style="dim"))
            return
        # one Text of label/value lines: a rich Table.grid measures every cell on every
        # render, and this repaints on every cursor move
        rows: list[tuple[str, str | Text]] = [("path", Text(visible(path), style="bold"))]
        mark = tree.marks.get(path)
        if tree.is_ghost(path):
            rows.append(("state", Text(f"{mark or 'removed'}", style="red")))
            self.set_rows(rows)
            return
        fs = tree.fs
        kind = fs.kind_name(path)
        mode = fs.mode(path)
        uid, gid = fs.owner(path)
        size = tree.size(path)
        rows.append(("type", kind + (f" · {mark}" if mark else "")))
        if tree.is_dir(path):
            rows.append(("size", f"{human(size)} · {tree.file_count(path):,} files"))
        else:
            rows.append(("size", f"{human(size)} ({size:,} B)"))
        rows.append(("mode", Text(f"{mode_string(kind, mode)} {mode & 0o7777:04o}",
                                  style="bold red" if is_special(mode) else "")))
        rows.append(("owner", f"{uid}:{gid}"))
        target = fs.target(path)
        if target is not None:
            rows.append(("target", visible(target)))
        rows.append(("layer", str(fs.layer_of(path) + 1)))
        rows.append(("package", visible(analysis.catalog.owner_name(path) or "—")))
        rows.append(("category", analysis.classification.category_of(path) or "—"))
        self.set_rows(rows)

    def show_layer(self, analysis: Analysis, layer: int | None, command: str) -> None:
        """A layer's details, as dive's Layer Details: digest, diff_id, sizes, what it
        changed and its whole command (``layer`` None: an empty history entry)."""
        self.shown = None
        if layer is None:
            self.set_rows([("layer", Text("empty (metadata only)", style="dim")),
                           ("command", visible(command or "—"))])
            return
        blob = analysis.image.layers[layer]
        st = analysis.fs.stats[layer]
        self.set_rows([
            ("layer", Text(f"{layer + 1} of {len(analysis.layers)}", style="bold")),
            ("digest", visible(blob.digest)),
            ("diff_id", visible(blob.diff_id)),
            ("blob", f"{human(blob.compressed_size)} compressed"),
            ("tar", f"{human(analysis.layers[layer].uncompressed_size)} uncompressed"),
            ("files", Text.assemble((f"+{st.added} added", "green"), "  ",
                                    (f"~{st.modified} modified", "yellow"), "  ",
                                    (f"-{st.removed} removed", "red"))),
            ("command", visible(command or "—")),
        ])

    #: label/value rows on display, laid out in render() where the width is known
    _rows: list[tuple[str, str | Text]] | None = None

    def set_rows(self, rows: list[tuple[str, str | Text]]) -> None:
        self._rows = rows
        self.refresh()

    def update(self, renderable: RenderableType) -> None:
        if self._rows is not None:  # rows on display: any update replaces them
            self._rows = None
            self.refresh()
        super().update(renderable)

    def render(self) -> RenderableType:
        if self._rows is not None:
            return details_text(self._rows, self.size.width)
        return self._renderable


#: rows whose values fold onto more lines when long (the rest are cut with "…")
FOLDED = frozenset({"path", "target", "digest", "diff_id", "command"})


def details_text(rows: list[tuple[str, str | Text]], width: int) -> Text:
    """``label value`` lines, labels dim in a column of ``LABEL_WIDTH``; a long value folds
    under the value column (as a grid with ``overflow="fold"`` would), cut by characters."""
    room = max(1, width - LABEL_WIDTH)
    text = Text(no_wrap=True, overflow="crop")
    chunks: Iterable[Text]
    for n, (label, given) in enumerate(rows):
        value = Text(given) if isinstance(given, str) else given
        if len(value) > room and label not in FOLDED:
            # short facts are cut, not folded: "4.5 MB (4,493,3" / "12 B)" reads badly
            plain = value.plain
            if label == "size" and " (" in plain:
                value = Text(plain.split(" (", 1)[0], style=value.style)
            if len(value) > room:
                value = value[: max(0, room - 1)] + Text("…", style="dim")
            chunks = [value]
        else:
            chunks = value.divide(range(room, len(value), room)) if len(value) > room else [value]
        for i, chunk in enumerate(chunks):
            if n or i:
                text.append("\n")
            text.append(f"{label if i == 0 else '':<{LABEL_WIDTH}}", style="dim")
            text.append_text(chunk)
    return text
