"""Small formatting helpers shared by the widgets (pure functions, no textual). Human
sizes and bars come from ``inspector.report.sizes``, so the TUI and the reports agree:
the same bytes are the same number and unit on every tab and in every report."""

from __future__ import annotations

import stat

from inspector.report import sizes
from inspector.report.sizes import bar

__all__ = ["SIZE_WIDTH", "bar", "human", "is_special", "mode_string", "one_line"]

#: cells of a size column: ``human``'s widest common form, ``999.9 kB``
SIZE_WIDTH = 8


def human(n: int | None) -> str:
    """``512 B``, ``1.4 MB`` as the headless reports write them; ``—`` for unknown."""
    return "—" if n is None else sizes.human(n)


_KIND_CHAR = {"file": "-", "hardlink": "-", "symlink": "l", "char": "c", "block": "b",
              "dir": "d", "fifo": "p"}


def mode_string(kind: str, mode: int) -> str:
    """``drwxr-xr-x``, ``-rwsr-xr-x`` (setuid/setgid/sticky shown as ``ls`` does)."""
    return _KIND_CHAR.get(kind, "?") + stat.filemode(mode)[1:]


def is_special(mode: int) -> bool:
    """setuid or setgid: worth a highlight."""
    return bool(mode & (stat.S_ISUID | stat.S_ISGID))


def one_line(text: str, width: int) -> str:
    """Collapse whitespace and cut to ``width`` with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[:max(0, width - 1)] + "…"
