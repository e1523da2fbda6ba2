"""Command line: argv → options → the TUI or a headless command; exit codes.

    inspector                          the demo: bundled samples side by side (TUI)
    inspector IMAGE                    inspect one image (TUI)
    inspector A B [C …]                compare images side by side (TUI)
    inspector export IMAGE --format json [-o FILE]
    inspector compare A B [C …] --format text|markdown|json [-o FILE] [--files]
    inspector samples                  list the bundled sample images
    inspector serve [IMAGE …]          the TUI in a browser (textual-serve)
    inspector audit [IMAGE …] [--from FILE] [--catalog REGISTRY[/PREFIX]]

Exit codes: 0 success, 1 an expected failure (one line on stderr, no traceback),
2 usage error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from inspector.errors import InspectorError
from inspector.oci.platform import Platform
from inspector.options import Options

COMMANDS = ("export", "compare", "samples", "serve", "audit")
DEMO = ("sample:debian-12-slim", "sample:distroless-static")


def _common(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("image access")
    g.add_argument("--platform", default="linux/amd64", metavar="OS/ARCH[/VARIANT]",
                   help="platform to choose from a multi-platform image (default linux/amd64)")
    g.add_argument("--tls-verify", dest="tls_verify", action="store_true", default=True,
                   help="verify registry TLS certificates (default)")
    g.add_argument("--no-tls-verify", dest="tls_verify", action="store_false",
                   help="do not verify TLS certificates; allow plain HTTP to any registry")
    g.add_argument("--ca-cert", type=Path, metavar="FILE", help="extra CA bundle for registries")
    g.add_argument("--anonymous", action="store_true",
                   help="ignore stored registry credentials (~/.docker/config.json)")
    g.add_argument("--cache-dir", type=Path, metavar="DIR", help="cache directory")
    g.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    g.add_argument("--source", choices=("docker", "podman", "docker-archive"),
                   help="dive's spelling: where a bare NAME[:TAG] comes from")
    g.add_argument("-q", "--quiet", action="store_true", help="no progress output")


def _options(args: argparse.Namespace) -> Options:
    if not args.tls_verify:  # the user chose it; one warning per request is noise
        import warnings

        warnings.filterwarnings("ignore", message="Unverified HTTPS request")
    return Options(
        platform=Platform.parse(args.platform), tls_verify=args.tls_verify,
        ca_cert=args.ca_cert, anonymous=args.anonymous, cache_dir=args.cache_dir,
        no_cache=args.no_cache, quiet=args.quiet, engine=args.source,
    )


def _apply_source(reference: str, engine: str | None) -> str:
    """dive's ``--source``: a bare name becomes ``docker-daemon:`` / ``docker-archive:``."""
    from inspector.reference import split_transport

    if not engine or split_transport(reference).transport not in ("registry", "path"):
        return reference
    if engine in ("docker", "podman"):
        return "docker-daemon:" + reference
    return "docker-archive:" + reference


