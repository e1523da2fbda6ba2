"""``inspector completion bash|zsh|fish``: a shell completion script (``inspector/completion.py``
makes it from the CLI's own parsers, which the context carries)."""

from __future__ import annotations

import argparse
import sys

from inspector.commands.context import Context

DESCRIPTION = "Print a shell completion script."
SHELLS = ("bash", "zsh", "fish")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("shell", choices=SHELLS)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from inspector.completion import script

    sys.stdout.write(script(args.shell, ctx.parser, ctx.commands))
    return 0
