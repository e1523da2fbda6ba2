"""``inspector cache info|prune|clear``: what the cache holds, and making room.

    inspector cache info                       path, cap, entries and bytes per kind
    inspector cache prune [--max-size SIZE] [--older-than AGE]
                                               evict down to SIZE (default: the cap) and
                                               drop entries unused for AGE; stale temp files
                                               and entries of other versions go
    inspector cache clear                      remove every entry no running process uses
"""

from __future__ import annotations

import argparse
import sys

from inspector.commands.context import Context
from inspector.config import parse_age, size_arg
from inspector.errors import InspectorError
from inspector.options import Options
from inspector.visible import visible

DESCRIPTION = "Show or trim the cache."
ACTIONS = ("info", "prune", "clear")


def _age_arg(text: str) -> float:
    try:
        return parse_age(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=ACTIONS, help="info: show; prune: evict; clear: remove all")
    p.add_argument("--max-size", type=size_arg, metavar="SIZE",
                   help="prune: evict least recently used entries down to SIZE (default: the cap)")
    p.add_argument("--older-than", type=_age_arg, metavar="AGE",
                   help="prune: also remove entries unused for AGE (e.g. 30d, 12h)")


def human(size: int) -> str:
    n = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover


def info(options: Options, out=sys.stdout) -> None:
    from inspector import cache_admin

    root = options.resolved_cache_dir()
    found = cache_admin.entries(root) if root.is_dir() else []
    out.write(f"cache  {visible(root)}\n")  # the user's environment names it
    how = "default" if options.cache_max is None else "set"
    out.write(f"cap    {human(cache_admin.cap(root))} ({how})\n")
    out.write(f"{'kind':<10}{'entries':>9}{'size':>13}\n")
    for kind in cache_admin.KINDS:
        mine = [e for e in found if e.kind == kind]
        out.write(f"{kind:<10}{len(mine):>9}{human(sum(e.size for e in mine)):>13}\n")
    out.write(f"{'total':<10}{len(found):>9}{human(sum(e.size for e in found)):>13}\n")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from inspector import cache_admin

    options = ctx.options
    root = options.resolved_cache_dir()
    if args.action == "info":
        info(options)
        return 0
    if args.max_size is not None or args.older_than is not None:
        if args.action != "prune":
            raise InspectorError("--max-size and --older-than go with prune",
                                 hint="inspector cache prune --max-size 2G")
    if not root.is_dir():
        print(f"cache {visible(root)}: nothing to do (it does not exist)")
        return 0
    if args.action == "clear":
        freed = cache_admin.clear(root)
    else:
        freed = cache_admin.sweep(root)
        limit = cache_admin.cap(root) if args.max_size is None else args.max_size
        freed += cache_admin.evict(root, limit, older_than=args.older_than, stale=True)
    print(f"cache {visible(root)}: freed {human(freed)}")
    return 0
