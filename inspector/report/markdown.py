"""The markdown compare report: headings and tables to paste into a pull request or a
slide (GitHub-flavoured; paths in code spans, bars as block characters). It formats the
rows of ``inspector.report.sections``; a bar joins the cell before it, in a left-aligned
column.

Every string of a section goes through :func:`code` (a code span) or :func:`text` (plain
text): both apply ``visible()`` (the one escaping rule: control characters and bytes that
were not UTF-8 shown as ``\\xNN``, so no line break either), then markdown's own escaping,
so a name from an image can neither end a table cell (``|``), open a code span, emphasis,
a link or raw HTML, nor drive the terminal the report is printed on. The audit and fit
reports use the same two functions."""

from __future__ import annotations

import re

from inspector.compare.model import CompareResult
from inspector.report.sections import (
    Block,
    Bullets,
    Cell,
    Items,
    ListCell,
    Para,
    Table,
    sections,
)
from inspector.visible import visible

#: what plain text must escape: backslash, code, emphasis, links, raw HTML and entities,
#: table cells, strikethrough; ``_`` only where it could start or end emphasis (not inside
#: a word such as ``package_database``)
_SPECIAL = re.compile(r"[\\`*\[\]<>|&~]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_TICKS = re.compile("`+")


def text(value: object) -> str:
    """``value`` as plain markdown text that shows exactly its visible form."""
    return _SPECIAL.sub(r"\\\g<0>", visible(value))


def code(value: object, *, cell: bool = True) -> str:
    """``value`` as a code span: fenced by more backticks than it holds in a row (CommonMark
    strips the one space each side); in a table ``cell`` its pipes are escaped (GFM splits
    cells before it reads code spans; elsewhere a backslash in a code span is literal)."""
    shown = visible(value)
    if cell:
        shown = shown.replace("|", "\\|")
    if "`" not in shown:
        return f"`{shown}`"
    ticks = "`" * (max(map(len, _TICKS.findall(shown))) + 1)
    return f"{ticks} {shown} {ticks}"


def fence(body: str) -> str:
    """A code fence longer than any run of backticks in ``body`` (at least three)."""
    return "`" * max(3, max(map(len, _TICKS.findall(body)), default=0) + 1)


def _cell(cell: Cell | ListCell, *, table: bool = True) -> str:
    if isinstance(cell, ListCell):
        items = cell.items
        return f"{len(items)}: " + ", ".join(code(p) for p in items) if items else "none"
    out = []
    for span in cell:
        if span.style == "code":
            out.append(code(span.text, cell=table))
        elif span.style == "strong":
            out.append(f"**{text(span.text)}**")
        else:
            out.append(text(span.text))
    return "".join(out)


def _table(table: Table) -> list[str]:
    heads: list[str] = []
    right: list[bool] = []
    keep: list[bool] = []  # False: a bar column, joined to the cell before it
    for col in table.cols:
        keep.append(not col.bar)
        if col.bar:
            right[-1] = False
        else:
            heads.append(_cell(col.head))
            right.append(col.right)
    lines = ["| " + " | ".join(heads) + " |",
             "|" + "|".join("---:" if r else "---" for r in right) + "|"]
    for row in table.rows:
        cells: list[str] = []
        for cell, own in zip(row, keep, strict=True):
            text = _cell(cell)
            if own:
                cells.append(text)
            elif cells[-1]:
                cells[-1] += " " + text
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _block(block: Block) -> list[str]:
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Items):
        words = ", ".join(_cell(w, table=False) for w in block.words)
        return [f"- {_cell(block.lead, table=False)}: {words or '—'}"]
    if isinstance(block, Para):
        return [text(block.text)]
    if isinstance(block, Bullets):
        return [f"- {text(line)}" for line in block.lines]
    raise TypeError(f"not a report block: {block!r}")


def render_markdown(result: CompareResult, *, files: bool = False, sort: str = "size") -> str:
    md: list[str] = [f"# {' vs '.join(map(text, result.labels))}"]
    for section in sections(result, files=files, sort=sort):
        md += ["", f"{'#' * section.level} {text(section.title)}"]
        previous: Block | None = None
        for block in section.blocks:
            if not (isinstance(block, Items) and isinstance(previous, Items)):
                md.append("")  # consecutive items form one list
            md += _block(block)
            previous = block
    return "\n".join(md) + "\n"

