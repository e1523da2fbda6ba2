"""Fixtures for the compare tests (the image builders live in ``tests/compare/helpers.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.options import Options


@pytest.fixture
def options(tmp_path: Path) -> Options:
    return Options(cache_dir=tmp_path / "cache", quiet=True)
