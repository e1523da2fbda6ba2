"""Cross-process locks for what tests build and keep outside a test's own temp dir.

The suite runs in parallel (``make test``: pytest-xdist workers, each its own process and
pytest session), and several runs may share one machine (a developer's, CI's). Each worker
gets its own session fixtures, temp dirs (``tmp_path_factory``) and environment, so those
need nothing. What is shared is what lives at a fixed place: the cached debootstrap roots
(``tests.catalog.fsbuild.TEST_ROOTS``), the sample builder's .deb cache, anything a test
keeps across runs. A helper that builds such a thing once wraps its "is it there? else
build it" in ``file_lock``: the second process waits for the first, then finds it built.

``worker_id()`` names this process's xdist worker (``"gw0"``…, ``"main"`` without xdist),
for a name that must differ between workers (a tmux socket, a lock, a log)."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if missing) for the ``with`` block.
    Blocking: a process that waits here waits for the holder's block to end (or for it to
    die: the kernel drops a dead process's locks, so no stale lock is ever left)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def worker_id() -> str:
    """This process's pytest-xdist worker (``PYTEST_XDIST_WORKER``), or ``"main"``."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def listens(pid: int, port: int) -> bool:
    """Whether process ``pid`` itself holds the TCP socket listening on ``port`` (Linux
    ``/proc``). A server started on a port picked free a moment before may have lost it to
    another process (a parallel worker); its readiness check asks this, not "does anything
    answer on the port", or it would talk to the other process's server."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    if not inodes:
        return False
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(fd) in inodes:
                return True
        except OSError:
            continue
    return False
