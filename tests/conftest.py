"""Suite-wide: the default cache is a temp dir of the session.

A bare ``Options()`` and a CLI run without ``--cache-dir`` use the user cache directory
(``platformdirs``: ``$XDG_CACHE_HOME/inspector``). Tests must neither write index and
analysis entries into the developer's cache nor be answered from what an older build left
there, so ``XDG_CACHE_HOME`` points at a directory of this session (subprocesses inherit
it). What is worth keeping across runs says so itself: the debootstrap roots live in
``tests.catalog.fsbuild.TEST_ROOTS``, keyed by their inputs."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def default_cache_in_a_temp_dir(tmp_path_factory):
    saved = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if saved is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = saved
