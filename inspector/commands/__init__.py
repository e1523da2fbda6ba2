"""The headless commands, one module each, and the registry the CLI loops over.

A command module has ``DESCRIPTION`` (its ``--help`` line), ``add_arguments(parser)``
(its own arguments; the common options are added by the CLI, ``options.py``) and
``run(args, ctx) -> int`` (``ctx``: ``context.Context``, the run's options, ``analyze``,
``open_output``); ``BATCH = True`` turns the cyclic GC off for the run (a short run over
large, acyclic data). Command modules import their work lazily, inside ``run``, so building
the parser loads none of it. Adding a command is its module, one name in ``NAMES``, and
its tests.

``COMMANDS`` imports a command's module when it is first looked up: a run loads its own
command only (``inspector export`` parses its argv with export's arguments alone), not the
eight others (~3 ms of every start-up).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from importlib import import_module
from types import ModuleType

#: the commands (each the module ``inspector.commands.NAME``), in the order
#: ``inspector --help`` lists them
NAMES = ("export", "compare", "check", "fit", "audit", "samples", "serve", "cache",
         "completion")


class Registry(MutableMapping[str, ModuleType]):
    """name → command module, each imported on its first lookup (a test may register a
    module of its own: ``COMMANDS["probe"] = module``)."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self._modules: dict[str, ModuleType | None] = dict.fromkeys(names)

    def __getitem__(self, name: str) -> ModuleType:
        module = self._modules[name]
        if module is None:
            module = self._modules[name] = import_module(f"{__name__}.{name}")
        return module

    def __setitem__(self, name: str, module: ModuleType) -> None:
        self._modules[name] = module

    def __delitem__(self, name: str) -> None:
        del self._modules[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __contains__(self, name: object) -> bool:  # no import to answer it
        return name in self._modules


#: name → module, in the order ``inspector --help`` lists them
COMMANDS = Registry(NAMES)
