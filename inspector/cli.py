"""Command line: argv → options → the TUI or a headless command; exit codes.

    inspector                          the demo: bundled samples side by side (TUI)
    inspector IMAGE                    inspect one image (TUI)
    inspector A B [C …]                compare images side by side (TUI)
    inspector export IMAGE --format json|cyclonedx|spdx-json|html [-o FILE]
    inspector compare A B [C …] --format text|markdown|json|html [-o FILE] [--files]
    inspector fit IMAGE [--base REF …]  which distroless base the application would run on
    inspector check IMAGE [IMAGE …] [--rules FILE] [--format text|json|sarif] [--junit FILE]
    inspector samples                  list the bundled sample images
    inspector serve [IMAGE …]          the TUI in a browser (textual-serve)
    inspector audit [IMAGE …] [--from FILE] [--catalog REGISTRY[/PREFIX]]
    inspector cache info|prune|clear   the cache: what it holds, making room
    inspector completion bash|zsh|fish a shell completion script

Exit codes: 0 success, 1 an expected failure (one line on stderr, no traceback),
2 usage error or an internal error (a bug: one line asking for a report), 130 interrupted.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from inspector import config
from inspector.errors import InspectorError, print_line
from inspector.oci.platform import Platform
from inspector.options import Options

COMMANDS = ("export", "compare", "check", "samples", "serve", "fit", "audit", "cache",
            "completion")
DEMO = ("sample:debian-12-slim", "sample:distroless-static")


class _Parser(argparse.ArgumentParser):
    """argparse, with its error line (which quotes what was typed, e.g. an unrecognised
    argument a script took from a file name) shown visibly."""

    def error(self, message: str) -> NoReturn:
        from inspector.visible import visible

        super().error(visible(message))


def _common(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("image access")
    g.add_argument("--platform", metavar="OS/ARCH[/VARIANT]",
                   help="platform to choose from a multi-platform image (default linux/amd64); "
                        "given, an image for another platform is an error")
    g.add_argument("--tls-verify", dest="tls_verify", action="store_true", default=True,
                   help="verify registry TLS certificates (default)")
    g.add_argument("--no-tls-verify", dest="tls_verify", action="store_false",
                   help="do not verify TLS certificates; allow plain HTTP to any registry")
    g.add_argument("--ca-cert", type=Path, metavar="FILE", help="extra CA bundle for registries")
    g.add_argument("--anonymous", action="store_true",
                   help="ignore stored registry credentials (~/.docker/config.json)")
    g.add_argument("--cache-dir", type=Path, metavar="DIR", help="cache directory")
    g.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    g.add_argument("--cache-max", type=config.size_arg, metavar="SIZE",
                   help="cache size cap, e.g. 10G (default 5G; INSPECTOR_CACHE_MAX, config.toml)")
    g.add_argument("--source", choices=("docker", "podman", "docker-archive"),
                   help="dive's spelling: where a bare NAME[:TAG] comes from")
    g.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    g.add_argument("--timeout", type=_seconds, default=30.0, metavar="SECONDS",
                   help="registry connect and idle-read timeout (default 30)")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < 1e6:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def _options(args: argparse.Namespace) -> Options:
    config.apply(args)  # flag > INSPECTOR_* > config.toml > default
    if not args.tls_verify:  # the user chose it; one warning per request is noise
        import warnings

        warnings.filterwarnings("ignore", message="Unverified HTTPS request")
    return Options(
        platform=Platform.parse(args.platform or "linux/amd64"), tls_verify=args.tls_verify,
        ca_cert=args.ca_cert, anonymous=args.anonymous, cache_dir=args.cache_dir,
        no_cache=args.no_cache, quiet=args.quiet, engine=args.source, cache_max=args.cache_max,
        platform_required=args.platform is not None, timeout=args.timeout,
    )


def _apply_source(reference: str, engine: str | None) -> str:
    """dive's ``--source``: a bare name becomes ``docker-daemon:`` / ``docker-archive:``."""
    from inspector.reference import split_transport

    if not engine or split_transport(reference).explicit:
        return reference
    if engine in ("docker", "podman"):
        return "docker-daemon:" + reference
    return "docker-archive:" + reference


def _vulns_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--vulns", action="append", metavar="FILE",
                   help="a grype, trivy or CycloneDX JSON report of the image (one per "
                        "image, in image order): counts by severity beside the contents")
    p.add_argument("--vulns-any-image", action="store_true",
                   help="overlay a --vulns report even when it names another image")


