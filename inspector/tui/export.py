"""Saving what is on screen: ``w`` writes the tab on screen as markdown, the palette's
Screenshot an SVG. Both go to a directory that exists and is writable — the working
directory, else the cache directory — never a guessed ``~/Downloads``; the caller shows
the path. (In a browser, ``inspector serve``, the file is offered as a download instead.)

The markdown is the headless report's where there is one (the compare report; one image:
its one-image report), else the rows on screen (the Files tab: the filtered paths)."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from pathlib import Path

from inspector.analysis import Analysis
from inspector.compare import CompareResult, compare_analyses
from inspector.index.tree import TreeRows
from inspector.options import Options
from inspector.report.compare import render
from inspector.report.markdown import code, text
from inspector.report.sizes import human

#: rows of the Files tab written at most (a whole 150k-file tree is not a handout)
MAX_FILE_ROWS = 5000


def save_dir(options: Options) -> Path:
    """The working directory if it is writable, else the cache directory (created)."""
    try:
        cwd = Path.cwd()  # gone when the directory was removed under us
    except OSError:
        cwd = None
    if cwd is not None and os.access(cwd, os.W_OK | os.X_OK):
        return cwd
    root = options.resolved_cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    return root


def file_name(labels: Sequence[str], what: str, suffix: str) -> str:
    """``inspector-debian-12-slim-vs-distroless-static-overview-20261206-201500.md``:
    only letters, digits, ``.``, ``_`` and ``-`` (a label may hold anything)."""
    stem = "-vs-".join(labels) + "-" + what
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem)[:120].strip("._-") or "screen"
    return f"inspector-{stem}-{time.strftime('%Y%m%d-%H%M%S')}{suffix}"


def write(directory: Path, name: str, content: str) -> Path:
    """``content`` to ``directory/name``, whole or not at all (a temp file renamed)."""
    path = directory / name
    tmp = directory / f".{name}.tmp-{os.getpid()}"
    try:
        tmp.write_text(content, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def report_markdown(result: CompareResult) -> str:
    """The compare report (sizes, layers, categories, packages, files, findings, security)."""
    return render(result, "markdown")


def single_markdown(analysis: Analysis) -> str:
    """One image's report: the compare report of that image alone."""
    return render(compare_analyses([analysis]), "markdown")


def files_markdown(title: str, filter_text: str, labels: Sequence[str],
                   columns: Sequence[TreeRows]) -> str:
    """The Files tab's rows (non-directories) as a table: path, then per image its size
    or ``absent``. ``columns``: one row model per image, the rows aligned (compare), or
    one (inspect)."""
    lead = columns[0]
    lines = [f"# {text(title)}", ""]
    if filter_text:
        lines += [f"Filter: {code(filter_text, cell=False)}", ""]
    lines += ["| path | " + " | ".join(text(label) for label in labels) + " |",
              "|---|" + "---:|" * len(labels)]
    shown = 0
    for path in lead.rows:
        if lead.tree.is_dir(path):
            continue
        if shown == MAX_FILE_ROWS:
            lines.append(f"\n… (the first {MAX_FILE_ROWS:,} files)")
            break
        shown += 1
        cells = ["absent" if m.tree.is_ghost(path) else human(m.tree.size(path))
                 for m in columns]
        lines.append(f"| {code(path)} | " + " | ".join(cells) + " |")
    if not shown:
        lines.append("| (no files) |" + " |" * len(labels))
    return "\n".join(lines) + "\n"
