"""``kill -9`` at any point of a run leaves nothing that a later run trusts: a rerun gives
the same export, and what the killed runs left (a half-written spool, ``.tmp-*`` entries)
is swept once stale, since no live process holds its lock."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inspector import cache_admin
from tests.builders import ImageSpec, make_layer, write_docker_archive

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> str:
    """A gzip-compressed ``docker save`` (spooled when read) of four layers, 24k files."""
    rng = random.Random(7)
    layers = [make_layer({f"d{n}/{i // 100}/f{i}": rng.randbytes(rng.randrange(0, 400))
                          for i in range(6000)}) for n in range(4)]
    path = tmp_path_factory.mktemp("kill") / "image.tar.gz"
    write_docker_archive(path, [ImageSpec(layers, ref_name="kill:test")], compression="gzip")
    return f"docker-archive:{path}"


def _cmd(ref: str, cache: Path | None, out: Path) -> list[str]:
    where = ["--no-cache"] if cache is None else ["--cache-dir", str(cache)]
    return [sys.executable, "-m", "inspector", "export", ref, "-q", "-o", str(out), *where]


def _export(ref: str, cache: Path | None, out: Path) -> dict:
    proc = subprocess.run(_cmd(ref, cache, out), capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return json.loads(out.read_text())


def _temps(cache: Path) -> list[Path]:
    return [e.path for e in cache_admin.entries(cache) if e.temp]


def _kill_after(cmd: list[str], delay: float) -> None:
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def test_runs_killed_at_random_points_then_a_rerun_gives_the_same_export(tmp_path, archive):
    truth = _export(archive, None, tmp_path / "truth.json")
    cache = tmp_path / "cache"
    start = time.monotonic()
    _export(archive, tmp_path / "timing", tmp_path / "timing.json")
    cold = time.monotonic() - start  # only to spread the kill points over a cold run
    rng = random.Random(20261130)
    for i in range(6):
        _kill_after(_cmd(archive, cache, tmp_path / f"killed{i}.json"), rng.uniform(0.05, cold))
    assert _export(archive, cache, tmp_path / "rerun.json") == truth
    assert _export(archive, cache, tmp_path / "warm.json") == truth
    cache_admin.sweep(cache, now=time.time() + 3600)  # later: the leftovers are stale
    assert _temps(cache) == []
    assert _export(archive, cache, tmp_path / "swept.json") == truth


def test_a_kill_while_a_temp_file_is_being_written_leaves_it_for_the_sweep(tmp_path, archive):
    """Killed the moment a temp file (the spool, or an entry) exists: it is left behind,
    not trusted by the rerun, kept by a sweep while fresh and removed once stale."""
    truth = _export(archive, None, tmp_path / "truth.json")
    cache = tmp_path / "cache"
    proc = subprocess.Popen(_cmd(archive, cache, tmp_path / "killed.json"), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while proc.poll() is None and not _temps(cache):
            time.sleep(0.005)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    left = _temps(cache)
    if not left:
        pytest.fail("the run finished before a temp file was seen; make the archive bigger")
    assert _export(archive, cache, tmp_path / "rerun.json") == truth
    cache_admin.sweep(cache)
    assert [p for p in left if p.exists()] == left  # fresh: maybe still being written
    cache_admin.sweep(cache, now=time.time() + 3600)
    assert [p for p in left if p.exists()] == []


def test_a_run_sweeps_stale_leftovers_at_start(tmp_path, archive):
    """What earlier killed runs left (a big spool, a partial blob, a half-written entry) is
    removed by the next run's start once older than ``STALE_AGE``; a fresh one is kept."""
    import os

    cache = tmp_path / "cache"
    stale = [cache / "tmp" / "archive-old.tar", cache / "blobs" / "sha256" / ".tmp-0123456789abcdef-x",
             cache / "index" / "v2-0" / ".tmp-abc"]
    fresh = cache / "tmp" / "archive-new.tar"
    for path in (*stale, fresh):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\0" * 4096)
    old = time.time() - cache_admin.STALE_AGE - 60
    for path in stale:
        os.utime(path, (old, old))
    _export(archive, cache, tmp_path / "out.json")
    assert [p for p in stale if p.exists()] == []
    assert fresh.exists()