def build_parser(command: str | None) -> argparse.ArgumentParser:
    if command == "export":
        p = _Parser(prog="inspector export",
                                    description="Write the whole index of an image.")
        p.add_argument("image")
        p.add_argument("--format", choices=("json", "cyclonedx", "spdx-json", "html"),
                       default="json",
                       help="json: the whole index (inspector.export/v1); cyclonedx (1.6 "
                            "JSON) or spdx-json (2.3): an SBOM; html: one self-contained "
                            "page to hand out")
        p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
        _vulns_args(p)
    elif command == "compare":
        p = _Parser(prog="inspector compare",
                                    description="Compare images side by side, headless.")
        p.add_argument("images", nargs="+", metavar="IMAGE")
        p.add_argument("--format", choices=("text", "markdown", "json", "html"), default="text")
        p.add_argument("-o", "--output", metavar="FILE")
        p.add_argument("--files", action="store_true", help="list the differing files")
        p.add_argument("--sort", choices=("path", "size"), default="size",
                       help="order of --files lists (default: size)")
        _vulns_args(p)
    elif command == "fit":
        from inspector.fit.cli import add_arguments

        p = _Parser(prog="inspector fit",
                                    description="Which distroless base would this image's "
                                                "application run on, and what would it save.")
        add_arguments(p)
    elif command == "check":
        from inspector import check

        p = _Parser(prog="inspector check",
                                    description="Gate images on content rules (exit 1 on failure).")
        check.add_arguments(p)
        _vulns_args(p)
    elif command == "samples":
        p = _Parser(prog="inspector samples",
                                    description="List the bundled sample images.")
    elif command == "serve":
        p = _Parser(prog="inspector serve",
                                    description="Serve the TUI in a browser (textual-serve).")
        p.add_argument("images", nargs="*", metavar="IMAGE")
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)
    elif command == "audit":
        from inspector.audit.cli import add_arguments

        p = _Parser(prog="inspector audit",
                                    description="Audit a fleet: every image's shells, package "
                                                "managers and sizes, each shared layer read once.")
        add_arguments(p)
    elif command == "cache":
        from inspector import cache_cli

        p = _Parser(prog="inspector cache", description="Show or trim the cache.")
        cache_cli.add_arguments(p)
    elif command == "completion":
        from inspector import completion

        p = _Parser(prog="inspector completion",
                                    description="Print a shell completion script.")
        completion.add_arguments(p)
    else:
        p = _Parser(
            prog="inspector",
            description="Open container images and see what they contain — and what "
                        "distroless strips away. Commands: export, compare, check, fit, audit, "
                        "samples, serve, cache, completion.",
            epilog="With no IMAGE: the demo (debian-12-slim beside distroless-static).")
        p.add_argument("images", nargs="*", metavar="IMAGE")
        p.add_argument("--version", action=config.VersionAction)
    _common(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    parser = build_parser(command)
    args = parser.parse_args(argv[1:] if command else argv)
    gc_was_enabled = gc.isenabled()
    if command in ("export", "compare", "check", "audit"):
        # a short batch run over large, acyclic data: the cyclic GC would only re-scan it
        # (10% of a 150k-entry export); memory is freed by reference counting as usual
        gc.disable()
    try:
        return _run(command, args)
    finally:
        if gc_was_enabled:
            gc.enable()


def _run(command: str | None, args: argparse.Namespace) -> int:
    try:
        options = _options(args)
        if command == "export":
            return _export(args, options)
        if command == "compare":
            return _compare(args, options)
        if command == "check":
            from inspector import check

            return check.run(args, options)
        if command == "samples":
            return _samples()
        if command == "fit":
            from inspector.fit.cli import run

            return run(args, options, _analyze, _open_output)
        if command == "audit":
            from inspector.audit.cli import run as run_audit

            return run_audit(args, options)
        if command == "cache":
            from inspector import cache_cli

            return cache_cli.run(args, options)
        if command == "completion":
            from inspector import completion

            return completion.run(args)
        images = [_apply_source(r, args.source) for r in (args.images or [])]
        if command == "serve":
            from inspector.tui.serve import serve

            return serve(args, images)
        return _tui(images, options)
    except InspectorError as exc:
        print_line(str(exc))
        return exc.exit_code  # 2 for the user's own files and values (InputError)
    except KeyboardInterrupt:
        print_line("interrupted")
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # a bug: still one line, never a traceback
        print_line(f"internal error: {type(exc).__name__}: {exc} (please report this, with "
                   "the command line, at the project's issue tracker)")
        return 2


def _analyze(reference: str, options: Options, memo=None, shared_bar=None):
    """Open and analyse one image, drawing progress on stderr (one line; ``shared_bar``
    when several images load at once)."""
    from inspector.analysis import analyze, open_image

    image = open_image(_apply_source(reference, options.engine), options)
    try:
        if options.quiet:
            return analyze(image, options, memo=memo)
        if shared_bar is not None:
            return analyze(image, options, memo=memo,
                           progress=shared_bar.for_image(reference, len(image.layers)))
        from inspector.report.progress import StderrProgress  # not imported with -q

        bar = StderrProgress(reference, len(image.layers))
        try:
            return analyze(image, options, progress=bar, memo=memo)
        finally:
            bar.finish()
    except BaseException:
        image.close()
        raise


def _analyze_many(references: list[str], options: Options, keep: dict | None = None):
    """The ``analyze`` function for ``compare_references``: one progress line for all.
    ``keep`` (reference → ``Analysis``) receives the analyses too (``--vulns``)."""
    from inspector.compare import compare_references
    from inspector.report.progress import StderrProgress

    def one(ref, opts, memo):
        analysis = _analyze(ref, opts, memo, shared_bar=bar)
        if keep is not None:
            keep[ref] = analysis
        return analysis

    bar = StderrProgress(f"{len(references)} images", 0)
    try:
        return compare_references(references, options, analyze=one)
    finally:
        bar.finish()


def _open_output(path: str | None):
    """``(stream, must_close)`` for ``-o`` (``outfile``: written whole or not at all)."""
    from inspector.outfile import open_output

    return open_output(path)


def _export(args: argparse.Namespace, options: Options) -> int:
    from inspector.cache import usable_dir
    from inspector.outfile import output
    from inspector.report.export import write_export
    from inspector.vulns import load_reports, overlay

    reports = load_reports(args.vulns, 1, "export")
    if reports and args.format not in ("json", "html"):
        raise InspectorError("export: --vulns goes with --format json or html (an SBOM lists "
                             "packages; the scanner's report is its own document)")
    with output(args.output, [args.image]) as out:
        analysis = _analyze(args.image, options)
        try:
            for warning in analysis.warnings:  # skipped members: one line below
                print_line(f"warning: {warning}")
            vulns = reports and overlay(reports[0], analysis, any_image=args.vulns_any_image)
            if args.format == "html":
                from inspector.report.html import command_line, render_export

                out.write(render_export(analysis, vulns=vulns or None,
                                        command=command_line("export", args)))
            else:
                write_export(analysis, out, cache_dir=usable_dir(options),
                             format=args.format, vulns=vulns or None)
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


def _compare(args: argparse.Namespace, options: Options) -> int:
    from inspector.outfile import output
    from inspector.report.compare import render

    if len(args.images) < 2:
        raise InspectorError("compare needs at least two images")
    from inspector.vulns import attach, load_reports

    reports = load_reports(args.vulns, len(args.images), "compare")
    with output(args.output, args.images) as out:
        kept: dict = {}
        html = args.format == "html"
        result = _analyze_many(args.images, options, kept if reports or html else None)
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


def _samples() -> int:
    from inspector.sources.samples import list_samples
    from inspector.visible import visible

    rows = list_samples()  # names and descriptions come from the samples' index.json
    names = [visible(s.name) for s in rows]
    width = max(map(len, names), default=0)
    for s, name in zip(rows, names, strict=True):
        print(f"sample:{name:<{width}}  {s.compressed / 1e6:7.1f} MB / "
              f"{s.uncompressed / 1e6:6.1f} MB  {visible(s.description)}")
    return 0


def _tui(images: list[str], options: Options) -> int:
    try:
        from inspector.tui.app import run_app
    except ImportError:  # the TUI is not installed: fall back to the headless demo
        return _headless_demo(images, options)
    # without a terminal the TUI would wait forever; textual-serve's browser sessions set
    # TEXTUAL_DRIVER and talk over pipes, which is fine
    if not os.environ.get("TEXTUAL_DRIVER") and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise InspectorError("no terminal: use `inspector export` or `inspector compare`")
    return run_app(images or list(DEMO), options, demo=not images)


def _headless_demo(images: list[str], options: Options) -> int:
    from inspector.report.compare import render

    refs = images or list(DEMO)
    if len(refs) == 1:
        refs = refs * 2
    result = _analyze_many(refs, options)
    sys.stdout.write(render(result, "text", files=False, sort="size",
                            color=sys.stdout.isatty() and "NO_COLOR" not in os.environ))
    return 0
