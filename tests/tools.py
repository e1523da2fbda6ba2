"""Real tools the tests use as ground truth (skopeo, umoci, docker-registry, podman, …)."""

from __future__ import annotations

import os
import shutil

import pytest


def require_tool(name: str) -> str:
    """The path of ``name``; skips when missing, except under CI=true where that fails
    (``make test`` installs every tool the suite needs)."""
    path = shutil.which(name)
    if path:
        return path
    if os.environ.get("CI") == "true":
        pytest.fail(f"{name} is required under CI=true but is not installed")
    pytest.skip(f"{name} is not installed")
