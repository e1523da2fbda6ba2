"""``inspector samples``: the bundled sample images, one line each."""

from __future__ import annotations

import argparse

from inspector.commands.context import Context

DESCRIPTION = "List the bundled sample images."


def add_arguments(p: argparse.ArgumentParser) -> None:
    pass  # the common options only


def run(args: argparse.Namespace, ctx: Context) -> int:
    from inspector.sources.samples import list_samples
    from inspector.visible import visible

    rows = list_samples()  # names and descriptions come from the samples' index.json
    names = [visible(s.name) for s in rows]
    width = max(map(len, names), default=0)
    for s, name in zip(rows, names, strict=True):
        print(f"sample:{name:<{width}}  {s.compressed / 1e6:7.1f} MB / "
              f"{s.uncompressed / 1e6:6.1f} MB  {visible(s.description)}")
    return 0
