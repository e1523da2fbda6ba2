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
# an error or Ctrl-C ends the process in main itself, without joining threads that wait on
# a silent registry (cli._exit_now: the console script goes there too)
raise SystemExit(main())
