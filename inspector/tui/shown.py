"""Image-derived text as the widgets show it: through the one escaping rule
(``inspector.visible``) and into ``rich.text.Text``, never parsed as markup (a DataTable
reads a plain ``str`` cell as markup; ``notify`` does unless told not to)."""

from __future__ import annotations

from rich.text import Text

from inspector.tui.format import one_line
from inspector.visible import visible


def shown(text: object, style: str = "") -> Text:
    """``text`` escaped, as a ``Text`` (a table cell, a label)."""
    return Text(visible(text), style=style)


def line(text: str, width: int) -> str:
    """A command or a long value on one line: whitespace collapsed, escaped, then cut to
    ``width`` with an ellipsis (escaping first would count ``\\x1b`` as one cell)."""
    return one_line(visible(" ".join(text.split())), width)
