"""Cached vs uncached compare, side by side in one run (issue 6). Not a test: prints figures.

debian-12-slim vs distroless-static (the bundled samples), ``--format json``:

- uncached: a fresh ``--cache-dir`` per run (every layer read, inflated, hashed, walked,
  and the index written), and ``--no-cache`` (the same without the write);
- cached: a warm ``--cache-dir`` (layer indexes read back; no decompression).

Target: cached ≤ 0.25 × uncached. Measured two ways: the CLI end to end (a new Python
process per run, as a user sees it, bytecode cached as in an installation) and in process (``compare_references`` + ``render``,
without interpreter start-up and imports). Median of ``--repeat`` runs; a per-stage
breakdown of one cached in-process run follows, to show where the time goes.

    .venv/bin/python benchmarks/bench_compare.py [--repeat 5] [A B]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import inspector.analysis as analysis_mod  # noqa: E402
import inspector.compare as compare_mod  # noqa: E402
from inspector.compare import compare_references  # noqa: E402
from inspector.options import Options  # noqa: E402
from inspector.report.compare import render  # noqa: E402

TARGET = 0.25


#: environment of the CLI runs: bytecode cached (in a temp prefix, not the tree) as in any
#: installation, even when the caller sets PYTHONDONTWRITEBYTECODE
CLI_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def cli(refs: list[str], *flags: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "inspector", "compare", *refs, "--format", "json",
                    "-q", "-o", "/dev/null", *flags], cwd=ROOT, check=True, env=CLI_ENV)
    return time.perf_counter() - start


def in_process(refs: list[str], options: Options) -> float:
    start = time.perf_counter()
    render(compare_references(refs, options), "json")
    return time.perf_counter() - start


def median(fn, repeat: int) -> float:
    return statistics.median(fn() for _ in range(repeat))


def stages(refs: list[str], options: Options) -> dict[str, float]:
    """Seconds per stage of one run, summed over the images' threads (they overlap)."""
    spent: dict[str, float] = {}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - start
        return wrapper

    saved = {name: getattr(analysis_mod, name) for name in
             ("index_layers", "merge", "catalog_image", "classify_image", "efficiency")}
    saved_compare = compare_mod.compare_analyses
    try:
        for name, fn in saved.items():
            setattr(analysis_mod, name, timed(name, fn))
        compare_mod.compare_analyses = timed("compare_analyses (issue 6)", saved_compare)
        start = time.perf_counter()
        result = compare_references(refs, options)
        t = time.perf_counter()
        render(result, "json")
        spent["render json (issue 6)"] = time.perf_counter() - t
        spent["wall"] = time.perf_counter() - start
    finally:
        for name, fn in saved.items():
            setattr(analysis_mod, name, fn)
        compare_mod.compare_analyses = saved_compare
    return spent


def report(what: str, uncached: float, no_cache: float, cached: float) -> bool:
    ratio = cached / uncached
    ok = ratio <= TARGET
    print(f"{what}")
    print(f"  uncached (fresh cache dir) {uncached * 1000:8.1f} ms")
    print(f"  uncached (--no-cache)      {no_cache * 1000:8.1f} ms")
    print(f"  cached   (warm cache dir)  {cached * 1000:8.1f} ms")
    print(f"  ratio cached/uncached      {ratio:8.3f}  (target ≤ {TARGET}: "
          f"{'met' if ok else 'MISSED'})")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="*", default=["sample:debian-12-slim",
                                                      "sample:distroless-static"])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    refs, n = args.images, args.repeat
    print(f"compare {' vs '.join(refs)}, median of {n}")
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        root = Path(tmp)
        warm = root / "warm"
        counter = iter(range(10**6))

        def fresh() -> str:
            return str(root / f"fresh{next(counter)}")

        CLI_ENV["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
        cli(refs, "--cache-dir", str(warm))  # fill the warm cache (and the bytecode cache)
        ok_cli = report(
            "CLI end to end (new process each run)",
            median(lambda: cli(refs, "--cache-dir", fresh()), n),
            median(lambda: cli(refs, "--no-cache", "--cache-dir", fresh()), n),
            median(lambda: cli(refs, "--cache-dir", str(warm)), n))
        in_process(refs, Options(cache_dir=warm, quiet=True))  # imports, warm-up
        ok_proc = report(
            "in process (compare_references + render json)",
            median(lambda: in_process(refs, Options(cache_dir=Path(fresh()), quiet=True)), n),
            median(lambda: in_process(refs, Options(no_cache=True, quiet=True)), n),
            median(lambda: in_process(refs, Options(cache_dir=warm, quiet=True)), n))
        print("cached run, per stage (seconds, summed over the image threads):")
        for name, seconds in stages(refs, Options(cache_dir=warm, quiet=True)).items():
            print(f"  {name:28} {seconds * 1000:8.1f} ms")
    return 0 if ok_cli and ok_proc else 1


if __name__ == "__main__":
    sys.exit(main())
