"""``inspector check IMAGE [IMAGE…] [--rules FILE]``: the content gate for CI.

Each image is analysed (from any source, through the index and analysis caches, so a
re-check of an unchanged image reads no layer) and every rule gives a verdict: pass, fail
or warn (a failed warn-only rule), with the measured figure and the first offending paths.

Rules: ``config.py`` (TOML, ``rules.example.toml`` documents every key; or dive's
``.dive-ci``); verdicts: ``evaluate.py``; formats: ``output.py``.

Exit codes: 0 every rule passed (warnings allowed), 1 a rule failed (or an image could not
be opened), 2 a usage or rules-file error (the message names the file, line and key).
"""

from __future__ import annotations

import argparse

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


def run(args: argparse.Namespace, options) -> int:
    from inspector.analysis import LayerMemo
    from inspector.check import output
    from inspector.check.config import load
    from inspector.check.evaluate import evaluate
    from inspector.cli import _analyze, _open_output
    from inspector.errors import RulesError, print_line

    try:
        rules = load(args.rules)
    except RulesError as exc:
        print_line(str(exc))
        return EXIT_USAGE
    from inspector.vulns import load_reports, overlay

    reports = load_reports(getattr(args, "vulns", None), len(args.images), "check")
    if reports is None and any(r.key == "max_vulns" for r in rules.rules):
        print_line(f"{rules.source}: rule max_vulns needs a scanner report per image "
                   "(--vulns FILE, in image order)")
        return EXIT_USAGE
    memo = LayerMemo()
    results = []
    for i, reference in enumerate(args.images):
        analysis = _analyze(reference, options, memo)
        try:
            vulns = reports and overlay(reports[i], analysis,
                                        any_image=getattr(args, "vulns_any_image", False))
            results.append((reference, evaluate(analysis, rules, vulns or None)))
        finally:
            analysis.image.close()
    render = {"text": lambda: output.render_text(results, rules.source),
              "json": lambda: output.render_json(results, rules.source),
              "sarif": lambda: output.render_sarif(results, rules.source)}[args.format]
    out, close = _open_output(args.output)
    try:
        out.write(render())
    finally:
        if close:
            out.close()
    if args.junit:
        junit, close = _open_output(args.junit)
        try:
            junit.write(output.render_junit(results))
        finally:
            if close:
                junit.close()
    failed = any(v.status == "fail" for _, verdicts in results for v in verdicts)
    return EXIT_FAILED if failed else 0
