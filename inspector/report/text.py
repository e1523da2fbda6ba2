"""The plain-text compare report: aligned columns, human sizes, bars; ANSI colour only
when asked (the CLI asks when stdout is a terminal and ``NO_COLOR`` is unset)."""

from __future__ import annotations

from collections.abc import Sequence

from inspector.compare.model import CompareResult, FileRef
from inspector.report.compare import sorted_changes, sorted_refs
from inspector.report.sizes import bar, count, human

BOLD, DIM, RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"
#: one colour per image column (cycled)
IMAGE_COLORS = ("\x1b[36m", "\x1b[35m", "\x1b[33m", "\x1b[32m", "\x1b[34m")
#: widest a wrapped line of names gets
WRAP = 100
#: characters of a layer's created_by kept in the layer list
CREATED_BY_CHARS = 60

Cell = str | tuple[str, str]  # text, or (text, ANSI style)


class _Out:
    def __init__(self, color: bool) -> None:
        self.color = color
        self.lines: list[str] = []

    def style(self, text: str, code: str) -> str:
        return f"{code}{text}{RESET}" if self.color and code and text else text

    def line(self, text: str = "") -> None:
        self.lines.append(text.rstrip())

    def title(self, text: str) -> None:
        if self.lines and self.lines[-1]:
            self.line()
        self.line(self.style(text, BOLD))

    def table(self, rows: Sequence[Sequence[Cell]], right: Sequence[bool], indent: int = 2) -> None:
        """Columns padded to their widest cell (styles applied after padding)."""
        plain = [[c if isinstance(c, str) else c[0] for c in row] for row in rows]
        widths = [max((len(r[i]) for r in plain if i < len(r)), default=0)
                  for i in range(len(right))]
        for row, texts in zip(rows, plain, strict=True):
            cells = []
            for i, (cell, text) in enumerate(zip(row, texts, strict=False)):
                padded = text.rjust(widths[i]) if right[i] else text.ljust(widths[i])
                cells.append(padded if isinstance(cell, str) else
                             padded.replace(text, self.style(text, cell[1]), 1))
            self.line(" " * indent + "  ".join(cells))

    def wrapped(self, words: list[str], indent: int) -> None:
        line = ""
        for word in words:
            if line and len(line) + 2 + len(word) > WRAP - indent:
                self.line(" " * indent + line + ",")
                line = word
            else:
                line = f"{line}, {word}" if line else word
        if line:
            self.line(" " * indent + line)


def _color(i: int) -> str:
    return IMAGE_COLORS[i % len(IMAGE_COLORS)]


def _file_line(ref: FileRef) -> str:
    extra = f" -> {ref.target}" if ref.target else ""
    return f"{human(ref.size):>9}  {ref.mode & 0o7777:04o}  {ref.type:<8}  {ref.path}{extra}"


def render_text(result: CompareResult, *, files: bool = False, sort: str = "size",
                color: bool = False) -> str:
    out = _Out(color)
    labels = result.labels
    n = len(labels)
    heads: list[Cell] = [(label, BOLD + _color(i)) for i, label in enumerate(labels)]
    out.line(out.style(" vs ".join(labels), BOLD))

    out.title("SIZES")
    ims = result.images
    out.table([["", *heads],
               ["compressed", *[human(im.compressed_size) for im in ims]],
               ["uncompressed", *[human(im.uncompressed_size) for im in ims]],
               ["file bytes", *[human(im.file_bytes) for im in ims]],
               ["files", *[f"{im.files:,}" for im in ims]],
               ["packages", *[f"{im.packages:,}" for im in ims]],
               ["layers", *[str(len(im.layers)) for im in ims]]],
              [False] + [True] * n)

    out.title("LAYERS  (compressed, uncompressed; base first)")
    for i, im in enumerate(ims):
        out.line("  " + out.style(im.label, _color(i)))
        out.table([[str(la.index), la.diff_id.split(":")[-1][:12], human(la.compressed_size),
                    human(la.uncompressed_size),
                    ("shared with " + ", ".join(labels[j] for j in la.shared_with)
                     if la.shared_with else la.created_by[:CREATED_BY_CHARS])]
                   for la in im.layers], [True, False, True, True, False], indent=4)
    if result.shared_layers:
        out.title("SHARED LAYERS")
        out.table([[s.diff_id.split(":")[-1][:12], human(s.compressed_size),
                    human(s.uncompressed_size), ", ".join(labels[j] for j in s.images)]
                   for s in result.shared_layers], [False, True, True, False])

    out.title("CATEGORIES  (files, bytes)")
    scale = max((c.bytes for row in result.categories for c in row.per_image), default=0)
    rows: list[list[Cell]] = [["", *[c for h in heads for c in (h, "", "")]]]
    for row in result.categories:
        cells: list[Cell] = [row.name]
        for i, c in enumerate(row.per_image):
            if c.files == 0:
                cells += [("none", DIM), "", ""]
            else:
                cells += [count(c.files, "file"), human(c.bytes), (bar(c.bytes, scale), _color(i))]
        rows.append(cells)
    out.table(rows, [False] + [True, True, False] * n)

    verdicts = result.verdicts
    out.title("VERDICT")
    for line in verdicts or ["the images have the same categories"]:
        out.line("  " + line)

    pk = result.packages
    out.title(f"PACKAGES  (common {pk.common_count:,}, version changed {len(pk.version_changed):,})")
    for i, refs in enumerate(pk.only_in):
        out.line(f"  only in {out.style(labels[i], _color(i))} ({len(refs):,})")
        out.wrapped([f"{p.name} {human(p.size)}" if p.size is not None else p.name
                     for p in refs], indent=4)
    if pk.version_changed:
        out.line("  version changed")
        out.table([["", *heads], *[[vc.name, *[v or "-" for v in vc.versions]]
                                   for vc in pk.version_changed]],
                  [False] * (n + 1), indent=4)

    fd = result.files
    out.title("FILES  (non-directories of the merged filesystems)")
    by = fd.changed_by()
    rows = [[f"only in {lbl}", f"{k:,}"] for lbl, k in zip(labels, fd.only_in_counts, strict=True)]
    rows.append(["changed", f"{len(fd.changed):,}",
                 "(" + ", ".join(f"{k} {v:,}" for k, v in by.items()) + ")"])
    if n > 2:
        rows.append(["in some, not all", f"{fd.partial:,}"])
    rows.append(["common", f"{fd.common:,}"])
    out.table(rows, [False, True, False])
    if files:
        for i, refs in enumerate(fd.only_in):
            out.line(f"  only in {out.style(labels[i], _color(i))}")
            for ref in sorted_refs(refs, sort):
                out.line("    " + _file_line(ref))
        out.line("  changed")
        for change in sorted_changes(fd.changed, sort):
            out.line(f"    {change.path}  ({', '.join(change.reasons)})")
            for i, ref in enumerate(change.per_image):
                shown = _file_line(ref) if ref else "absent"
                out.line(f"      {labels[i]}: {shown}")

    out.title("FINDINGS")
    rows = [["", *heads]]
    for name, per_image in result.findings.items():
        rows.append([name.replace("_", " "), *[f"{len(x):,}" for x in per_image]])
    out.table(rows, [False] + [True] * n)
    for name, per_image in result.findings.items():
        for i, items in enumerate(per_image):
            if items:
                out.line(f"  {name.replace('_', ' ')} in {out.style(labels[i], _color(i))}:")
                out.wrapped(items, indent=4)
    return "\n".join(out.lines) + "\n"
