"""``inspector export IMAGE [--format json|cyclonedx|spdx-json|html] [-o FILE] [--vulns FILE]``."""

from __future__ import annotations

import argparse

from inspector.commands.context import Context
from inspector.commands.options import add_base, add_vulns

DESCRIPTION = "Write the whole index of an image."
BATCH = True  # a short run over large, acyclic data: the CLI turns the cyclic GC off


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("image")
    p.add_argument("--format", choices=("json", "cyclonedx", "spdx-json", "html"),
                   default="json",
                   help="json: the whole index (inspector.export/v1); cyclonedx (1.6 "
                        "JSON) or spdx-json (2.3): an SBOM; html: one self-contained "
                        "page to hand out")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    add_vulns(p)
    add_base(p)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from inspector.cache import usable_dir
    from inspector.errors import InspectorError, print_line
    from inspector.outfile import output
    from inspector.report.export import write_export

    reports = None
    if args.vulns:  # the scanner overlay is loaded only for --vulns (~5 ms of imports)
        from inspector.vulns import load_reports

        reports = load_reports(args.vulns, 1, "export")
    if reports and args.format not in ("json", "html"):
        raise InspectorError("export: --vulns goes with --format json or html (an SBOM lists "
                             "packages; the scanner's report is its own document)")
    with output(args.output, [args.image]) as out:
        analysis = ctx.analyze(args.image)
        try:
            for warning in analysis.warnings:  # skipped members: one line below
                print_line(f"warning: {warning}")
            vulns = None
            if reports:
                from inspector.vulns import overlay

                vulns = overlay(reports[0], analysis, any_image=args.vulns_any_image)
            base = None
            if args.base_image:
                from inspector.provenance import given_base

                base = given_base(analysis, args.base_image, ctx.options)
            if args.format == "html":
                from inspector.report.html import command_line, render_export

                out.write(render_export(analysis, vulns=vulns or None, base=base,
                                        command=command_line("export", args)))
            else:
                write_export(analysis, out, cache_dir=usable_dir(ctx.options),
                             format=args.format, vulns=vulns or None, base=base)
        finally:
            analysis.image.close()
    if analysis.unsafe:
        # the export is written (nothing lost), but the image is malformed or hostile
        shown = "; ".join(analysis.unsafe[:3]) + (" …" if len(analysis.unsafe) > 3 else "")
        print_line(f"{args.image}: {len(analysis.unsafe)} unsafe tar member(s) flagged and "
                   f"not followed: {shown} (the image is malformed or hostile; the export "
                   "omits them)")
        return 1
    return 0
