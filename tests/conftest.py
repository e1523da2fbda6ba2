"""Suite-wide: the default cache is a temp dir of the session.

A bare ``Options()`` and a CLI run without ``--cache-dir`` use the user cache directory
(``platformdirs``: ``$XDG_CACHE_HOME/inspector``). Tests must neither write index and
analysis entries into the developer's cache nor be answered from what an older build left
there, so ``XDG_CACHE_HOME`` points at a directory of this session (subprocesses inherit
it). What is worth keeping across runs says so itself: the debootstrap roots live in
``tests.catalog.fsbuild.TEST_ROOTS``, keyed by their inputs; the sample builder's .deb
downloads (sha256-verified, ``sample_images/samplebuild/debs.py``) stay in the cache they
were read from before (``INSPECTOR_SAMPLES_CACHE``), so a rebuild test downloads nothing
twice.

The suite runs in parallel (``make test``: pytest-xdist workers, see the Makefile): each
worker is a process with its own session, so session fixtures, temp dirs and this
environment are per worker; what lives at a fixed place and is built once (the
debootstrap roots) takes a lock (``tests/locks.py``). Hypothesis examples run without a
deadline: on a machine busy with the other worker a slow example says nothing about the
code (the checks themselves are unchanged)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")


@pytest.fixture(scope="session", autouse=True)
def default_cache_in_a_temp_dir(tmp_path_factory):
    saved = {name: os.environ.get(name) for name in ("XDG_CACHE_HOME", "INSPECTOR_SAMPLES_CACHE")}
    user_cache = Path(saved["XDG_CACHE_HOME"] or Path.home() / ".cache")
    os.environ.setdefault("INSPECTOR_SAMPLES_CACHE", str(user_cache / "inspector-samples"))
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
