"""The reviewed category table of one image, as markdown: per category its files, bytes
and ten largest paths (size, owning package). Written by ``test_golden.py``; a reviewer
reads the diff of this file when the rules change."""

from __future__ import annotations

from inspector.catalog.builder import Catalog
from inspector.classify import Classification
from inspector.index.merge import MergedFS

#: paths listed per category
LARGEST = 10


def largest(fs: MergedFS, paths: list[str], n: int = LARGEST) -> list[tuple[str, int]]:
    """The ``n`` largest entries (bytes; links count 0), ties by path."""
    sized = [(p, fs.size(p) if fs.kind_name(p) == "file" else 0) for p in paths]
    return sorted(sized, key=lambda item: (-item[1], item[0]))[:n]


def render(title: str, fs: MergedFS, catalog: Catalog, cls: Classification) -> str:
    lines = [f"# Categories: {title}", "",
             f"{sum(t.files for t in cls.totals.values()):,} files, "
             f"{sum(t.bytes for t in cls.totals.values()):,} bytes "
             f"(the merged filesystem: {fs.file_bytes:,} bytes)", "",
             "| category | files | bytes |", "| --- | ---: | ---: |"]
    lines += [f"| {name} | {t.files:,} | {t.bytes:,} |" for name, t in cls.totals.items()]
    for name, total in cls.totals.items():
        if not total.files:
            continue
        lines += ["", f"## {name}", ""]
        for path, size in largest(fs, total.paths):
            owner = catalog.owner_name(path) or "-"
            lines.append(f"- `{path}` {size:,} ({owner})")
    return "\n".join(lines) + "\n"
