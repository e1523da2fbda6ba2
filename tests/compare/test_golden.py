"""Golden reports on the bundled samples: markdown and JSON, compared exactly.

Regenerate after an intended change (the catalog/classify rules change them too):

    INSPECTOR_UPDATE_GOLDEN=1 .venv/bin/pytest tests/compare/test_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from inspector.compare import compare_references
from inspector.options import Options
from inspector.report.compare import render

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("INSPECTOR_UPDATE_GOLDEN") == "1"

PAIRS = [("debian-12-slim", "distroless-static"), ("distroless-base", "distroless-cc")]
# (suffix, format, --files); the --files listing only for the small pair (debian-12-slim's
# would be ~200 kB of paths the JSON golden already pins)
OUTPUTS = [("md", "markdown", False), ("json", "json", False)]
FILES_OUTPUT = ("files.md", "markdown", True)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.mark.parametrize("pair", PAIRS, ids=["__".join(p) for p in PAIRS])
def test_golden(pair, cache_dir):
    result = compare_references([f"sample:{name}" for name in pair],
                                Options(cache_dir=cache_dir, quiet=True))
    stale = []
    outputs = OUTPUTS + ([FILES_OUTPUT] if pair == PAIRS[1] else [])
    for suffix, fmt, files in outputs:
        path = GOLDEN / f"{'__'.join(pair)}.{suffix}"
        got = render(result, fmt, files=files, sort="path", color=False)
        if UPDATE:
            path.write_text(got, encoding="utf-8")
            continue
        assert path.exists(), f"{path} is missing: run with INSPECTOR_UPDATE_GOLDEN=1"
        if path.read_text(encoding="utf-8") != got:
            stale.append(path.name)
    assert not stale, f"differs from golden: {stale} (INSPECTOR_UPDATE_GOLDEN=1 regenerates)"
