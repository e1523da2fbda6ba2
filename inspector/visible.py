"""The one escaping rule for text that reaches a person (terminal, markdown, CSV, the TUI).

Strings from an image or a file (names, link targets, package fields, ``/etc/passwd``,
platform and media-type strings, references from a list file) may hold control bytes that
a terminal obeys: ``ESC ] 0 ; title BEL`` retitles it, ``ESC [ 2 J`` clears it, a carriage
return hides what came before. Every human-facing output passes such strings through
:func:`visible` first; JSON and SARIF keep them unchanged (their encoders escape them).

What is shown visibly, and how:

* C0 controls, DEL and C1 controls (U+0080–U+009F): ``\\xNN``;
* bytes that were not UTF-8 (kept as ``surrogateescape`` surrogates U+DC80–U+DCFF by the
  walker and the catalogers): ``\\xNN`` of the original byte;
* other lone surrogates, and the bidirectional overrides and isolates that reorder what a
  reader sees (U+202A–U+202E, U+2066–U+2069, "Trojan Source"): ``\\uNNNN``.

Everything else, including any printable non-ASCII text, is kept as it is.
"""

from __future__ import annotations

import re

__all__ = ["visible", "visible_lines"]

#: every code point the rule shows visibly; ``\n`` and ``\t`` too (kept only by
#: :func:`visible_lines`, for multi-line text such as a file's content).
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_UNSAFE_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _show(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def visible(text: object) -> str:
    """``text`` as one line that a terminal cannot act on (see the module docstring).

    ``bytes`` are decoded as UTF-8 first, invalid bytes shown as ``\\xNN``; any other
    object is formatted with ``str()``. Newlines and tabs are escaped too, so a field
    can never break a line-oriented output (text, CSV, an error line).
    """
    if isinstance(text, bytes | bytearray | memoryview):
        text = bytes(text).decode("utf-8", "surrogateescape")
    elif not isinstance(text, str):
        text = str(text)
    if UNSAFE.search(text) is None:  # the common case: nothing to do
        return text
    return UNSAFE.sub(_show, text)


def visible_lines(text: str | bytes) -> str:
    """:func:`visible` for multi-line text (a file's content): ``\\n`` and ``\\t`` kept."""
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8", "surrogateescape")
    if _UNSAFE_LINES.search(text) is None:
        return text
    return _UNSAFE_LINES.sub(_show, text)
