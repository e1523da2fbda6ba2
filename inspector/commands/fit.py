"""``inspector fit IMAGE [--base REF …] [--entrypoint PATH] [--format …] [-o FILE]
[--build oci:DIR[:TAG] | docker-archive:FILE[:NAME:TAG]]``."""

from __future__ import annotations

import argparse
import sys

from inspector.commands.context import Context

DESCRIPTION = ("Which distroless base would this image's application run on, and what would "
               "it save.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("image")
    p.add_argument("--base", action="append", default=[], metavar="REF",
                   help="another candidate base (any source; repeatable); the bundled "
                        "distroless static, base and cc samples are always tried")
    p.add_argument("--entrypoint", metavar="PATH",
                   help="the program to judge, instead of the config's Entrypoint + Cmd")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.add_argument("--build", metavar="DEST",
                   help="write the fitted image: oci:DIR[:TAG] or docker-archive:FILE[:NAME:TAG] "
                        "(the chosen base's layers + one layer of the application)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from inspector.analysis import LayerMemo
    from inspector.errors import print_line
    from inspector.fit import fit
    from inspector.fit.bases import SAMPLE_BASES
    from inspector.fit.render import render
    from inspector.visible import visible

    if args.build:
        from inspector.fit.build import parse_target

        parse_target(args.build)  # a bad destination fails before any work
    memo = LayerMemo()
    refs = list(dict.fromkeys([*SAMPLE_BASES, *args.base]))
    analyses = []
    try:
        current = ctx.analyze(args.image, memo)
        analyses.append(current)
        for ref in refs:
            analyses.append(ctx.analyze(ref, memo))
        result = fit(current, analyses[1:], entrypoint=args.entrypoint)
        built = None
        if args.build:
            from inspector.fit.build import build, fetch_notice

            chosen = result.chosen
            base = next((a for a in analyses[1:] if chosen and a.reference == chosen.reference),
                        current)
            from inspector.report.progress import TerminalLine
            from inspector.report.sizes import human

            line = TerminalLine(sys.stderr, enabled=not ctx.options.quiet)

            def copied(layers_done: int, layers: int, done: int, total: int) -> None:
                if line.due(final=layers_done == layers):
                    line.draw(f"fit --build: base layers {layers_done}/{layers}  "
                              f"{human(done)} of {human(total)}")
            if chosen is not None and (notice := fetch_notice(base)) and not ctx.options.quiet:
                print(notice, file=sys.stderr)
            try:
                built = build(current, base, result, args.build, progress=copied)
            finally:
                line.finish()
    finally:
        for a in analyses:
            a.image.close()
    out, close = ctx.open_output(args.output)
    try:
        out.write(render(result, args.format))
    finally:
        if close:
            out.close()
    for w in result.warnings:
        print_line(f"warning: {w}")
    if built is not None and not ctx.options.quiet:
        print(visible(f"built {built.target} ({built.digest}): {built.layers} layers, the "
                      f"application layer {built.app_files} files; compare: inspector compare "
                      f"{args.image} {built.target}"), file=sys.stderr)
    return 0

