"""``tests/locks.py``, what parallel workers rely on: a ``file_lock`` held by one process
keeps another out until it is released (or its holder dies), and ``listens`` tells the
process listening on a port from any other."""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.locks import listens

ROOT = Path(__file__).resolve().parents[1]

#: a process that takes the lock, says so, and holds it until its stdin closes
HOLDER = """
import sys
from pathlib import Path
from tests.locks import file_lock
with file_lock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()
"""


def _free(path: Path) -> bool:
    """Whether this process could take the lock at once (without waiting)."""
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def test_a_held_lock_keeps_another_process_out_until_released(tmp_path):
    lock = tmp_path / "sub" / "root.lock"  # its directory is made
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock)], cwd=ROOT, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert not _free(lock)
        holder.stdin.close()
        assert holder.wait(timeout=60) == 0
        assert _free(lock)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_a_dead_holder_leaves_no_lock(tmp_path):
    lock = tmp_path / "root.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock)], cwd=ROOT, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait()
    assert _free(lock)  # the kernel dropped it with its process: nothing stale to clean


def test_listens_names_the_listening_process_only():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
        assert not listens(os.getpid(), port)  # bound, not listening yet
        server.listen()
        assert listens(os.getpid(), port)
        other = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                                 stdin=subprocess.PIPE)
        try:
            assert not listens(other.pid, port)
        finally:
            other.stdin.close()
            other.wait(timeout=60)
    assert not listens(os.getpid(), port)  # closed
