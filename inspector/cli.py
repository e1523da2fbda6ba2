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
from typing import NoReturn

from inspector import config
from inspector.commands import COMMANDS
from inspector.commands.context import Context, analyze_many, apply_source
from inspector.commands.options import add_base, add_common, add_vulns
from inspector.commands.options import options_of as _options
from inspector.errors import InspectorError, print_line
from inspector.options import Options

DEMO = ("sample:debian-12-slim", "sample:distroless-static")


class _Parser(argparse.ArgumentParser):
    """argparse, with its error line (which quotes what was typed, e.g. an unrecognised
    argument a script took from a file name) shown visibly."""

    def error(self, message: str) -> NoReturn:
        from inspector.visible import visible

        super().error(visible(message))


def build_parser(command: str | None) -> argparse.ArgumentParser:
    """The parser of ``command`` (a name of ``COMMANDS``), or of the root (``None``): the
    command's own arguments, then the common options."""
    if command is not None:
        module = COMMANDS[command]
        p = _Parser(prog=f"inspector {command}", description=module.DESCRIPTION)
        module.add_arguments(p)
    else:
        p = _Parser(
            prog="inspector",
            description="Open container images and see what they contain — and what "
                        f"distroless strips away. Commands: {', '.join(COMMANDS)}.",
            epilog="With no IMAGE: the demo (debian-12-slim beside distroless-static).")
        p.add_argument("images", nargs="*", metavar="IMAGE")
        p.add_argument("--version", action=config.VersionAction)
        add_vulns(p)
        add_base(p)
    add_common(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """The program (``argv`` None: the process's own command line — the installed console
    script and ``python -m inspector`` both call it so), or one command line run in the
    caller's process (``argv``: the exit code is returned)."""
    program = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    parser = build_parser(command)
    args = parser.parse_args(argv[1:] if command else argv)
    gc_was_enabled = gc.isenabled()
    if command and getattr(COMMANDS[command], "BATCH", False):
        # a short batch run over large, acyclic data: the cyclic GC would only re-scan it
        # (10% of a 150k-entry export); memory is freed by reference counting as usual
        gc.disable()
    try:
        code = _run(command, args)
    finally:
        if gc_was_enabled:
            gc.enable()
    if code and program:
        _exit_now(code)
    return code


def _exit_now(code: int) -> NoReturn:
    """End the process on an error or Ctrl-C (130) without joining its threads: one may
    still wait on a silent registry until the network timeout — a layer's TOC asked for
    beside the config (``RemoteToc.prefetch``), an index worker (``analysis.workers``,
    which ``concurrent.futures`` joins at exit) — and the run's line is printed, nothing
    else is pending. Here, not in ``__main__``: the console script does not run it."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more to say there
            pass
    os._exit(code)


def _run(command: str | None, args: argparse.Namespace) -> int:
    try:
        options = _options(args)
        if command is not None:
            return COMMANDS[command].run(args, Context(options, build_parser, tuple(COMMANDS)))
        return _tui([apply_source(r, args.source) for r in (args.images or [])], options, args)
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


def _tui(images: list[str], options: Options, args: argparse.Namespace) -> int:
    refs = images or list(DEMO)
    try:
        from inspector.tui.app import run_app
        from inspector.tui.scan import prepare
    except ImportError:  # the TUI is not installed: fall back to the headless demo
        return _headless_demo(images, options)
    # a report that cannot be read or names another image: one line, before the TUI
    scan = prepare(refs, args.vulns, args.vulns_any_image, args.base_image, options)
    # without a terminal the TUI would wait forever; textual-serve's browser sessions set
    # TEXTUAL_DRIVER and talk over pipes, which is fine
    if not os.environ.get("TEXTUAL_DRIVER") and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise InspectorError("no terminal: use `inspector export` or `inspector compare`")
    return run_app(refs, options, demo=not images, scan=scan)


def _headless_demo(images: list[str], options: Options) -> int:
    from inspector.report.compare import render

    refs = images or list(DEMO)
    if len(refs) == 1:
        refs = refs * 2
    result = analyze_many(refs, options)
    sys.stdout.write(render(result, "text", files=False, sort="size",
                            color=sys.stdout.isatty() and "NO_COLOR" not in os.environ))
    return 0
