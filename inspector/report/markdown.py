"""The markdown compare report: headings and tables to paste into a pull request or a
slide (GitHub-flavoured; paths in code spans, bars as block characters)."""

from __future__ import annotations

from collections.abc import Sequence

from inspector.compare.model import CompareResult, FileRef
from inspector.report.compare import sorted_changes, sorted_refs
from inspector.report.sizes import bar, count, human


def code(text: str) -> str:
    """A code span that survives backticks and pipes in the text."""
    text = text.replace("|", "\\|")
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |",
             "|" + "|".join("---:" if r else "---" for r in right) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _file(ref: FileRef | None) -> str:
    if ref is None:
        return "absent"
    extra = f" → {code(ref.target)}" if ref.target else ""
    return f"{ref.type} {human(ref.size)} {ref.mode & 0o7777:04o}{extra}"


def render_markdown(result: CompareResult, *, files: bool = False, sort: str = "size") -> str:
    labels = result.labels
    n = len(labels)
    ims = result.images
    md: list[str] = [f"# {' vs '.join(labels)}", ""]

    md += ["## Sizes", ""]
    md += _table(["", *labels], [
        ["compressed", *[human(im.compressed_size) for im in ims]],
        ["uncompressed", *[human(im.uncompressed_size) for im in ims]],
        ["file bytes", *[human(im.file_bytes) for im in ims]],
        ["files", *[f"{im.files:,}" for im in ims]],
        ["packages", *[f"{im.packages:,}" for im in ims]],
        ["layers", *[str(len(im.layers)) for im in ims]],
    ], [False] + [True] * n)

    md += ["", "## Layers", ""]
    rows = []
    for im in ims:
        for la in im.layers:
            rows.append([im.label, str(la.index), code(la.diff_id.split(":")[-1][:12]),
                         human(la.compressed_size), human(la.uncompressed_size),
                         ", ".join(labels[j] for j in la.shared_with) or "—"])
    md += _table(["image", "layer", "diff_id", "compressed", "uncompressed", "shared with"],
                 rows, [False, True, False, True, True, False])

    md += ["", "## Categories", ""]
    scale = max((c.bytes for row in result.categories for c in row.per_image), default=0)
    rows = []
    for row in result.categories:
        cells = [row.name]
        for c in row.per_image:
            cells += (["none", ""] if c.files == 0 else
                      [count(c.files, "file"), f"{human(c.bytes)} {bar(c.bytes, scale)}"])
        rows.append(cells)
    md += _table(["category", *[h for label in labels for h in (label, "bytes")]], rows,
                 [False] + [True, False] * n)
    md += ["", "### Verdict", ""]
    md += [f"- {line}" for line in result.verdicts] or ["- the images have the same categories"]

    pk = result.packages
    md += ["", "## Packages", "",
           f"Common: {pk.common_count:,}. Version changed: {len(pk.version_changed):,}.", ""]
    for i, refs in enumerate(pk.only_in):
        names = ", ".join(f"{code(p.name)} {human(p.size)}" if p.size is not None
                          else code(p.name) for p in refs)
        md.append(f"- only in **{labels[i]}** ({len(refs):,}): {names or '—'}")
    if pk.version_changed:
        md += ["", *_table(["package", *labels],
                           [[code(v.name), *[code(x) if x else "—" for x in v.versions]]
                            for v in pk.version_changed], [False] * (n + 1))]

    fd = result.files
    by = fd.changed_by()
    md += ["", "## Files", ""]
    rows = [[f"only in {lbl}", f"{k:,}"] for lbl, k in zip(labels, fd.only_in_counts, strict=True)]
    rows.append(["changed (" + ", ".join(f"{k} {v:,}" for k, v in by.items()) + ")",
                 f"{len(fd.changed):,}"])
    if n > 2:
        rows.append(["in some, not all", f"{fd.partial:,}"])
    rows.append(["common", f"{fd.common:,}"])
    md += _table(["files", "count"], rows, [False, True])
    if files:
        for i, refs in enumerate(fd.only_in):
            md += ["", f"### Only in {labels[i]}", ""]
            md += _table(["path", "type", "size", "mode"],
                         [[code(r.path), r.type, human(r.size), f"{r.mode & 0o7777:04o}"]
                          for r in sorted_refs(refs, sort)], [False, False, True, False])
        md += ["", "### Changed", ""]
        md += _table(["path", "what", *labels],
                     [[code(c.path), ", ".join(c.reasons), *[_file(r) for r in c.per_image]]
                      for c in sorted_changes(fd.changed, sort)], [False] * (n + 2))

    md += ["", "## Findings", ""]
    md += _table(["finding", *labels],
                 [[name.replace("_", " "),
                   *[(f"{len(x)}: " + ", ".join(code(p) for p in x)) if x else "none"
                     for x in per_image]]
                  for name, per_image in result.findings.items()], [False] * (n + 1))
    return "\n".join(md) + "\n"
