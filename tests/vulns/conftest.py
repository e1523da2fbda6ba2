"""Shared pieces of the overlay tests: the fixtures directory, analysed samples (once per
session: the samples are bundled and read-only), and an in-process CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector import cli
from inspector.analysis import analyze, open_image
from inspector.options import Options
from tests.hostile.clirun import Run

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