def build_parser(command: str | None) -> argparse.ArgumentParser:
    if command == "export":
        p = argparse.ArgumentParser(prog="inspector export",
                                    description="Write the whole index of an image.")
        p.add_argument("image")
        p.add_argument("--format", choices=("json",), default="json")
        p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    elif command == "compare":
        p = argparse.ArgumentParser(prog="inspector compare",
                                    description="Compare images side by side, headless.")
        p.add_argument("images", nargs="+", metavar="IMAGE")
        p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
        p.add_argument("-o", "--output", metavar="FILE")
        p.add_argument("--files", action="store_true", help="list the differing files")
        p.add_argument("--sort", choices=("path", "size"), default="size",
                       help="order of --files lists (default: size)")
    elif command == "samples":
        p = argparse.ArgumentParser(prog="inspector samples",
                                    description="List the bundled sample images.")
    elif command == "serve":
        p = argparse.ArgumentParser(prog="inspector serve",
                                    description="Serve the TUI in a browser (textual-serve).")
        p.add_argument("images", nargs="*", metavar="IMAGE")
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)
    elif command == "audit":
        from inspector.audit.cli import add_arguments

        p = argparse.ArgumentParser(prog="inspector audit",
                                    description="Audit a fleet: every image's shells, package "
                                                "managers and sizes, each shared layer read once.")
        add_arguments(p)
    else:
        p = argparse.ArgumentParser(
            prog="inspector",
            description="Open container images and see what they contain — and what "
                        "distroless strips away. Commands: export, compare, samples, serve.",
            epilog="With no IMAGE: the demo (debian-12-slim beside distroless-static).")
        p.add_argument("images", nargs="*", metavar="IMAGE")
    _common(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    parser = build_parser(command)
    args = parser.parse_args(argv[1:] if command else argv)
    gc_was_enabled = gc.isenabled()
    if command in ("export", "compare", "audit"):
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
        if command == "samples":
            return _samples()
        if command == "audit":
            from inspector.audit.cli import run

            return run(args, options, _open_output)
        images = [_apply_source(r, args.source) for r in (args.images or [])]
        if command == "serve":
            return _serve(args, images)
        return _tui(images, options)
    except InspectorError as exc:
        print(f"inspector: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("inspector: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1


def _analyze(reference: str, options: Options, memo=None, shared_bar=None):
    """Open and analyse one image, drawing progress on stderr (one line; ``shared_bar``
    when several images load at once)."""
    from inspector.analysis import analyze
    from inspector.sources.resolve import open_image

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


def _analyze_many(references: list[str], options: Options):
    """The ``analyze`` function for ``compare_references``: one progress line for all."""
    from inspector.compare import compare_references
    from inspector.report.progress import StderrProgress

    bar = StderrProgress(f"{len(references)} images", 0)
    try:
        return compare_references(
            references, options,
            analyze=lambda ref, opts, memo: _analyze(ref, opts, memo, shared_bar=bar))
    finally:
        bar.finish()


def _open_output(path: str | None):
    if not path or path == "-":
        return sys.stdout, False
    try:
        return open(path, "w", encoding="utf-8", newline="\n"), True
    except OSError as exc:
        raise InspectorError(f"cannot write {path}: {exc.strerror}") from exc


def _export(args: argparse.Namespace, options: Options) -> int:
    from inspector.report.export import write_export

    analysis = _analyze(args.image, options)
    try:
        for warning in analysis.warnings:
            if not warning.startswith("skipped member "):
                print(f"inspector: warning: {warning}", file=sys.stderr)
        out, close = _open_output(args.output)
        try:
            write_export(analysis, out,
                         cache_dir=None if options.no_cache else options.resolved_cache_dir())
        finally:
            if close:
                out.close()
    finally:
        analysis.image.close()
    if analysis.unsafe:
        # the export is written (nothing lost), but the image is malformed or hostile
        shown = "; ".join(analysis.unsafe[:3]) + (" …" if len(analysis.unsafe) > 3 else "")
        print(f"inspector: {args.image}: {len(analysis.unsafe)} unsafe tar member(s) flagged "
              f"and not followed: {shown} (the image is malformed or hostile; the export "
              "omits them)", file=sys.stderr)
        return 1
    return 0


def _compare(args: argparse.Namespace, options: Options) -> int:
    from inspector.report.compare import render

    if len(args.images) < 2:
        raise InspectorError("compare needs at least two images")
    result = _analyze_many(args.images, options)
    out, close = _open_output(args.output)
    try:
        color = (not close and out.isatty() and "NO_COLOR" not in os.environ)
        out.write(render(result, args.format, files=args.files, sort=args.sort, color=color))
    finally:
        if close:
            out.close()
    return 0


def _samples() -> int:
    from inspector.sources.samples import list_samples

    rows = list_samples()
    width = max(len(s.name) for s in rows)
    for s in rows:
        print(f"sample:{s.name:<{width}}  {s.compressed / 1e6:7.1f} MB / "
              f"{s.uncompressed / 1e6:6.1f} MB  {s.description}")
    return 0


def _tui(images: list[str], options: Options) -> int:
    try:
        from inspector.tui.app import run_app
    except ImportError:  # the TUI is not installed: fall back to the headless demo
        return _headless_demo(images, options)
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


def _serve(args: argparse.Namespace, images: list[str]) -> int:
    try:
        from textual_serve.server import Server
    except ImportError as exc:
        raise InspectorError("inspector serve needs textual-serve",
                             hint="pip install 'inspector[serve]'") from exc
    import shlex

    command = " ".join([shlex.quote(sys.executable), "-m", "inspector", *map(shlex.quote, images)])
    Server(command, host=args.host, port=args.port, title="inspector").serve()
    return 0
