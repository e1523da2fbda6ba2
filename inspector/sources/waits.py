"""Waiting on other threads so that Ctrl-C ends the wait.

Python runs its SIGINT handler in the main thread, but the kernel may hand the signal to
any thread of the process; a main thread then blocked in a lock wait without a timeout
(``Future.result()``, ``concurrent.futures.wait()``, ``Event.wait()``) is not woken, and
raises ``KeyboardInterrupt`` only when its wait ends — for a worker waiting on a silent
registry, at the network timeout (seen: a hung ``compare`` in
``tests/registry/test_toc_hostile_prefetch.py``, its main thread still in
``Future.result()`` 30 s after SIGINT, about one run in twenty under load). These waits
wake every ``WAKE`` seconds, so a pending Ctrl-C is taken within that time.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

T = TypeVar("T")
#: seconds between two looks at a pending signal while waiting
WAKE = 0.2


def result(future: Future[T]) -> T:
    """``future.result()`` (its value or its exception)."""
    from concurrent.futures import wait

    while not future.done():
        wait((future,), timeout=WAKE)
    return future.result()


def wait_for(futures: Collection[Future], return_when: str = "ALL_COMPLETED"
             ) -> tuple[set[Future], set[Future]]:
    """``concurrent.futures.wait(futures, return_when=…)``: ``(done, not done)``."""
    from concurrent.futures import wait

    while True:
        done, pending = wait(futures, timeout=WAKE, return_when=return_when)
        if not pending or (return_when == "FIRST_COMPLETED" and done) or (
                return_when == "FIRST_EXCEPTION"
                and any(not f.cancelled() and f.exception() is not None for f in done)):
            return done, pending


def event_wait(event: threading.Event) -> None:
    """``event.wait()``."""
    while not event.wait(WAKE):
        pass
