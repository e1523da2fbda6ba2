"""A cache directory that cannot be used — not a directory, read-only, full — costs speed
only: the export is the same, exit 0, and stderr holds exactly one warning line, for every
path that writes there including the spool of a compressed archive."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import ImageSpec, make_layer, write_docker_archive
from tests.test_cache import _mount_tmpfs

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> str:
    """A gzip ``docker save`` whose spool (~3 MB) cannot fit a 1 MiB cache."""
    rng = random.Random(3)
    layer = make_layer({f"f{i}": rng.randbytes(3000) for i in range(1000)})
    path = tmp_path_factory.mktemp("degrade") / "image.tar.gz"
    write_docker_archive(path, [ImageSpec([layer], ref_name="degrade:test")], compression="gzip")
    return f"docker-archive:{path}"


def _run(ref: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inspector", "export", ref, "-q", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.fixture
def mounts(tmp_path):
    made: list[Path] = []

    def mount(name: str, *options: str) -> Path:
        path = tmp_path / name
        _mount_tmpfs(path, *options)
        made.append(path)
        return path

    yield mount
    for path in made:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _not_a_dir(tmp_path, mounts) -> tuple[Path, str]:
    (tmp_path / "file").write_text("x")
    return tmp_path / "file", "Not a directory"


def _under_a_file(tmp_path, mounts) -> tuple[Path, str]:
    (tmp_path / "file").write_text("x")
    return tmp_path / "file" / "cache", "Not a directory"


def _read_only(tmp_path, mounts) -> tuple[Path, str]:
    return mounts("ro", "ro"), "Read-only file system"


def _read_only_below(tmp_path, mounts) -> tuple[Path, str]:
    return mounts("ro", "ro") / "inspector", "Read-only file system"


def _full(tmp_path, mounts) -> tuple[Path, str]:
    return mounts("full"), "No space left on device"


CASES = [
    ("not-a-directory", _not_a_dir),
    ("below-a-file", _under_a_file),
    ("read-only", _read_only),
    ("read-only-missing", _read_only_below),
    ("full", _full),
]


@pytest.mark.parametrize("name,make", CASES, ids=[c[0] for c in CASES])
def test_an_unusable_cache_dir_degrades_to_no_cache_with_one_warning(tmp_path, archive, mounts,
                                                                     name, make):
    truth = _run(archive, "--no-cache")
    assert truth.returncode == 0, truth.stderr
    cache, reason = make(tmp_path, mounts)
    proc = _run(archive, "--cache-dir", str(cache))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == json.loads(truth.stdout)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("inspector: warning: cache ") and reason in lines[0], lines[0]
    assert "Traceback" not in proc.stderr
    if name == "full":  # nothing half-written left in the full cache
        assert [p for p in cache.rglob("*") if p.is_file() and p.name.startswith((".tmp-", "archive-"))] == []
