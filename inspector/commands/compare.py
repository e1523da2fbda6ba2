"""``inspector compare A B [C …] [--format text|markdown|json|html] [-o FILE] [--files]
[--vulns FILE …]``."""

from __future__ import annotations

import argparse
import os
import sys

from inspector.commands.context import Context
from inspector.commands.options import add_base, add_vulns

DESCRIPTION = "Compare images side by side, headless."
BATCH = True


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--format", choices=("text", "markdown", "json", "html"), default="text")
    p.add_argument("-o", "--output", metavar="FILE")
    p.add_argument("--files", action="store_true", help="list the differing files")
    p.add_argument("--sort", choices=("path", "size"), default="size",
                   help="order of --files lists (default: size)")
    add_vulns(p)
    add_base(p)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from inspector.analysis import Analysis
    from inspector.errors import InspectorError
    from inspector.outfile import output
    from inspector.report.compare import render

    if len(args.images) < 2:
        raise InspectorError("compare needs at least two images")
    from inspector.vulns import attach, load_reports

    reports = load_reports(args.vulns, len(args.images), "compare")
    with output(args.output, args.images) as out:
        kept: dict[str, Analysis] = {}
        html = args.format == "html"
        result = ctx.analyze_many(args.images, kept if reports or html else None,
                                  args.base_image)
        if reports:
            attach(result, [kept[ref] for ref in args.images], reports, args.vulns_any_image)
        color = out is sys.stdout and out.isatty() and "NO_COLOR" not in os.environ
        if html:
            from inspector.report.html import command_line

            out.write(render(result, "html", files=args.files, sort=args.sort,
                             analyses=[kept[ref] for ref in args.images],
                             command=command_line("compare", args)))
        else:
            out.write(render(result, args.format, files=args.files, sort=args.sort,
                             color=color))
    return 0
