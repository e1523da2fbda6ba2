"""The headless commands, one module each, and the registry the CLI loops over.

A command module has ``DESCRIPTION`` (its ``--help`` line), ``add_arguments(parser)``
(its own arguments; the common options are added by the CLI, ``options.py``) and
``run(args, ctx) -> int`` (``ctx``: ``context.Context``, the run's options, ``analyze``,
``open_output``); ``BATCH = True`` turns the cyclic GC off for the run (a short run over
large, acyclic data). Command modules import their work lazily, inside ``run``, so building
the parser loads none of it. Adding a command is its module, one row below, and its tests.
"""

from __future__ import annotations

from types import ModuleType

from inspector.commands import (
    audit,
    cache,
    check,
    compare,
    completion,
    export,
    fit,
    samples,
    serve,
)

#: name → module, in the order ``inspector --help`` lists them
COMMANDS: dict[str, ModuleType] = {
    "export": export,
    "compare": compare,
    "check": check,
    "fit": fit,
    "audit": audit,
    "samples": samples,
    "serve": serve,
    "cache": cache,
    "completion": completion,
}
