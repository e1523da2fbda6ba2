"""The audit's rows and their formats (text, markdown, json, csv).

A ``Row`` is built from the same ``export.header`` the ``inspector export`` document is made
of, so an audit row and an export of the same image cannot disagree. Rows are shown worst
first: failures, then images that still ship a shell, a package manager or core utilities
(more of them first), then by file bytes.

References come from the command line, a list file or a registry's catalog and an error
says what an image held, so every cell people read goes through ``visible()`` (the one
escaping rule): text and markdown in ``_cells``, CSV in ``_csv_cell``, which also guards
spreadsheets against formula injection (a cell starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return gets a leading ``'``, as OWASP advises). JSON keeps the raw strings.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field

from inspector.report.markdown import text as md_text
from inspector.visible import visible

SCHEMA = "inspector.audit/v1"
#: the categories a distroless migration removes, in the order the report shows them
WATCHED = ("shell", "package_manager", "core_utilities")


@dataclass
class Row:
    reference: str
    digest: str = ""  # manifest digest
    compressed: int = 0  # bytes of the layer blobs
    file_bytes: int = 0  # bytes of regular files in the merged filesystem
    files: int = 0  # non-directory entries
    packages: int = 0
    shell: int = 0  # files per watched category
    package_manager: int = 0
    core_utilities: int = 0
    setuid: int = 0
    efficiency: float = 0.0  # dive's score, 0..1
    layers: int = 0
    shared_layers: int = 0  # layers another audited image has too
    #: rules of ``inspector check`` that fail (the default rules, or ``--rules FILE``)
    rules_failed: list[str] = field(default_factory=list)
    #: with ``--fit``: the smallest distroless base the application runs on, ``none``, or
    #: why the fit could not be worked out (``n/a: …``)
    fit: str | None = None
    error: str | None = None

    @property
    def watched(self) -> list[str]:
        """The watched categories present in the image."""
        return [name for name in WATCHED if getattr(self, name)]


def row_from_analysis(reference: str, analysis, *, rules=None, fit_bases=None) -> Row:
    """The row of ``analysis``; with ``rules`` (a check ``RuleSet``) the failing rules,
    with ``fit_bases`` (analyses of candidate bases) the smallest base that fits."""
    row = _row(reference, analysis)
    if rules is not None:
        from inspector.check.evaluate import evaluate

        row.rules_failed = [v.rule for v in evaluate(analysis, rules) if v.status == "fail"]
    if fit_bases is not None:
        row.fit = fit_label(analysis, fit_bases)
    return row


def fit_label(analysis, bases) -> str:
    from inspector.errors import InspectorError
    from inspector.fit import fit

    try:
        result = fit(analysis, bases)
    except InspectorError as exc:
        return f"n/a: {exc.message}"
    return result.chosen.label if result.chosen is not None else "none"


def _row(reference: str, analysis) -> Row:
    from inspector.report.export import header

    head = header(analysis)
    categories = head["categories"]
    return Row(
        reference=reference, digest=head["manifest_digest"],
        compressed=head["size"]["compressed"], file_bytes=head["size"]["files"],
        files=sum(c["files"] for c in categories.values()),
        packages=len(head["packages"]),
        **{name: categories.get(name, {}).get("files", 0) for name in WATCHED},
        setuid=len(analysis.classification.findings.setuid),
        efficiency=head["efficiency"]["score"], layers=len(head["layers"]),
    )


def worst_first(rows: list[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: (r.error is None, -len(r.watched), -len(r.rules_failed),
                                       -r.file_bytes, r.reference))


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _present(row: Row, name: str) -> str:
    n = getattr(row, name)
    return f"yes ({n})" if n else "no"


COLUMNS = ("image", "digest", "compressed", "files", "packages", "shell", "package manager",
           "core utilities", "setuid", "efficiency", "shared layers", "rules")


def columns(result) -> tuple[str, ...]:
    """The table's columns: ``fit`` only when it was asked for."""
    return COLUMNS + ("fit",) if any(r.fit is not None for r in result.rows) else COLUMNS


