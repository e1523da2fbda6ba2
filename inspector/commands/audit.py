"""``inspector audit [IMAGE …] [--from FILE] [--catalog REGISTRY[/PREFIX]]``: a fleet's
shells, package managers and sizes (``inspector/audit``)."""

from __future__ import annotations

import argparse
import sys
import threading
import time

from inspector.commands.context import Context
from inspector.errors import InspectorError, print_line
from inspector.options import Options

DESCRIPTION = ("Audit a fleet: every image's shells, package managers and sizes, each shared "
               "layer read once.")
BATCH = True


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="*", metavar="IMAGE", help="image references to audit")
    p.add_argument("--from", dest="from_file", metavar="FILE",
                   help="read references from FILE, one per line (# comments)")
    p.add_argument("--catalog", metavar="REGISTRY[/PREFIX]",
                   help="audit every repository of a registry (through /v2/_catalog)")
    p.add_argument("--tags", default="latest", metavar="latest|all|GLOB",
                   help="with --catalog: which tags of each repository (default: latest)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on an existing Dask distributed cluster (pip install "
                        "'inspector[cluster]'); workers need inspector installed")
    p.add_argument("--cluster-timeout", type=_positive_seconds, default=60.0,
                   metavar="SECONDS",
                   help="with --scheduler: how long to wait for the scheduler to answer, and "
                        "for a live worker whenever there is none (default 60)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="local processes (default: one per CPU; 1 runs in this process)")
    p.add_argument("--rules", metavar="FILE",
                   help="the rules each image is checked against (as for inspector check; "
                        "default: its default rules)")
    p.add_argument("--fit", action="store_true",
                   help="also work out the smallest distroless base each application runs on")
    p.add_argument("--format", choices=("text", "markdown", "json", "csv"), default="text")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, not {text!r}")
    return value


class _Progress:
    """One stderr line: images and layers done / total (only on a terminal, not with -q)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.counts = {"layer": (0, 0), "image": (0, 0)}
        self.lock = threading.Lock()
        self.last = 0.0

    def __call__(self, kind: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        with self.lock:
            self.counts[kind] = (done, total)
            now = time.monotonic()
            if now - self.last < 0.1 and done != total:
                return
            self.last = now
            (ld, lt), (im, it) = self.counts["layer"], self.counts["image"]
            sys.stderr.write(f"\raudit: layers {ld}/{lt}  images {im}/{it}\x1b[K")

    def finish(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\x1b[K")


def references(args: argparse.Namespace, options: Options) -> list[str]:
    refs = list(args.images)
    if args.from_file:
        from inspector.audit.inputs import read_list

        refs += read_list(args.from_file)
    if args.catalog:
        from inspector.audit.inputs import list_catalog

        listing = list_catalog(args.catalog, options, args.tags)
        if listing.without_tags and not options.quiet:
            print_line(f"audit: {len(listing.without_tags)} repositories have no tag "
                       f"matching {args.tags!r}: {', '.join(listing.without_tags[:5])}"
                       + (" …" if len(listing.without_tags) > 5 else ""))
        refs += listing.references
    return list(dict.fromkeys(refs))  # first occurrence of each, in order


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Exit 0 when every image was audited, 1 when any failed (its row says why)."""
    options = ctx.options
    from inspector.audit import audit, render
    from inspector.check.config import load
    from inspector.errors import RulesError
    from inspector.outfile import output

    refs = references(args, options)
    if not refs:
        raise InspectorError("nothing to audit: give image references, --from FILE or "
                             "--catalog REGISTRY")
    if args.workers is not None and args.workers < 1:
        raise InspectorError("--workers must be at least 1")
    try:
        load(args.rules)
    except RulesError as exc:  # a usage error, as for inspector check
        print_line(str(exc))
        return 2
    progress = _Progress(not options.quiet and sys.stderr.isatty())
    # the report file is opened first: an unwritable -o fails before any work
    with output(args.output, refs) as out:
        try:
            result = audit(refs, options, engine="dask" if args.scheduler else
                           ("inline" if args.workers == 1 else "local"),
                           workers=args.workers, scheduler=args.scheduler, progress=progress,
                           rules=args.rules, fit=args.fit, cluster_timeout=args.cluster_timeout)
        except ImportError as exc:
            raise InspectorError("--scheduler needs Dask distributed",
                                 hint="pip install 'inspector[cluster]'") from exc
        finally:
            progress.finish()
        out.write(render(result, args.format))
    return 1 if result.failed else 0
