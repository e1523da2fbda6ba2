"""The file viewer: a file's content read-only (text, or for a binary its ELF summary and
a hex dump as wide as the pane); with ``columns``, the same path in several images side
by side. Everything shown from an image goes through the escaping rule (``visible``)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, TextArea

from inspector.tui.binary import Blob, Content, Shown, render_blob
from inspector.visible import visible, visible_lines

#: the width a hex dump is laid out for before the pane's is known (16 bytes a line)
DEFAULT_CELLS = 75


class ContentScreen(ModalScreen[str | None]):
    """A file's content, read-only; ``follow``: a symlink's resolved target, which ``f``
    answers with (the caller opens it)."""

    BINDINGS = [Binding("escape,q,v", "dismiss_none", "Close", id="content.close"),
                Binding("f", "follow", "Follow link", id="content.follow")]
    DEFAULT_CSS = """
    ContentScreen { align: center middle; }
    ContentScreen > Vertical { width: 95%; height: 95%; border: round $primary; background: $panel; }
    ContentScreen #content-title { width: 1fr; background: $boost; }
    ContentScreen Horizontal { height: 1fr; }
    ContentScreen .content-column { width: 1fr; height: 1fr; }
    ContentScreen .content-column Label { width: 1fr; text-style: bold; }
    ContentScreen .content-column .elf-summary { text-style: none; color: $accent; }
    ContentScreen TextArea { height: 1fr; }
    """

    def __init__(self, title: str, text: Content = "", *,
                 columns: Sequence[tuple[str, Content]] | None = None,
                 follow: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.contents = list(columns or [("", text)])
        self.follow = follow
        #: per column, what is shown (hex at 16 bytes a line until the pane's width is known)
        self.shown = [self.content_shown(content, 0) for _, content in self.contents]
        #: (label, the text on screen) per column
        self.columns = [(label, shown.body) for (label, _), shown in zip(
            self.contents, self.shown, strict=True)]
        self.text = self.shown[0].body
        self._cells: list[int] = [0] * len(self.contents)

    @staticmethod
    def content_shown(content: Content, cells: int) -> Shown:
        if isinstance(content, Blob):
            return render_blob(content, cells or DEFAULT_CELLS)
        return Shown(None, visible_lines(content), False)

    def compose(self) -> ComposeResult:
        hint = "q / Esc close" + (f" · f follow the link to {visible(self.follow)}"
                                  if self.follow else "")
        with Vertical():
            yield Label(Text(f"{visible(self.title_text)}   ({hint})"), id="content-title")
            with Horizontal():
                for i, ((label, _), shown) in enumerate(zip(self.contents, self.shown,
                                                             strict=True)):
                    with Vertical(classes="content-column"):
                        if label:
                            yield Label(Text(visible(label)))
                        if shown.summary:
                            yield Label(Text(shown.summary), classes="elf-summary",
                                        id=f"elf-{i}")
                        yield TextArea(shown.body, read_only=True, soft_wrap=False,
                                       show_line_numbers=len(self.columns) == 1 and not shown.hex,
                                       id=self.area_id(i))

    @staticmethod
    def area_id(i: int) -> str:
        return "content-text" if i == 0 else f"content-text-{i}"

    def on_resize(self) -> None:
        self.call_after_refresh(self.fit_hex)

    def on_mount(self) -> None:
        self.call_after_refresh(self.fit_hex)

    def fit_hex(self) -> None:
        """Re-lay each hex column for its pane's width (the ASCII column in view)."""
        for i, ((label, content), shown) in enumerate(zip(self.contents, self.shown,
                                                           strict=True)):
            if not shown.hex or not isinstance(content, Blob):
                continue
            area = self.query_one(f"#{self.area_id(i)}", TextArea)
            cells = area.content_size.width - 1  # the cursor's cell past the end
            if cells <= 0 or cells == self._cells[i]:
                continue
            self._cells[i] = cells
            again = render_blob(content, cells)
            if again.body != shown.body:
                self.shown[i] = again
                self.columns[i] = (label, again.body)
                area.load_text(again.body)
        self.text = self.shown[0].body

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.follow is not None if action == "follow" else True

    def action_follow(self) -> None:
        self.dismiss(self.follow)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
