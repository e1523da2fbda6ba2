"""A registry that trickles its status line and headers (issue 23 item 9): requests' read
timeout is per socket read, so a byte every few seconds never trips it. The head must be
complete within ``--timeout``; the real registry behind ``servers.FaultProxy``, which
sends the head one byte at a time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.errors import TransportError
from inspector.options import Options
from inspector.sources.base import validate_image
from inspector.sources.registry import client as client_mod
from inspector.sources.registry import open_registry

pytestmark = [pytest.mark.registry, pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parents[2]
#: seconds: the --timeout of these tests, and the pause between two bytes of a slow head
#: (a head of ~300 bytes then takes ~15 s, far past the deadline, yet every read is quick)
TIMEOUT = 0.5
PAUSE = 0.05


def _options(tmp_path: Path) -> Options:
    return Options(cache_dir=tmp_path / "cache", timeout=TIMEOUT)


def _pull(proxy, name: str, tmp_path: Path) -> None:
    ref = f"{proxy.host}/{name}"
    with open_registry(ref, _options(tmp_path), reference=ref) as image:
        validate_image(image)


TRICKLED = [  # (name, the path part whose head trickles, given the pushed images)
    ("manifest", lambda pushed: "/manifests/"),
    ("config blob", lambda pushed: pushed["small"].images[0].config_digest),
    ("layer blob", lambda pushed: pushed["small"].images[0].layer_digests[1]),
]


@pytest.mark.parametrize("name, part", TRICKLED, ids=[t[0] for t in TRICKLED])
def test_a_trickled_head_times_out(proxy, pushed, tmp_path, name, part):
    path = part(pushed)
    proxy.faults.trickle_head[path] = PAUSE
    with pytest.raises(TransportError) as info:
        _pull(proxy, pushed["small"].name, tmp_path)
    line = str(info.value)
    assert "\n" not in line and "timed out" in line and proxy.host in line, line
    # each attempt was cut at the deadline and retried a bounded number of times
    trickled = [r for r in proxy.state.requests if path in r["path"]]
    assert 1 <= len(trickled) <= client_mod.MAX_ATTEMPTS


def test_a_slow_head_inside_the_deadline_is_accepted(proxy, pushed, tmp_path):
    proxy.faults.trickle_head["/manifests/"] = 0.0005  # ~0.15 s for the whole head
    proxy.faults.trickle_head[pushed["small"].images[0].config_digest] = 0.0005
    ref = f"{proxy.host}/{pushed['small'].name}"
    with open_registry(ref, Options(cache_dir=tmp_path / "cache", timeout=10),
                       reference=ref) as image:
        assert image.manifest_digest == pushed["small"].images[0].manifest_digest


def test_the_cli_fails_in_one_line(proxy, pushed, tmp_path):
    """With --timeout 1 and a head byte every 0.5 s (~150 s for the head), the export fails
    after a few attempts of a second each; the subprocess timeout only guards a hang."""
    proxy.faults.trickle_head["/manifests/"] = 0.5
    env = {**os.environ, "DOCKER_CONFIG": str(tmp_path / "no-docker-config")}
    done = subprocess.run([sys.executable, "-m", "inspector", "export", "-q", "--timeout", "1",
                           "--cache-dir", str(tmp_path / "cache"),
                           f"{proxy.host}/{pushed['small'].name}"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "timed out" in lines[0] and proxy.host in lines[0], lines
