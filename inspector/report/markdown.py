"""The markdown compare report: headings and tables to paste into a pull request or a
slide (GitHub-flavoured; paths in code spans, bars as block characters). It formats the
rows of ``inspector.report.sections``; a bar joins the cell before it, in a left-aligned
column."""

from __future__ import annotations

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


def code(text: str) -> str:
    """A code span that survives backticks and pipes in the text."""
    text = text.replace("|", "\\|")
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _cell(cell: Cell | ListCell) -> str:
    if isinstance(cell, ListCell):
        items = cell.items
        return f"{len(items)}: " + ", ".join(code(p) for p in items) if items else "none"
    out = []
    for span in cell:
        if span.style == "code":
            out.append(code(span.text))
        elif span.style == "strong":
            out.append(f"**{span.text}**")
        else:
            out.append(span.text)
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
        words = ", ".join(_cell(w) for w in block.words)
        return [f"- {_cell(block.lead)}: {words or '—'}"]
    if isinstance(block, Para):
        return [block.text]
    if isinstance(block, Bullets):
        return [f"- {line}" for line in block.lines]
    raise TypeError(f"not a report block: {block!r}")


def render_markdown(result: CompareResult, *, files: bool = False, sort: str = "size") -> str:
    md: list[str] = [f"# {' vs '.join(result.labels)}"]
    for section in sections(result, files=files, sort=sort):
        md += ["", f"{'#' * section.level} {section.title}"]
        previous: Block | None = None
        for block in section.blocks:
            if not (isinstance(block, Items) and isinstance(previous, Items)):
                md.append("")  # consecutive items form one list
            md += _block(block)
            previous = block
    return "\n".join(md) + "\n"

