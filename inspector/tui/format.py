"""Small formatting helpers shared by the widgets (pure functions, no textual)."""

from __future__ import annotations

import stat

UNITS = ("K", "M", "G", "T")
EIGHTHS = " ▏▎▍▌▋▊▉█"


def short_size(n: int) -> str:
    """At most 6 characters, decimal units: ``512B``, ``1.4K``, ``23.5M``, ``1.2G``."""
    if n < 1000:
        return f"{n}B"
    value = float(n)
    for unit in UNITS:
        value /= 1000
        if value < 99.95:
            return f"{value:.1f}{unit}"
        if value < 999.5 or unit == UNITS[-1]:
            return f"{value:.0f}{unit}"
    raise AssertionError("unreachable")


def human(n: int | None) -> str:
    """``512 B``, ``1.4 MB`` (decimal units, as registries and ``docker images`` show)."""
    if n is None:
        return "—"
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 999.95 or unit == "TB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


_KIND_CHAR = {"file": "-", "hardlink": "-", "symlink": "l", "char": "c", "block": "b",
              "dir": "d", "fifo": "p"}


def mode_string(kind: str, mode: int) -> str:
    """``drwxr-xr-x``, ``-rwsr-xr-x`` (setuid/setgid/sticky shown as ``ls`` does)."""
    return _KIND_CHAR.get(kind, "?") + stat.filemode(mode)[1:]


def is_special(mode: int) -> bool:
    """setuid or setgid: worth a highlight."""
    return bool(mode & (stat.S_ISUID | stat.S_ISGID))


def bar(value: int, scale: int, width: int) -> str:
    """A bar of ``value / scale`` over ``width`` cells in eighths; a non-zero value always
    shows at least one eighth, so presence is never hidden by rounding."""
    if value <= 0 or scale <= 0 or width <= 0:
        return ""
    eighths = max(1, round(value / scale * width * 8))
    full, rest = divmod(min(eighths, width * 8), 8)
    return "█" * full + (EIGHTHS[rest] if rest else "")


def one_line(text: str, width: int) -> str:
    """Collapse whitespace and cut to ``width`` with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[:max(0, width - 1)] + "…"
