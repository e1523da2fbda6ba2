"""The plain-text compare report: aligned columns, human sizes, bars; ANSI colour only
when asked (the CLI asks when stdout is a terminal and ``NO_COLOR`` is unset). It formats
the rows of ``inspector.report.sections``.

Every string of a section (span, title, paragraph, list item: paths, package names, labels
from references) goes through ``visible()`` as ``_Out`` takes it, before padding and colour,
so a control character from an image is shown as ``\\xNN`` and only our own colour codes
reach the terminal."""

from __future__ import annotations

from collections.abc import Sequence

from inspector.compare.model import CompareResult
from inspector.report.sections import (
    Block,
    Bullets,
    Cell,
    Items,
    ListCell,
    Para,
    Section,
    Table,
    sections,
)
from inspector.visible import visible

BOLD, DIM, RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"
#: one colour per image column (cycled)
IMAGE_COLORS = ("\x1b[36m", "\x1b[35m", "\x1b[33m", "\x1b[32m", "\x1b[34m")
#: widest a wrapped line of names gets
WRAP = 100


def _color(i: int) -> str:
    return IMAGE_COLORS[i % len(IMAGE_COLORS)]


class _Out:
    def __init__(self, color: bool) -> None:
        self.color = color
        self.lines: list[str] = []

    def style(self, text: str, code: str) -> str:
        return f"{code}{text}{RESET}" if self.color and code and text else text

    def cell(self, cell: Cell | ListCell) -> tuple[str, str]:
        """(plain text, the same styled)."""
        if isinstance(cell, ListCell):
            text = f"{len(cell.items):,}"
            return text, text
        texts = [visible(span.text) for span in cell]
        plain = "".join(texts)
        styled = []
        for span, text in zip(cell, texts, strict=True):
            code = {"dim": DIM, "label": BOLD}.get(span.style, "")
            if span.image >= 0:
                code += _color(span.image)
            styled.append(self.style(text, code))
        return plain, "".join(styled)

    def line(self, text: str = "") -> None:
        self.lines.append(text.rstrip())

    def title(self, section: Section) -> None:
        if self.lines and self.lines[-1]:
            self.line()
        title = visible(section.title.upper() if section.level <= 2 else section.title)
        note = f"  ({visible(section.note)})" if section.note else ""
        self.line(self.style(title + note, BOLD))

    def table(self, rows: Sequence[Sequence[Cell | ListCell]], right: Sequence[bool],
              indent: int = 2) -> None:
        """Columns padded to their widest cell (styles applied after padding)."""
        done = [[self.cell(cell) for cell in row] for row in rows]
        widths = [max((len(r[i][0]) for r in done if i < len(r)), default=0)
                  for i in range(len(right))]
        for row in done:
            cells = []
            for i, (plain, styled) in enumerate(row):
                pad = " " * (widths[i] - len(plain))
                cells.append(pad + styled if right[i] else styled + pad)
            self.line(" " * indent + "  ".join(cells))

    def wrapped(self, words: list[str], indent: int) -> None:
        line = ""
        for word in map(visible, words):
            if line and len(line) + 2 + len(word) > WRAP - indent:
                self.line(" " * indent + line + ",")
                line = word
            else:
                line = f"{line}, {word}" if line else word
        if line:
            self.line(" " * indent + line)


def _table(out: _Out, table: Table) -> None:
    right = [col.right for col in table.cols]
    head = [col.head for col in table.cols]
    if not table.group:
        out.table([head, *table.rows], right)
    else:  # the first column as a sub-heading per group of rows
        groups: dict[str, list] = {}
        for row in table.rows:
            groups.setdefault(out.cell(row[0])[1], []).append(row[1:])
        for styled, rows in groups.items():
            out.line("  " + styled)
            out.table([head[1:], *rows], right[1:], indent=4)
    for row in table.rows:  # list cells: their items under the table
        for col, cell in zip(table.cols, row, strict=True):
            if isinstance(cell, ListCell) and cell.items:
                out.line(f"  {out.cell(row[0])[0]} in {out.cell(col.head)[1]}:")
                out.wrapped(cell.items, indent=4)


def _block(out: _Out, block: Block) -> None:
    if isinstance(block, Table):
        _table(out, block)
    elif isinstance(block, Items):
        out.line("  " + out.cell(block.lead)[1])
        out.wrapped([out.cell(w)[0] for w in block.words], indent=4)
    elif isinstance(block, Para):
        out.line("  " + visible(block.text))
    elif isinstance(block, Bullets):
        for line in block.lines:
            out.line("  " + visible(line))
    else:
        raise TypeError(f"not a report block: {block!r}")


def render_text(result: CompareResult, *, files: bool = False, sort: str = "size",
                color: bool = False) -> str:
    out = _Out(color)
    out.line(out.style(" vs ".join(map(visible, result.labels)), BOLD))
    for section in sections(result, files=files, sort=sort):
        out.title(section)
        for block in section.blocks:
            _block(out, block)
    return "\n".join(out.lines) + "\n"
