"""``audit --scheduler`` with no live worker, or no scheduler at all (issue 23 item 10):
one line and exit 1 after ``--cluster-timeout`` seconds, never a silent hang. A real
scheduler (``LocalCluster`` with no workers of its own) and a real ``dask worker`` process
(no nanny, so a worker that dies stays dead)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.audit.test_audit import _distributed

ROOT = Path(__file__).resolve().parents[2]
#: the --cluster-timeout of these tests (seconds); the subprocess timeout only guards a hang
PATIENCE = "2"
GUARD = 180

pytestmark = pytest.mark.timeout(2 * GUARD)


def _env() -> dict:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path}


def _audit(scheduler: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inspector", "audit", "sample:distroless-static",
                           "--scheduler", scheduler, "--cluster-timeout", PATIENCE,
                           "--cache-dir", str(tmp_path / "cache")],
                          capture_output=True, text=True, timeout=GUARD, cwd=ROOT, env=_env())


def _no_worker(distributed, tmp_path, run):
    with distributed.LocalCluster(n_workers=0, processes=True,
                                  dashboard_address=None) as cluster:
        return run(cluster.scheduler_address)


def _last_worker_dies(distributed, tmp_path, run):
    import cloudpickle

    from tests.audit import plugins

    cloudpickle.register_pickle_by_value(plugins)
    marker = tmp_path / "killed"
    with distributed.LocalCluster(n_workers=0, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker",
                                   cluster.scheduler_address, "--no-nanny", "--nthreads", "1",
                                   "--no-dashboard"], cwd=ROOT, env=_env(),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            client.wait_for_workers(1, timeout=GUARD)
            client.register_plugin(plugins.KillOnFirstLayerTask(str(marker)))
            done = run(cluster.scheduler_address)
            assert worker.wait(timeout=GUARD) != 0  # it died in the audit's first layer task
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert marker.exists()
    return done


def _address(address: str):
    def setup(distributed, tmp_path, run):
        return run(address)
    return setup


WAITS = [  # (name, how the cluster is set up around the run, what the line says, the
    #          option it points to)
    ("no worker connected", _no_worker, "no worker connected", "--cluster-timeout"),
    ("the last worker dies mid-audit", _last_worker_dies, "its last worker left",
     "--cluster-timeout"),
    ("unreachable scheduler", _address("tcp://127.0.0.1:1"), "cannot reach the Dask scheduler",
     "--cluster-timeout"),
    ("no port", _address("nonsense"), "not a Dask scheduler address", "--scheduler"),
    ("unknown scheme", _address("foo://127.0.0.1:1"), "not a Dask scheduler address",
     "--scheduler"),
]


@pytest.mark.parametrize("name, setup, says, option", WAITS, ids=[w[0] for w in WAITS])
def test_no_live_worker_is_one_line(tmp_path, name, setup, says, option):
    distributed = _distributed()
    done = setup(distributed, tmp_path, lambda address: _audit(address, tmp_path))
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and option in lines[0], lines
    assert "please report this" not in done.stderr


BAD_VALUES = [("zero", "0"), ("negative", "-1"), ("not a number", "soon"), ("infinite", "inf")]


@pytest.mark.parametrize("name, value", BAD_VALUES, ids=[b[0] for b in BAD_VALUES])
def test_cluster_timeout_must_be_positive(tmp_path, name, value):
    done = subprocess.run([sys.executable, "-m", "inspector", "audit", "sample:distroless-static",
                           "--cluster-timeout", value], capture_output=True, text=True,
                          timeout=GUARD, cwd=ROOT, env=_env())
    assert done.returncode == 2
    assert "--cluster-timeout" in done.stderr and "Traceback" not in done.stderr
