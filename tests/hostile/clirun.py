"""Run the CLI in-process on hostile input and check the error contract of issue 11:
exit 1, exactly one line on stderr (``inspector: …``), no traceback, and never the
last-resort "please report this" (which would mean a bug let the input through)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inspector import cli


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def export(capsys, reference: str, cache: Path, *extra: str) -> Run:
    """``inspector export REFERENCE -q --cache-dir CACHE …``."""
    capsys.readouterr()  # drop anything earlier
    code = cli.main(["export", reference, "-q", "--cache-dir", str(cache), *extra])
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def assert_one_line_error(run: Run, *naming: str, code: int = 1) -> str:
    """The run failed the expected way (exit ``code``); the line names each of ``naming``
    (the file, the field: data carried by the error, not message wording). Returns the line."""
    assert "Traceback" not in run.err, run.err
    assert "please report this" not in run.err, run.err
    assert run.code == code, run
    assert len(run.lines) == 1, run.lines
    line = run.lines[0]
    assert line.startswith("inspector: "), line
    for word in naming:
        assert word in line, (word, line)
    return line
