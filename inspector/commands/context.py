"""What every command shares: the run's ``Options``, opening and analysing an image with
progress on stderr, ``-o`` output, and the CLI's parsers (for ``completion``).

The CLI builds one ``Context`` per run and hands it to the command's ``run(args, ctx)``;
no command imports ``inspector.cli``. Importing this module costs only ``options``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO

from inspector.options import Options

if TYPE_CHECKING:
    from inspector.analysis import Analysis, LayerMemo
    from inspector.compare.model import CompareResult


def apply_source(reference: str, engine: str | None) -> str:
    """dive's ``--source``: a bare name becomes ``docker-daemon:`` / ``docker-archive:``."""
    from inspector.reference import split_transport

    if not engine or split_transport(reference).explicit:
        return reference
    if engine in ("docker", "podman"):
        return "docker-daemon:" + reference
    return "docker-archive:" + reference


def analyze(reference: str, options: Options, memo: LayerMemo | None = None,
            shared_bar: Any = None) -> Analysis:
    """Open and analyse one image, drawing progress on stderr (one line; ``shared_bar``
    when several images load at once)."""
    from inspector.analysis import analyze as run_analysis
    from inspector.analysis import open_image

    image = open_image(apply_source(reference, options.engine), options, listing=True, memo=memo)
    try:
        if options.quiet:
            return run_analysis(image, options, memo=memo)
        sizes = [layer.compressed_size for layer in image.layers]
        if shared_bar is not None:
            return run_analysis(image, options, memo=memo, progress=shared_bar.for_image(
                reference, len(image.layers), sizes))
        from inspector.report.progress import StderrProgress  # not imported with -q

        bar = StderrProgress(reference, len(image.layers), sizes=sizes)
        try:
            return run_analysis(image, options, progress=bar, memo=memo)
        finally:
            bar.finish()
    except BaseException:
        image.close()
        raise


def analyze_many(references: Sequence[str], options: Options,
                 keep: dict[str, Analysis] | None = None,
                 base_image: str | None = None) -> CompareResult:
    """Analyse and compare images with one progress line for all. ``keep`` (reference →
    ``Analysis``) receives the analyses too (``--vulns``); ``base_image``: ``--base-image``."""
    from inspector.compare import compare_references
    from inspector.report.progress import StderrProgress

    def one(ref: str, opts: Options, memo: LayerMemo) -> Analysis:
        analysis = analyze(ref, opts, memo, shared_bar=bar)
        if keep is not None:
            keep[ref] = analysis
        return analysis

    bar = StderrProgress(f"{len(references)} images", 0)
    try:
        return compare_references(list(references), options, analyze=one,
                                  base_image=base_image)
    finally:
        bar.finish()


def open_output(path: str | None) -> tuple[TextIO, bool]:
    """``(stream, must_close)`` for ``-o`` (``outfile``: written whole or not at all)."""
    from inspector.outfile import open_output as open_file

    return open_file(path)


def _no_parser(command: str | None) -> argparse.ArgumentParser:
    raise RuntimeError("this context has no parsers")


class Context(NamedTuple):
    """One run: its options, and the CLI's ``parser(command)`` (``None``: the root). (A
    NamedTuple: every run creates the class, a tenth of a frozen dataclass's cost.)"""

    options: Options
    parser: Callable[[str | None], argparse.ArgumentParser] = _no_parser
    commands: tuple[str, ...] = ()

    def analyze(self, reference: str, memo: LayerMemo | None = None) -> Analysis:
        return analyze(reference, self.options, memo)

    def analyze_many(self, references: Sequence[str],
                     keep: dict[str, Analysis] | None = None,
                     base_image: str | None = None) -> CompareResult:
        return analyze_many(references, self.options, keep, base_image)

    def open_output(self, path: str | None) -> tuple[TextIO, bool]:
        return open_output(path)
