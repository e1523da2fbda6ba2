"""A real Docker-compatible engine for the tests: ``podman system service`` on a unix
socket in a temp dir, with its own storage (vfs), config and an empty registry search
list, so nothing reaches the network. Images are loaded with ``podman load`` from archives
the tests build (``tests.builders``)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from inspector.options import Options  # noqa: E402
from tests.tools import require_tool  # noqa: E402,F401

#: seconds to wait for the service to accept connections (a readiness deadline, not a gate)
READY_DEADLINE = 60


@dataclass
class Podman:
    root: Path
    socket: Path
    env: dict
    policy: Path
    #: podman refuses a run root longer than 50 characters: a short temp dir of its own
    #: (the session's temp dir, under a parallel run's worker dir, is longer than that)
    runroot: Path

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def argv(self, *args: str) -> list[str]:
        return ["podman", "--root", str(self.root / "R"), "--runroot", str(self.runroot),
                "--storage-driver", "vfs", *args]

    def run(self, *args: str) -> str:
        done = subprocess.run(self.argv(*args), env=self.env, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def load(self, archive: Path) -> None:
        self.run("load", "-q", "-i", str(archive))

    def skopeo_to_archive(self, src: str, archive: Path, name: str) -> None:
        """``skopeo copy SRC docker-archive:ARCHIVE:NAME``."""
        done = subprocess.run(["skopeo", "copy", "--quiet", "--policy", str(self.policy), src,
                               f"docker-archive:{archive}:{name}"],
                              env=self.env, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise AssertionError(f"skopeo copy {src} failed: {done.stderr.strip()}")


def _wait_ready(path: Path, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + READY_DEADLINE
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"podman system service exited with {proc.returncode}: "
                                 f"{log.read_text(errors='replace')[-2000:]}")
        if path.exists():
            with socket.socket(socket.AF_UNIX) as s:
                try:
                    s.connect(str(path))
                    return
                except OSError:
                    pass
        time.sleep(0.05)  # polling a readiness condition
    raise AssertionError(f"podman system service did not listen on {path} within {READY_DEADLINE}s")


@pytest.fixture(scope="session")
def podman(tmp_path_factory) -> Podman:
    require_tool("podman")
    root = tmp_path_factory.mktemp("podman")
    (root / "containers.conf").write_text('[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
                                          '[network]\nnetwork_backend = "netavark"\n')
    (root / "registries.conf").write_text("unqualified-search-registries = []\n")
    (root / "policy.json").write_text('{"default": [{"type": "insecureAcceptAnything"}]}\n')
    env = dict(os.environ, CONTAINERS_CONF=str(root / "containers.conf"),
               CONTAINERS_REGISTRIES_CONF=str(root / "registries.conf"), TMPDIR=str(root))
    runroot = Path(tempfile.mkdtemp(prefix="inspector-podman-"))
    pm = Podman(root, root / "podman.sock", env, root / "policy.json", runroot)
    log = open(root / "service.log", "wb")
    proc = subprocess.Popen(pm.argv("system", "service", "--time", "0", pm.host),
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_ready(pm.socket, proc, root / "service.log")
        yield pm
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(runroot, ignore_errors=True)


@pytest.fixture
def engine_env(podman: Podman, monkeypatch) -> Podman:
    """``DOCKER_HOST`` points at the test engine; no docker context or podman host leaks in."""
    monkeypatch.setenv("DOCKER_HOST", podman.host)
    for var in ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "CONTAINER_HOST"):
        monkeypatch.delenv(var, raising=False)
    return podman


@pytest.fixture
def options(tmp_path: Path) -> Options:
    return Options(cache_dir=tmp_path / "cache", quiet=True)
