"""The file tree: a virtual view on the Line API (a plain ``Widget`` + ``render_line``).

The model is ``inspector.index.tree.TreeRows`` (the flattened visible rows); this widget
formats ``rows[top + y]`` for the lines on screen and nothing else, caching rendered
strips by everything that changes them. No widget or TreeNode per file.

It keeps its own top row and draws its own one-column scrollbar instead of being a
``ScrollView``: Textual's scrolling re-lays out and re-composites the whole screen on
every scroll and every change of ``virtual_size`` (~100 ms on the inspect screen), where
moving our own offset only repaints this widget.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from inspector.index.tree import TreeRows
from inspector.tui.bindings import FILE_VIEW
from inspector.tui.widgets.file_filter import FilterActions
from inspector.tui.widgets.file_rows import Resolver, render_row

#: rendered strips kept (a few screenfuls)
STRIP_CACHE = 1024
#: rows moved per mouse-wheel notch
WHEEL_ROWS = 3

class FileView(FilterActions, Widget, can_focus=True):
    """A virtual directory tree with sizes, directory totals, modes, owners, change
    colours and symlink targets."""

    BINDINGS = [*FILE_VIEW]  # a display: typed as Textual's list[BindingType]
    COMPONENT_CLASSES = {
        "fileview--cursor", "fileview--added", "fileview--modified", "fileview--removed",
        "fileview--dir", "fileview--dim", "fileview--special", "fileview--link",
        "fileview--scrollbar", "fileview--thumb", "fileview--match", "fileview--absent",
    }
    DEFAULT_CSS = """
    FileView { background: $surface; }
    FileView > .fileview--cursor { background: $primary 45%; }
    FileView:focus > .fileview--cursor { background: $primary; color: $text; text-style: bold; }
    FileView > .fileview--absent { color: $text-disabled; }
    FileView > .fileview--added { color: $success; }
    FileView > .fileview--modified { color: $warning; }
    FileView > .fileview--removed { color: $error; text-style: strike; }
    FileView > .fileview--dir { color: $accent; text-style: bold; }
    FileView > .fileview--dim { color: $text-muted; }
    FileView > .fileview--match { background: $warning 60%; color: $text; text-style: bold; }
    FileView > .fileview--special { color: $error; text-style: bold; }
    FileView > .fileview--link { color: $secondary; }
    FileView > .fileview--scrollbar { background: $panel; }
    FileView > .fileview--thumb { background: $primary 60%; }
    FileView:focus > .fileview--thumb { background: $primary; }
    """

    @dataclass
    class CursorMoved(Message):
        """The cursor is on another path (``None``: the view is empty)."""

        view: FileView
        path: str | None

        @property
        def control(self) -> FileView:
            return self.view

    @dataclass
    class ViewChanged(Message):
        """Rows, top row or cursor changed (compare mirrors the focused column)."""

        view: FileView

        @property
        def control(self) -> FileView:
            return self.view

    @dataclass
    class ViewRequested(Message):
        """The user asked to see a file's content."""

        view: FileView
        path: str

        @property
        def control(self) -> FileView:
            return self.view

    def __init__(self, rows: TreeRows | None = None, *, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.model: TreeRows | None = rows
        self.cursor = 0
        self.top = 0  # the row shown on the first line
        self.show_attrs = True
        self.search_term = ""
        #: the filter as typed (``category:shell *.sh``); the model holds it resolved
        self.filter_text = ""
        #: resolves ``category:``/``package:`` terms (set by the screen that knows the images)
        self.resolve: Resolver | None = None
        #: marks hidden by Ctrl+U/Ctrl+R/Ctrl+M (None: unmodified), as dive's toggles
        self.hidden_marks: set[str | None] = set()
        self.lines_rendered = 0  # render_line calls (the structural tests read it)
        self._version = 0
        self._cache: LRUCache[tuple, Strip] = LRUCache(STRIP_CACHE)
        self._styles: dict[str, Style] | None = None
        self._dims: tuple[int, int] | None = None  # (width, height), once per size

    # ---- model -----------------------------------------------------------------------
    def set_rows(self, rows: TreeRows | None, *, follow: str | None = None) -> None:
        """Show ``rows``; keep the cursor on ``follow`` (a path) if it is there."""
        self.model = rows
        self._changed()
        row = rows.reveal(follow) if rows is not None and follow else None
        self._rows_changed()
        self.move_cursor(row or 0, force=True)

    def _changed(self) -> None:
        self._version += 1
        self._cache.clear()
        self._styles = None

    def _style(self, name: str) -> Style:
        """Component styles, resolved once per version (resolving is not free)."""
        if self._styles is None:
            self._styles = {c.removeprefix("fileview--"): self.get_component_rich_style(c)
                            for c in self.COMPONENT_CLASSES}
            self._styles["base"] = self.rich_style
        return self._styles[name]

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._changed()

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size,
                      layout: bool = True) -> bool:
        # the layout paints lines at the new size before the Resize message is handled:
        # forget the cached size here. Lines painted at the old width (a column shown
        # again, its tab hidden at another width) were wider than the column; in a
        # browser their extra cells wrapped the screen's last row and scrolled the whole
        # terminal up by one, so the title line was gone after Enter (review C8)
        self._dims = None
        return super()._size_updated(size, virtual_size, container_size, layout)

    def on_resize(self) -> None:
        self._dims = None
        self._clamp_top()
        self.refresh()

    def _view_size(self) -> tuple[int, int]:
        """(width, height) of the content; ``self.size`` walks the DOM to the screen, so
        it is looked up once per resize, not per line or per key."""
        if self._dims is None:
            size = self.size
            self._dims = (size.width, size.height)
        return self._dims

    @property
    def page_height(self) -> int:
        """Lines on screen (at least 1)."""
        return max(1, self._view_size()[1])

    def _rows_changed(self) -> None:
        """The row list changed (expand, collapse, filter): repaint, no layout."""
        self._clamp_top()
        self.refresh()
        self.post_message(self.ViewChanged(self))

    def mirror(self, leader: FileView) -> None:
        """Show ``leader``'s rows, top row and cursor. Compare's columns are trees over the
        same union of paths, so the leader's rows are valid here and each row is one path
        across all images (the filter, sort and expansion are the leader's)."""
        m, lm = self.model, leader.model
        if m is None or lm is None:
            return
        keep = m.keep
        if m.follow(lm) and m.keep is not keep:  # a cursor move alone copies nothing
            self._changed()  # another filter: other directory totals in the same rows
        self.filter_text, self.hidden_marks = leader.filter_text, set(leader.hidden_marks)
        if self.search_term != leader.search_term:
            self.search_term = leader.search_term
            self._changed()
        self.top = leader.top
        self.cursor = leader.cursor
        self._clamp_top()
        self.refresh()

    def _clamp_top(self) -> None:
        n = len(self.model.rows) if self.model else 0
        self.top = max(0, min(self.top, n - self.page_height))

    def scroll_rows(self, delta: int) -> None:
        """Move the view by ``delta`` rows, leaving the cursor where it is."""
        old = self.top
        self.top += delta
        self._clamp_top()
        if self.top != old:
            self.refresh()
            self.post_message(self.ViewChanged(self))

    @property
    def path(self) -> str | None:
        m = self.model
        return m.rows[self.cursor] if m is not None and 0 <= self.cursor < len(m.rows) else None

    # ---- rendering -------------------------------------------------------------------
    def _scrollbar(self) -> tuple[int, int] | None:
        """(first line, lines) of the thumb, or None when every row fits."""
        n = len(self.model.rows) if self.model else 0
        height = self.page_height
        if n <= height:
            return None
        size = max(1, height * height // n)
        span = n - height
        start = (self.top * (height - size) + span // 2) // span
        return start, size

    def render_line(self, y: int) -> Strip:
        self.lines_rendered += 1
        width, _ = self._view_size()
        bar = self._scrollbar()
        if bar is not None:
            width -= 1
        m = self.model
        i = self.top + y
        if m is None or i >= len(m.rows):
            strip = Strip.blank(width, self._style("base"))
        else:
            path = m.rows[i]
            key = (path, m.depths[i], path in m.expanded, i == self.cursor, width,
                   self.show_attrs, self.has_focus, self._version)
            cached = self._cache.get(key)
            if cached is None:
                cached = self._cache[key] = render_row(
                    m, path, m.depths[i], i == self.cursor, width, self.show_attrs,
                    self._style, self.search_term)
            strip = cached
        if bar is None:
            return strip
        start, size = bar
        cell = "thumb" if start <= y < start + size else "scrollbar"
        return Strip.join([strip, Strip([Segment(" ", self._style(cell))], 1)])

    # ---- cursor ----------------------------------------------------------------------
    def move_cursor(self, row: int, *, force: bool = False) -> None:
        m = self.model
        n = len(m.rows) if m else 0
        row = max(0, min(row, n - 1)) if n else 0
        if row == self.cursor and not force:
            return
        old, self.cursor = self.cursor, row
        top, height = self.top, self.page_height
        if row < top:
            self.top = row
        elif row >= top + height:
            self.top = row - height + 1
        if self.top != top:
            self.refresh()
        else:  # only the two rows whose cursor highlight changed
            width = self._view_size()[0]
            self.refresh(Region(0, old - top, width, 1), Region(0, row - top, width, 1))
        self.post_message(self.CursorMoved(self, self.path))
        self.post_message(self.ViewChanged(self))

    def go_to(self, path: str) -> bool:
        """Reveal ``path`` (expanding its ancestors) and put the cursor on it or on its
        nearest visible ancestor. True when the path itself was found."""
        if self.model is None:
            return False
        row = self.model.reveal(path)
        self._rows_changed()
        if row is not None:
            self.move_cursor(row, force=True)
        return row is not None and self.model.rows[row] == path

    def on_focus(self) -> None:
        self._changed()
        self.refresh()

    def on_blur(self) -> None:
        self._changed()
        self.refresh()

    # ---- mouse -----------------------------------------------------------------------
    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.scroll_rows(WHEEL_ROWS)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.scroll_rows(-WHEEL_ROWS)

    def on_click(self, event: events.Click) -> None:
        m = self.model
        if not m:
            return
        width, height = self._view_size()
        if self._scrollbar() is not None and event.x == width - 1:
            # the scrollbar column: jump to the same fraction of the rows
            span = len(m.rows) - self.page_height
            self.scroll_rows(round(event.y / max(1, height - 1) * span) - self.top)
            return
        row = self.top + event.y
        if row < len(m.rows):
            if row == self.cursor:
                self.action_toggle_node()
            else:
                self.move_cursor(row)

    # ---- actions ---------------------------------------------------------------------
    def action_cursor(self, delta: int) -> None:
        self.move_cursor(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        step = max(1, self.page_height - 1)
        top = self.top
        self.top += direction * step
        self._clamp_top()
        if self.top != top:
            self.refresh()
        self.move_cursor(self.cursor + direction * step)

    def action_edge(self, direction: int) -> None:
        n = len(self.model.rows) if self.model else 0
        self.move_cursor(0 if direction < 0 else n - 1)

    def action_toggle_node(self) -> None:  # not DOMNode's action_toggle(attribute_name)
        if self.model and self.model.rows:
            self.model.toggle(self.cursor)
            self._rows_changed()

    def action_open(self) -> None:
        if self.model and self.model.rows:
            if self.model.expand(self.cursor):
                self._rows_changed()
            elif self.model.is_expanded(self.model.rows[self.cursor]):
                self.move_cursor(self.cursor + 1)

    def action_close(self) -> None:
        m = self.model
        if not m or not m.rows:
            return
        if m.collapse(self.cursor):
            self._rows_changed()
            return
        depth = m.depths[self.cursor]
        row = self.cursor - 1
        while row >= 0 and m.depths[row] >= depth:
            row -= 1
        if row >= 0:
            self.move_cursor(row)

    def action_collapse_all(self) -> None:
        if self.model:
            path = self.path
            self.model.collapse_all()
            self.set_rows(self.model, follow="/" + path.split("/")[1] if path else None)

    def action_expand_all(self) -> None:
        if self.model:
            path = self.path
            self.model.expand_all()
            self.set_rows(self.model, follow=path)

    def action_sort(self) -> None:
        if self.model:
            path = self.path
            self.model.set_sort("size" if self.model.sort == "name" else "name")
            self.set_rows(self.model, follow=path)

    def action_attributes(self) -> None:
        self.show_attrs = not self.show_attrs
        self._changed()
        self.refresh()

    def action_view(self) -> None:
        if self.path is not None:
            self.post_message(self.ViewRequested(self, self.path))
