"""``inspector serve [IMAGE …] [--host H] [--port N]``: the TUI in a browser
(``tui/serve.py``)."""

from __future__ import annotations

import argparse

from inspector.commands.context import Context, apply_source

DESCRIPTION = "Serve the TUI in a browser (textual-serve)."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="*", metavar="IMAGE")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from inspector.tui.serve import serve

    return serve(args, [apply_source(r, args.source) for r in args.images])