def _cells(row: Row, names: tuple[str, ...]) -> list[str]:
    """The row as text and markdown show it: every cell visible()."""
    return [visible(cell) for cell in _raw_cells(row, names)]


def _raw_cells(row: Row, names: tuple[str, ...]) -> list[str]:
    if row.error:
        return [row.reference, "FAILED: " + row.error] + [""] * (len(names) - 2)
    cells = [row.reference, row.digest[:19], _mb(row.compressed), _mb(row.file_bytes),
             str(row.packages), *(_present(row, n) for n in WATCHED), str(row.setuid),
             f"{row.efficiency:.1%}", f"{row.shared_layers}/{row.layers}",
             "fail: " + ", ".join(row.rules_failed) if row.rules_failed else "pass"]
    if "fit" in names:  # the reason a fit is n/a is in the JSON and CSV rows
        cells.append("n/a" if (row.fit or "").startswith("n/a") else row.fit or "")
    return cells


def summary_lines(result) -> list[str]:
    rows = result.rows
    ok = [r for r in rows if not r.error]
    lines = [
        f"{len(rows)} images: {sum(1 for r in ok if r.shell)} ship a shell, "
        f"{sum(1 for r in ok if r.package_manager)} a package manager, "
        f"{sum(1 for r in ok if r.core_utilities)} core utilities; "
        f"{sum(1 for r in ok if r.rules_failed)} fail the rules; {result.failed} failed",
        f"layers: {result.layer_tasks} layer tasks for {result.plan.layer_references} layer "
        f"references ({result.layers_indexed} indexed, "
        f"{result.layer_tasks - result.layers_indexed} from the cache); "
        f"{_mb(result.bytes_read)} read, {_mb(result.bytes_saved)} not read again thanks to "
        "shared layers",
    ]
    return lines


def render_text(result) -> str:
    names = columns(result)
    table = [list(names)] + [_cells(r, names) for r in worst_first(result.rows)]
    widths = [max(len(line[i]) for line in table if not line[1].startswith("FAILED"))
              if i else max(len(line[0]) for line in table) for i in range(len(names))]
    out = []
    for line in table:
        if line[1].startswith("FAILED"):
            out.append(f"{line[0]:<{widths[0]}}  {line[1]}")
        else:
            out.append("  ".join(f"{cell:<{w}}" for cell, w in zip(line, widths, strict=True))
                       .rstrip())
    return "\n".join(out + [""] + summary_lines(result)) + "\n"




def render_markdown(result) -> str:
    names = columns(result)
    out = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for row in worst_first(result.rows):
        out.append("| " + " | ".join(map(md_text, _cells(row, names))) + " |")
    return "\n".join(out + [""] + [f"- {line}" for line in summary_lines(result)]) + "\n"


def render_json(result) -> str:
    doc = {
        "schema": SCHEMA,
        "images": [asdict(r) for r in worst_first(result.rows)],
        "summary": {"images": len(result.rows), "failed": result.failed,
                    "layer_tasks": result.layer_tasks,
                    "layer_references": result.plan.layer_references,
                    "layers_indexed": result.layers_indexed,
                    "bytes_read": result.bytes_read, "bytes_saved": result.bytes_saved},
    }
    return json.dumps(doc, indent=2) + "\n"


#: a cell starting with one of these is a formula to a spreadsheet (or starts one after a
#: tab or carriage return): OWASP "CSV Injection"
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: object) -> object:
    """A string cell visible() and, if a spreadsheet would run it, prefixed with ``'``;
    numbers as they are."""
    if not isinstance(value, str):
        return value
    shown = visible(value)
    return "'" + shown if value.startswith(_FORMULA) else shown


def render_csv(result) -> str:
    buf = io.StringIO()
    names = list(asdict(Row("")))
    writer = csv.DictWriter(buf, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    for row in worst_first(result.rows):
        cells = {**asdict(row), "rules_failed": " ".join(row.rules_failed)}
        writer.writerow({key: _csv_cell(value) for key, value in cells.items()})
    return buf.getvalue()


FORMATS = {"text": render_text, "markdown": render_markdown, "json": render_json,
           "csv": render_csv}


def render(result, fmt: str = "text") -> str:
    return FORMATS[fmt](result)
