"""Per-entry CPU cost of the stages after the walker (issue 16). Not a test: prints figures.

On an in-memory one-layer filesystem of ``--dirs`` × ``--per-dir`` empty files (the
shape of bench_speed's 1m case, without the walk), the median over ``--runs`` of:
merge, classify (no catalog), rendering the export's files array, and the TUI tree's
first use (``DirTree`` plus its directory totals) — in µs per entry (CPU time), and the
bytes per entry the merge and classify results keep (``tracemalloc``).

``--root`` runs another checkout's code (e.g. a tree of main, to compare before/after;
run the two alternately on a shared machine):

    .venv/bin/python benchmarks/bench_stages.py [--root DIR] [--runs 3]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from types import SimpleNamespace


class _Null:
    def write(self, text: str) -> None:
        pass


def _cpu(fn) -> tuple[object, float]:
    gc.collect()
    gc.disable()  # a collection in the middle would be charged to whichever stage it hit
    start = time.process_time()
    result = fn()
    spent = time.process_time() - start
    gc.enable()
    return result, spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--dirs", type=int, default=1000)
    parser.add_argument("--per-dir", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(args.root))
    from inspector.catalog.builder import Catalog
    from inspector.classify import classify_image, default_rules
    from inspector.index.entries import DIR, FILE, LayerIndex
    from inspector.index.merge import merge
    from inspector.index.tree import DirTree
    from inspector.report.export import write_files

    index = LayerIndex(diff_id="sha256:bench")
    for d in range(args.dirs):
        index.add(f"/data/d{d:04d}", DIR, 0, 0o755, 0, 0)  # /data itself is implied
        for f in range(args.per_dir):
            index.add(f"/data/d{d:04d}/file{f:04d}.txt", FILE, f % 13, 0o644, 0, 0)
    default_rules()
    times: dict[str, list[float]] = {"merge": [], "classify": [], "export": [], "tree": []}
    for _ in range(args.runs):
        fs, spent = _cpu(lambda: merge([index]))
        times["merge"].append(spent)
        catalog = Catalog()
        cls, spent = _cpu(lambda: classify_image(fs, catalog))  # noqa: B023
        times["classify"].append(spent)
        analysis = SimpleNamespace(fs=fs, catalog=catalog, classification=cls)
        times["export"].append(_cpu(lambda: write_files(analysis, _Null()))[1])  # noqa: B023
        times["tree"].append(_cpu(lambda: DirTree(fs).totals()["/"])[1])  # noqa: B023
    tracemalloc.start()
    fs = merge([index])
    kept_merge = tracemalloc.get_traced_memory()[0]
    classify_image(fs, Catalog())
    kept_classify = tracemalloc.get_traced_memory()[0] - kept_merge
    tracemalloc.stop()
    n = len(fs)
    print(f"{args.root}: {n:,} entries, median of {args.runs} (CPU µs per entry)")
    for stage, spent in times.items():
        print(f"  {stage:<9}{statistics.median(spent) / n * 1e6:6.2f} µs")
    print(f"  kept: merge {kept_merge / n:.0f} B/entry, classify {kept_classify / n:.0f} B/entry")


if __name__ == "__main__":
    main()
