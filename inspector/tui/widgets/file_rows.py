"""Rows of the file view: how one tree row is drawn, and the filter syntax it accepts.
Pure formatting on the Line API's ``Strip`` (no widget state)."""

from __future__ import annotations

from collections.abc import Callable

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from inspector.index.tree import (
    ADDED,
    MODIFIED,
    REMOVED,
    TreeFilter,
    TreeRows,
    compile_search,
    name_of,
)
from inspector.tui.format import SIZE_WIDTH, human, is_special, mode_string
from inspector.visible import visible

#: narrower than this, the mode/owner columns are hidden
ATTRS_MIN_WIDTH = 64

#: compare's mark for a path only *other* images have (a dim placeholder row, so every
#: column has one row per path)
ABSENT = "absent"
MARK_CHAR = {ADDED: "+", MODIFIED: "~", REMOVED: "-"}
#: filter tokens (``:added``) → marks; compare's words map onto the same three colours
MARK_TOKENS = {"added": ADDED, "only": ADDED, "modified": MODIFIED, "changed": MODIFIED,
               "removed": REMOVED, "missing": REMOVED}


#: filter terms naming a set of paths (``category:shell``, ``package:bash``,
#: ``finding:setuid``)
SET_TERMS = ("category", "package", "finding")
#: resolves a set term to its paths (raises ValueError for an unknown name)
Resolver = Callable[[str, str], frozenset[str]]


def parse_filter(text: str, resolve: Resolver | None = None) -> TreeFilter:
    """``*.so* :added`` → glob and marks; ``re:^/usr/lib`` → a regex; ``category:NAME`` and
    ``package:NAME`` → only that category's or package's paths (``resolve`` looks them up;
    several such terms must all hold). ValueError for a term it cannot resolve."""
    words, marks = [], set()
    only: frozenset[str] | None = None
    for word in text.split():
        kind, _, name = word.partition(":")
        if word.startswith(":") and word[1:].lower() in MARK_TOKENS:
            marks.add(MARK_TOKENS[word[1:].lower()])
        elif kind.lower() in SET_TERMS and name:
            if resolve is None:
                raise ValueError(f"{kind}: terms need an analysed image")
            paths = resolve(kind.lower(), name)
            only = paths if only is None else only & paths
        else:
            words.append(word)
    pattern = " ".join(words)
    regex = pattern.startswith("re:")
    if regex:
        pattern = pattern[3:]
    return TreeFilter(pattern=pattern, regex=regex, marks=frozenset(marks) if marks else None,
                      only=only)


def name_segments(name: str, term: str, style: Style, match: Style) -> list[Segment]:
    """The row's name, with what the jump-to search matches highlighted: the substring
    (case-insensitive), or the whole name for a glob that matches it."""
    if term:
        if any(c in term for c in "*?["):
            if "/" not in term and compile_search(term)(name):
                return [Segment(name, style + match)]
        else:
            i = name.lower().find(term.lower())
            if i >= 0:
                j = i + len(term)
                return [Segment(name[:i], style), Segment(name[i:j], style + match),
                        Segment(name[j:], style)]
    return [Segment(name, style)]


def render_row(m: TreeRows, path: str, depth: int, is_cursor: bool, width: int,
               show_attrs: bool, style: Callable[[str], Style], search: str = "") -> Strip:
    """One tree row of exactly ``width`` cells: change mark, mode and owner (when
    ``show_attrs`` and wide enough), size or directory total (of what the filter shows, in
    the reports' units), indented name, symlink target. Names and targets come from the
    image: shown through ``visible`` (a name cannot drive the terminal).
    ``style(name)`` gives the component style (``dim``, ``dir``, ``cursor``…)."""
    tree = m.tree
    base = style("base")
    mark = tree.marks.get(path)
    mark_style = style(mark) if mark else Style()
    ghost = tree.is_ghost(path)
    is_dir = tree.is_dir(path)
    char = MARK_CHAR.get(mark, " ") if mark is not None else " "
    segs: list[Segment] = [Segment(char + " ", mark_style)]
    if show_attrs and width >= ATTRS_MIN_WIDTH:
        if ghost:
            segs.append(Segment(" " * 22, base))
        else:
            mode = tree.fs.mode(path)
            kind = tree.fs.kind_name(path)
            uid, gid = tree.fs.owner(path)
            segs.append(Segment(mode_string(kind, mode),
                                style("special") if is_special(mode) else
                                style("dim")))
            segs.append(Segment(f" {f'{uid}:{gid}':<10} ", style("dim")))
    size = "" if ghost and not is_dir else human(m.size(path))
    segs.append(Segment(f"{size:>{SIZE_WIDTH}}  ", style("dim") if is_dir else base))
    glyph = ("▾ " if path in m.expanded else "▸ ") if is_dir else "  "
    segs.append(Segment("  " * depth + glyph, style("dim")))
    name_style = mark_style if mark else (style("dir") if is_dir else base)
    segs.extend(name_segments(visible(name_of(path)), search, name_style, style("match")))
    if is_dir:
        segs.append(Segment("/", name_style))
    if not ghost:  # a symlink shown as a directory (compare: other images' paths below
        # it, e.g. debian's /bin → usr/bin beside distroless's /bin/) still says where to
        target = tree.fs.target(path)
        if target is not None:
            segs.append(Segment(f" → {visible(target)}", style("link")))
    # every cell gets the base background first (no notch in the terminal's colour), then
    # the cursor bar goes *over* the segments' own styles: applied under them, as
    # ``apply_style`` does, their backgrounds would hide it
    strip = Strip(segs).adjust_cell_length(width, base).apply_style(base)
    if is_cursor:
        strip = cursor_bar(strip, style("cursor"))
    return strip.simplify()


def cursor_bar(strip: Strip, cursor: Style) -> Strip:
    """``strip`` with ``cursor``'s background (and boldness) over every cell; the cells'
    own colours stay, so a red or green name is still red or green on the bar."""
    bar = Style(bgcolor=cursor.bgcolor, bold=cursor.bold)
    return Strip([Segment(text, (seg_style or Style()) + bar, control)
                  for text, seg_style, control in strip], strip.cell_length)
