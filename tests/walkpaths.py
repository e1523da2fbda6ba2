"""Run the tar walker's tests on both of its paths: the C accelerator (``_tarscan``) and
the pure-Python loop (``INSPECTOR_PURE=1``). A directory's conftest imports ``walk_path``
and ``parametrize_walk_paths``; the modules it names run twice, ids ``[c]`` and ``[pure]``."""

from __future__ import annotations

import os

import pytest

from inspector.index import tarscan

PATHS = ("c", "pure")


def require_accelerator() -> None:
    """Skip when the C accelerator was not built, except under CI=true (``make venv``
    builds it with the Debian gcc there, so its absence is a failure)."""
    if tarscan.available():
        return
    why = tarscan.status()  # "off (why)": not built, a stale build (ABI), INSPECTOR_PURE
    if os.environ.get("CI") == "true":
        pytest.fail(f"the tar walker's C accelerator (inspector/index/_tarscan) is {why}")
    pytest.skip(f"the tar walker's C accelerator is {why}; rebuild it: make venv, or "
                "python setup.py build_ext --inplace")


def parametrize_walk_paths(metafunc, prefixes: tuple[str, ...]) -> None:
    """``pytest_generate_tests``: the modules whose name starts with one of ``prefixes``
    run once per walker path."""
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if "walk_path" in metafunc.fixturenames and module.startswith(prefixes):
        metafunc.parametrize("walk_path", PATHS, indirect=True)


@pytest.fixture(autouse=True)
def walk_path(request, monkeypatch):
    """The walker path for this test: ``INSPECTOR_PURE`` set or cleared (both in this
    process and in the CLI runs it makes); unparametrized tests keep the environment."""
    path = getattr(request, "param", None)
    if path == "pure":
        monkeypatch.setenv("INSPECTOR_PURE", "1")
    elif path == "c":
        require_accelerator()
        monkeypatch.delenv("INSPECTOR_PURE", raising=False)
    return path
