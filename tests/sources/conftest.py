"""Shared by the local-source tests: real-tool gating and a cache dir per test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `from tests.builders import …` without an installed package
    sys.path.insert(0, str(ROOT))

from inspector.options import Options  # noqa: E402


@pytest.fixture
def options(tmp_path: Path) -> Options:
    """Options whose cache (and spool) directory is inside the test's tmp_path."""
    return Options(cache_dir=tmp_path / "cache")
