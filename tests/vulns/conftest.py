"""Shared pieces of the overlay tests: the fixtures directory, analysed samples (once per
session: the samples are bundled and read-only), and an in-process CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector import cli
from inspector.analysis import analyze, open_image
from inspector.options import Options
from tests.hostile.clirun import Run, assert_one_line_error

#: a scanner report that cannot be used is the user's file: exit 2 (``InputError``)
REPORT_EXIT = 2


def assert_report_error(run: Run, *naming: str) -> str:
    """Exit 2, one ``inspector: …`` line naming each of ``naming``, no traceback, never
    the last-resort handler. Returns the line."""
    return assert_one_line_error(run, *naming, code=REPORT_EXIT)


FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> str:
    return str(FIXTURES / name)


def doc(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture(scope="session")
def samples(tmp_path_factory):
    """``name → Analysis`` of the two samples the overlay tests use."""
    options = Options(cache_dir=tmp_path_factory.mktemp("cache"), quiet=True)
    out = {}
    for name in ("debian-12-slim", "distroless-static"):
        image = open_image(f"sample:{name}", options)
        out[name] = analyze(image, options)
        image.close()
    return out


@pytest.fixture
def run(capsys, tmp_path):
    """``run("compare", A, B, …)``: the CLI in process, with a private cache."""

    def go(*argv: str) -> Run:
        capsys.readouterr()
        code = cli.main([argv[0], *argv[1:], "-q", "--cache-dir", str(tmp_path / "cache")])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return go
