"""A child's output on a real terminal (a pty), for tests of what a program draws there."""

from __future__ import annotations

import os
import pty
import select
import time


def open_terminal() -> tuple[int, int]:
    """``(master, slave)`` of a new pty: give ``slave`` to the child, then close it here."""
    return pty.openpty()


def read_terminal(master: int, seconds: float) -> bytes:
    """Everything written to the pty of ``master`` until the child closes it (or
    ``seconds`` pass); closes ``master``."""
    out, deadline = b"", time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            if not select.select([master], [], [], 1)[0]:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
    return out
