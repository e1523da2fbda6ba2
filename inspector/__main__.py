"""``python -m inspector``: the command line (``inspector.cli.main``).

The cyclic GC is off while the command line's modules load: they allocate tens of
thousands of objects (classes, functions, tables) and no cyclic garbage, yet every 700
allocations would start a collection pass over them (~2 % of a warm export's
instructions). What they loaded is then frozen out of later passes (``gc.freeze``: it
lives as long as the process), and ``cli.main`` decides for the command (a batch runs
without the GC)."""

import gc

gc.disable()
from inspector.cli import main  # noqa: E402

gc.freeze()
gc.enable()
code = main()
if code:  # an error or Ctrl-C (130): a thread may still wait on a silent registry until
    # the network timeout — a layer's TOC asked for beside the config (a registry helper,
    # RemoteToc.prefetch), an index worker (analysis.workers) — and the interpreter would
    # join it before exiting; the run's line is printed, nothing else is pending
    import os
    import sys

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more to say there
            pass
    os._exit(code)
raise SystemExit(code)
