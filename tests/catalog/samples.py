"""Analyses of the bundled samples, one per reference per test session."""

from __future__ import annotations

from functools import cache

from inspector.analysis import Analysis, analyze
from inspector.options import Options
from inspector.sources.resolve import open_image


@cache
def analysis(reference: str) -> Analysis:
    options = Options(no_cache=True)
    return analyze(open_image(reference, options), options)
