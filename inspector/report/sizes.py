"""Human sizes and bars for the headless reports (decimal units: 1 kB = 1000 B, as
``docker images`` and registries show them; JSON always carries bytes)."""

from __future__ import annotations

UNITS = ("kB", "MB", "GB", "TB")
#: eighth-block characters for bars, from one eighth to a full cell
EIGHTHS = " ▏▎▍▌▋▊▉█"
#: cells of the longest bar in a report
BAR_WIDTH = 20


def human(n: int) -> str:
    """``512 B``, ``1.4 MB``: one decimal from kB on."""
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in UNITS:
        value /= 1000
        if value < 999.95 or unit == UNITS[-1]:
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def count(n: int, word: str) -> str:
    """``1 file``, ``1,234 files``."""
    return f"{n} {word}" if n == 1 else f"{n:,} {word}s"


def bar(value: int, scale: int, width: int = BAR_WIDTH) -> str:
    """A bar of ``value / scale`` of ``width`` cells in eighth steps; any non-zero value
    shows at least one eighth, so presence is never hidden by rounding."""
    if value <= 0 or scale <= 0:
        return ""
    eighths = max(1, round(value / scale * width * 8))
    full, rest = divmod(min(eighths, width * 8), 8)
    return "█" * full + (EIGHTHS[rest] if rest else "")
