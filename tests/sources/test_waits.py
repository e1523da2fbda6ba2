"""Ctrl-C ends the main thread's waits on workers even when the kernel hands SIGINT to a
worker thread (``inspector.sources.waits``): here a worker sends SIGINT to itself
(``signal.pthread_kill``), so Python's C handler runs there, and a main thread blocked in
a plain ``Future.result()`` would sleep on until the worker ends — each wait below must
raise ``KeyboardInterrupt`` at once instead. A child process per case: a failing case
hangs a child, not the suite."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import signal, sys, threading, time
    from concurrent.futures import Future
    from inspector.sources import waits

    never = Future()          # a worker's result that does not come
    gate = threading.Event()  # an event nobody sets

    def worker():
        time.sleep(0.3)       # the main thread is waiting by then
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)
        time.sleep(30)        # the worker holds on, as one waiting on a silent registry

    threading.Thread(target=worker, daemon=True).start()
    try:
        {call}
    except KeyboardInterrupt:
        print("interrupted")
        sys.exit(0)
    print("returned")
""")

#: (name, the wait the main thread makes)
WAITS = [
    ("a future's result", "waits.result(never)"),
    ("all futures", "waits.wait_for([never])"),
    ("the first exception", "waits.wait_for([never], 'FIRST_EXCEPTION')"),
    ("the first completed", "waits.wait_for([never], 'FIRST_COMPLETED')"),
    ("an event", "waits.event_wait(gate)"),
]


@pytest.mark.parametrize("name,call", WAITS, ids=[w[0] for w in WAITS])
def test_a_sigint_taken_by_a_worker_thread_ends_the_main_threads_wait(name, call):
    child = subprocess.run([sys.executable, "-c", SCRIPT.format(call=call)], cwd=ROOT,
                           capture_output=True, text=True, timeout=20)
    assert (child.returncode, child.stdout.strip()) == (0, "interrupted"), child.stderr
