"""Hostile strings shared by every output test (issue 23 item 6): headless reports and the TUI.

Each :class:`Hostile` carries the raw text an image or a list file may hold and ``shown``,
what :func:`inspector.visible.visible` must turn it into (the one escaping rule). The
table is data, not wording: tests put ``raw`` into file names, link targets, package
fields, ``/etc/passwd``, config strings and references, run an output, then check with
:func:`assert_inert` that nothing a terminal obeys came out and that ``shown`` did.

``raw`` is a ``str``; bytes that are not UTF-8 are kept as ``surrogateescape`` surrogates
(as the walker keeps them): ``raw_bytes`` gives the bytes to write into a tar or a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["HOSTILE", "Hostile", "assert_inert", "by_name", "ids", "unsafe_in"]


@dataclass(frozen=True)
class Hostile:
    name: str
    raw: str
    shown: str  # visible(raw)
    in_path: bool = True  # usable inside one path component (no "/", no NUL)

    @property
    def raw_bytes(self) -> bytes:
        return self.raw.encode("utf-8", "surrogateescape")


HOSTILE: list[Hostile] = [
    Hostile("osc-title", "t\x1b]0;pwned\x07x", "t\\x1b]0;pwned\\x07x"),
    Hostile("csi-clear", "c\x1b[2J\x1b[Hx", "c\\x1b[2J\\x1b[Hx"),
    Hostile("cr-overwrite", "ok\rEVIL", "ok\\x0dEVIL"),
    Hostile("newline", "one\ntwo", "one\\x0atwo"),
    Hostile("tab", "a\tb", "a\\x09b"),
    Hostile("nul", "n\x00ul", "n\\x00ul", in_path=False),
    Hostile("del", "d\x7fel", "d\\x7fel"),
    Hostile("c1-csi", "c1\u009b2Jx", "c1\\x9b2Jx"),
    Hostile("invalid-utf8", b"bad\xff\xfe".decode("utf-8", "surrogateescape"), "bad\\xff\\xfe"),
    Hostile("bidi-override", "abc\u202etxt.exe", "abc\\u202etxt.exe"),
    # bidi marks: no override, but they move neutrals ("." "/" digits) across RTL text
    Hostile("lrm", "a\u200eb", "a\\u200eb"),
    Hostile("rlm", "exe.\u200ftxt", "exe.\\u200ftxt"),
    Hostile("alm", "\u061c1-2", "\\u061c1-2"),
    # line and paragraph separators: a markdown viewer, a browser or an editor breaks there
    Hostile("line-separator", "one\u2028two", "one\\u2028two"),
    Hostile("paragraph-separator", "one\u2029two", "one\\u2029two"),
    # invisible: "bash" and "ba<ZWSP>sh" look the same; tags smuggle unseen ASCII
    Hostile("zero-width-space", "ba\u200bsh", "ba\\u200bsh"),
    Hostile("zwj-in-ascii", "ba\u200dsh", "ba\\u200dsh"),
    Hostile("bom", "\ufeffbash", "\\ufeffbash"),
    Hostile("tag-smuggling", "ok\U000e0041\U000e0042", "ok\\U000e0041\\U000e0042"),
    Hostile("markdown-pipe", "p|i`pe`*x*", "p|i`pe`*x*"),
    Hostile("csv-formula", "=HYPERLINK(\"x\",\"y\")", "=HYPERLINK(\"x\",\"y\")"),
]


def ids(table: list[Hostile] = HOSTILE) -> list[str]:
    return [h.name for h in table]


def by_name(name: str) -> Hostile:
    return next(h for h in HOSTILE if h.name == name)


#: what must never reach a person's terminal: C0 controls except ``\n`` (and ``\t``
#: where it is layout), DEL, C1 controls, bidi overrides/isolates/marks, line and paragraph
#: separators, invisible format characters, lone surrogates (a non-UTF-8 byte that was
#: passed through); ZWJ/ZWNJ after ASCII (or first), tag characters outside an emoji flag.
#: Written out here, not taken from ``inspector.visible``: the checker is the oracle.
_ALWAYS = ("\x0b-\x1f\x7f-\x9f\xad\u061c\u180e\u200b\u200e\u200f\u2028-\u202e\u2060-\u206f"
           "\ufeff\ufff9-\ufffb\ud800-\udfff\U00013430-\U0001343f\U0001bca0-\U0001bca3"
           "\U0001d173-\U0001d17a\U000e0000-\U000e001f")
_CONTEXT = ("|(?<![^\x00-\xbf\u2000-\u206f\ud800-\udfff])[\u200c\u200d]"
            "|(?<![\U0001f3f4\U000e0020-\U000e007f])[\U000e0020-\U000e007f]+")
_UNSAFE = re.compile(f"[\x00-\x08{_ALWAYS}]{_CONTEXT}")
_UNSAFE_NO_TAB = re.compile(f"[\x00-\x09{_ALWAYS}]{_CONTEXT}")


def unsafe_in(text: str | bytes, *, tabs: bool = False) -> list[str]:
    """The unsafe characters of ``text`` (bytes are decoded as UTF-8, bad bytes kept as
    surrogates so they count); ``tabs`` allows ``\\t`` (layout)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "surrogateescape")
    return (_UNSAFE if tabs else _UNSAFE_NO_TAB).findall(text)


def assert_inert(text: str | bytes, *shown: str, tabs: bool = False) -> None:
    """``text`` (an output meant for a person) holds nothing a terminal obeys, and each of
    ``shown`` (the visible forms of the hostile strings put in) appears in it."""
    bad = unsafe_in(text, tabs=tabs)
    assert not bad, f"raw control characters {sorted(set(bad))!r} in output:\n{text!r}"
    if isinstance(text, bytes):
        text = text.decode("utf-8", "surrogateescape")
    for form in shown:
        assert form in text, f"{form!r} not shown in output:\n{text!r}"
