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
* other lone surrogates; the bidirectional overrides and isolates that reorder what a
  reader sees (U+202A–U+202E, U+2066–U+2069, "Trojan Source") and the bidi marks that move
  neutrals and digits across right-to-left text (LRM, RLM, ALM); the line and paragraph
  separators U+2028/U+2029 (a markdown viewer, a browser or an editor breaks the line
  there); and the invisible format characters (category Cf: soft hyphen, zero-width space,
  word joiner, BOM, …), with which ``ba<ZWSP>sh`` looks like ``bash``: ``\\uNNNN``
  (``\\UNNNNNNNN`` past U+FFFF).

The format characters that draw an emoji or a script are kept where they do: ZWJ/ZWNJ
after a non-ASCII character (emoji sequences, Persian, Indic scripts; after ASCII, after
another format character or first they only hide), the tag characters inside an emoji flag
(after U+1F3F4 or another tag; elsewhere they smuggle unseen ASCII), and the prepended
concatenation marks (U+0600–U+0605, …: visible signs over the digits that follow).
Private-use characters (a font's icons) and unassigned code points (a box today, a
character tomorrow) are kept too: a terminal draws them and obeys none. The sets are
written out rather than read from ``unicodedata``, so the output does not change with the
Python's Unicode version (``tests/test_visible.py`` checks every category against them).

Everything else, including any printable non-ASCII text, is kept as it is.
"""

from __future__ import annotations

import re
from functools import cache

__all__ = ["visible", "visible_lines"]

#: the code points always shown visibly but ``\n`` and ``\t`` (``_unsafe()`` adds them;
#: :func:`visible_lines` keeps them, for multi-line text such as a file's content)
_ALWAYS = ("\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u061c\u180e\u200b\u200e\u200f\u2028-\u202e"
           "\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff\U00013430-\U0001343f"
           "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e001f")
#: (U+2065, U+13439–U+1343F and U+E0000–U+E001F are unassigned in Unicode 14 but inside
#: the blocks of format characters: escaped already, whatever a later version puts there)
#: ZWNJ/ZWJ unless after a non-ASCII character that is not itself a mark or a space
#: (U+2000–U+206F) nor a stray byte; a run of tag characters unless right after U+1F3F4
#: (one match: a run's later tags follow a tag)
_CONTEXT = ("|(?<![^\x00-\xbf\u2000-\u206f\ud800-\udfff])[\u200c\u200d]"
            "|(?<![\U0001f3f4\U000e0020-\U000e007f])[\U000e0020-\U000e007f]+")


@cache
def _unsafe(lines: bool = False) -> re.Pattern[str]:
    """Every code point :func:`visible` shows visibly (``lines``: but ``\\n`` and ``\\t``),
    compiled on first use: the two patterns are ~2 ms of every start-up, and most runs
    (``inspector export``) show no string from an image."""
    return re.compile(f"[{_ALWAYS}]{_CONTEXT}" if lines else f"[\t\n{_ALWAYS}]{_CONTEXT}")


def _show(match: re.Match[str]) -> str:
    text = match.group()
    return _one(text) if len(text) == 1 else "".join(map(_one, text))


def _one(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    if code > 0xFFFF:
        return f"\\U{code:08x}"
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
    unsafe = _unsafe()
    if unsafe.search(text) is None:  # the common case: nothing to do
        return text
    return unsafe.sub(_show, text)


def visible_lines(text: str | bytes) -> str:
    """:func:`visible` for multi-line text (a file's content): ``\\n`` and ``\\t`` kept."""
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8", "surrogateescape")
    unsafe = _unsafe(lines=True)
    if unsafe.search(text) is None:
        return text
    return unsafe.sub(_show, text)
