"""The one escaping rule (inspector/visible.py): a named table of hostile strings."""

import sys
import unicodedata

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
    # Zl, Zp: a markdown viewer, a browser or an editor breaks the line there
    ("line separator", "a\u2028b", "a\\u2028b"),
    ("paragraph separator", "a\u2029b", "a\\u2029b"),
    # bidi marks (Cf): they move neutrals and digits across right-to-left text
    ("left-to-right mark", "a\u200eb", "a\\u200eb"),
    ("right-to-left mark", "exe.\u200ftxt", "exe.\\u200ftxt"),
    ("arabic letter mark", "\u061c1/2", "\\u061c1/2"),
    # invisible format characters (Cf): a name that looks like another
    ("soft hyphen", "ba\xadsh", "ba\\xadsh"),
    ("zero width space", "ba\u200bsh", "ba\\u200bsh"),
    ("word joiner", "ba\u2060sh", "ba\\u2060sh"),
    ("invisible plus", "1\u20642", "1\\u20642"),
    ("deprecated format", "a\u206ab", "a\\u206ab"),
    ("byte order mark", "\ufeffbash", "\\ufeffbash"),
    ("mongolian vowel separator", "a\u180eb", "a\\u180eb"),
    ("interlinear annotation", "a\ufff9b\ufffbc", "a\\ufff9b\\ufffbc"),
    ("language tag", "a\U000e0001", "a\\U000e0001"),
    ("musical format (astral)", "a\U0001d173b", "a\\U0001d173b"),
    ("zwj after ascii", "ba\u200dsh", "ba\\u200dsh"),
    ("zwnj first", "\u200cbash", "\\u200cbash"),
    ("zwj after a mark", "a\u200e\u200db", "a\\u200e\\u200db"),
    ("tags smuggling ascii", "ok\U000e0041\U000e0042", "ok\\U000e0041\\U000e0042"),
    ("tags after a flag's end", "\U0001f3f4a\U000e0041", "\U0001f3f4a\\U000e0041"),
    # kept: what draws an emoji or a script, and visible signs
    ("emoji zwj sequence", "\U0001f468\u200d\U0001f469\u200d\U0001f467",
     "\U0001f468\u200d\U0001f469\u200d\U0001f467"),
    ("emoji zwj after vs16", "\U0001f3f3\ufe0f\u200d\U0001f308", "\U0001f3f3\ufe0f\u200d\U0001f308"),
    ("emoji tag flag", "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
     "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"),
    ("persian zwnj", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
     "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"),
    ("devanagari zwj", "\u0915\u094d\u200d\u0937", "\u0915\u094d\u200d\u0937"),
    ("arabic number sign", "\u06001234", "\u06001234"),
    ("private use", "\ue0a0 main", "\ue0a0 main"),
    ("unassigned", "a\U0003ffffb", "a\U0003ffffb"),
    ("no-break space", "a\xa0b", "a\xa0b"),
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


@pytest.mark.parametrize(("name", "raw", "shown"), CASES, ids=[c[0] for c in CASES])
def test_lines_follow_the_same_rule(name, raw, shown):
    """Beyond ``\n`` and ``\t``, multi-line text is escaped as one line is."""
    if "\n" not in raw and "\t" not in raw:
        assert visible_lines(raw) == shown


#: what each Unicode category gets (the audit of issue 23's leftover), and why:
#: Cc controls and Cs surrogates: a terminal obeys them, or they are bytes that were not UTF-8;
#: Zl, Zp: a viewer breaks the line; Co private use: a font's glyph (powerline, icons), drawn
#: and never obeyed; Cn unassigned: a box today, a character tomorrow (escaping them would tie
#: the output to this Python's Unicode version) but inside the blocks of format characters
#: (``RESERVED_CF``); Cf: see ``KEPT_CF``, everything else escaped.
CATEGORY_ESCAPED = {"Cc": True, "Cs": True, "Zl": True, "Zp": True, "Co": False, "Cn": False}
#: unassigned in some Unicode version, in a run of format characters: escaped as they are
RESERVED_CF = {0x2065, *range(0x13430, 0x13440), *range(0xE0000, 0xE0020)}
#: format characters kept as they are: the prepended concatenation marks are visible signs
#: drawn over the digits that follow; ZWNJ/ZWJ (after a non-ASCII character) and the tag
#: characters (inside an emoji flag) draw a script or an emoji, see ``CASES``
KEPT_CF = {0x200C, 0x200D, *range(0xE0020, 0xE0080),
           *range(0x0600, 0x0606), 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2, 0x110BD, 0x110CD}


def test_every_category_is_decided():
    """Every code point of the categories the rule decides gets what its category says
    (in the context that keeps the kept ones: after a non-ASCII letter, inside a flag)."""
    wrong = []
    for code in range(sys.maxunicode + 1):
        cat = unicodedata.category(chr(code))
        if cat == "Cf" or code in RESERVED_CF:
            escaped = code not in KEPT_CF
        elif cat in CATEGORY_ESCAPED:
            escaped = CATEGORY_ESCAPED[cat]
        else:
            continue
        prefix = "\U0001f3f4" if 0xE0020 <= code <= 0xE007F else "\u0645"
        text = prefix + chr(code)
        shown = visible(text)
        if (shown != text) != escaped:
            wrong.append(f"U+{code:04X} {cat} {'kept' if escaped else 'escaped'}")
    assert wrong == [], f"{len(wrong)} code points: {wrong[:20]}"
