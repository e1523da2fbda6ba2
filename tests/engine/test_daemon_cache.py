"""The engine source under a full cache dir: the ``docker save`` spool falls back to the
system temp dir with one warning line (the engine record's swap and damage tests are in
tests/hostile; its warm reuse in test_daemon.py)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import ImageSpec, make_layer, write_docker_archive
from tests.test_cache import _mount_tmpfs

pytestmark = pytest.mark.engine
ROOT = Path(__file__).resolve().parents[2]
NAME = "localhost/inspector-cache/big:v1"


@pytest.fixture(scope="module")
def big_image(podman, tmp_path_factory) -> str:
    """An image whose save (~2 MB) cannot fit a 1 MiB cache."""
    layer = make_layer({"data/blob": random.Random(5).randbytes(2_000_000)}, compression=None)
    archive = tmp_path_factory.mktemp("big") / "big.tar"
    write_docker_archive(archive, [ImageSpec([layer], ref_name=NAME)], flavour="legacy")
    podman.load(archive)
    return f"docker-daemon:{NAME}"


def _export(ref: str, podman, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DOCKER_HOST": podman.host}
    for var in ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "CONTAINER_HOST"):
        env.pop(var, None)
    return subprocess.run([sys.executable, "-m", "inspector", "export", ref, "-q", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300, env=env)


def test_a_full_cache_dir_spools_the_save_elsewhere_with_one_warning(big_image, podman, tmp_path):
    truth = _export(big_image, podman, "--no-cache")
    assert truth.returncode == 0, truth.stderr
    full = tmp_path / "full"
    _mount_tmpfs(full)
    try:
        proc = _export(big_image, podman, "--cache-dir", str(full))
        leftovers = [p.name for p in full.rglob("*") if p.is_file()]
    finally:
        subprocess.run(["umount", "-l", str(full)], check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == json.loads(truth.stdout)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0], proc.stderr
    assert [n for n in leftovers if n.startswith(("daemon-save-", ".tmp-"))] == []
