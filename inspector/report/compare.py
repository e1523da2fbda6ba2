"""``inspector compare``: render a ``CompareResult`` as text, markdown or the
``inspector.compare/v1`` JSON (architecture page; fields may be added, never renamed).
Text and markdown format the rows of ``inspector.report.sections``; the JSON is the model
(``compare_json.to_json``).
Byte totals follow the hardlink rule (``inspector.index.hardlinks``); JSON layer ``index``
and ``layers`` fields are 0-based positions, text and markdown print layers 1..N.

    render(result, "markdown", files=True, sort="size", color=False) -> str
"""

from __future__ import annotations

import json

from inspector.compare.model import CompareResult
from inspector.report.compare_json import SCHEMA, to_json

__all__ = ["FORMATS", "SCHEMA", "SORTS", "render", "to_json"]

FORMATS = ("text", "markdown", "json", "html")
SORTS = ("size", "path")


def render(result: CompareResult, fmt: str = "text", *, files: bool = False,
           sort: str = "size", color: bool = False, analyses=None, command: str = "") -> str:
    """The report as one string ending in a newline. ``color`` (ANSI) applies to text
    only; the CLI sets it when stdout is a terminal and ``NO_COLOR`` is unset. ``html``
    needs the ``analyses`` (in image order; treemaps) and shows ``command`` in its footer."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {SORTS}, not {sort!r}")
    if fmt == "json":
        return json.dumps(to_json(result, files=files, sort=sort), indent=2,
                          ensure_ascii=True) + "\n"
    if fmt == "markdown":
        from inspector.report.markdown import render_markdown

        return render_markdown(result, files=files, sort=sort)
    if fmt == "html":
        from inspector.report.html import render_compare

        if analyses is None:
            raise ValueError("the html format needs the analyses of the compared images")
        return render_compare(result, analyses, files=files, sort=sort, command=command)
    if fmt == "text":
        from inspector.report.text import render_text

        return render_text(result, files=files, sort=sort, color=color)
    raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
