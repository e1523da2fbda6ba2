"""The one escaping rule (inspector/visible.py): a named table of hostile strings."""

import pytest

from inspector.visible import visible, visible_lines

CASES = [
    ("plain", "usr/bin/bash", "usr/bin/bash"),
    ("non-ascii printable", "café/日本", "café/日本"),
    ("osc title", "\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),
    ("clear screen", "a\x1b[2Jb", "a\\x1b[2Jb"),
    ("carriage return", "ok\rEVIL", "ok\\x0dEVIL"),
    ("newline", "a\nb", "a\\x0ab"),
    ("tab", "a\tb", "a\\x09b"),
    ("nul", "a\x00b", "a\\x00b"),
    ("del", "a\x7fb", "a\\x7fb"),
    ("c1 csi", "a\x9b2Jb", "a\\x9b2Jb"),
    ("invalid utf-8 kept as surrogate", b"a\xffb".decode("utf-8", "surrogateescape"), "a\\xffb"),
    ("bidi override", "abc\u202edef", "abc\\u202edef"),
    ("bidi isolate", "x\u2066y", "x\\u2066y"),
    ("lone surrogate", "x\ud800y", "x\\ud800y"),
]


@pytest.mark.parametrize(("name", "raw", "shown"), CASES, ids=[c[0] for c in CASES])
def test_visible(name, raw, shown):
    assert visible(raw) == shown
    if not any(0xD800 <= ord(c) <= 0xDFFF for c in raw):  # bytes in give the same
        assert visible(raw.encode()) == shown


def test_bytes_invalid_utf8():
    assert visible(b"\x1b[31m\xff") == "\\x1b[31m\\xff"


def test_non_str_formatted():
    assert visible(12) == "12"


def test_lines_keep_newlines_and_tabs():
    assert visible_lines("a\n\tb\x1b") == "a\n\tb\\x1b"
