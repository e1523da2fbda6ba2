"""``inspector check IMAGE [IMAGE…] [--rules FILE] [--format text|json|sarif] [--junit FILE]
[--vulns FILE …]``: the content gate for CI (``inspector/check``).

Exit codes: 0 every rule passed (warnings allowed), 1 a rule failed (or an image could not
be opened), 2 a usage or rules-file error (the message names the file, line and key).
"""

from __future__ import annotations

import argparse

from inspector.commands.context import Context
from inspector.commands.options import add_base, add_vulns

DESCRIPTION = "Gate images on content rules (exit 1 on failure)."
BATCH = True
EXIT_FAILED, EXIT_USAGE = 1, 2


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--rules", metavar="FILE",
                   help="rules file: TOML (see inspector/check/rules.example.toml) or dive's "
                        ".dive-ci; default: no shell, no package manager, no setuid or "
                        "world-writable files, no login users, dive's efficiency defaults")
    p.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.add_argument("--junit", metavar="FILE", help="also write JUnit XML here")
    add_vulns(p)
    add_base(p)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from inspector.analysis import LayerMemo
    from inspector.check import output
    from inspector.check.config import load
    from inspector.check.evaluate import evaluate
    from inspector.errors import RulesError, print_line

    try:
        rules = load(args.rules)
    except RulesError as exc:
        print_line(str(exc))
        return EXIT_USAGE
    from inspector.vulns import load_reports, overlay

    reports = load_reports(args.vulns, len(args.images), "check")
    if reports is None and any(r.key == "max_vulns" for r in rules.rules):
        print_line(f"{rules.source}: rule max_vulns needs a scanner report per image "
                   "(--vulns FILE, in image order)")
        return EXIT_USAGE
    memo = LayerMemo()
    results = []
    for i, reference in enumerate(args.images):
        analysis = ctx.analyze(reference, memo)
        try:
            vulns = reports and overlay(reports[i], analysis,
                                        any_image=args.vulns_any_image)
            base = None
            if args.base_image:
                from inspector.provenance import given_base

                base = given_base(analysis, args.base_image, ctx.options)
            results.append((reference, evaluate(analysis, rules, vulns or None, base=base)))
        finally:
            analysis.image.close()
    render = {"text": lambda: output.render_text(results, rules.source),
              "json": lambda: output.render_json(results, rules.source),
              "sarif": lambda: output.render_sarif(results, rules.source)}[args.format]
    out, close = ctx.open_output(args.output)
    try:
        out.write(render())
    finally:
        if close:
            out.close()
    if args.junit:
        junit, close = ctx.open_output(args.junit)
        try:
            junit.write(output.render_junit(results))
        finally:
            if close:
                junit.close()
    failed = any(v.status == "fail" for _, verdicts in results for v in verdicts)
    return EXIT_FAILED if failed else 0
