"""A warm ``inspector check`` of a cached image against a cold one (issue 13). Not a test:
prints figures.

Cold: a fresh cache directory (every layer read, inflated, hashed, walked; catalog,
classify and efficiency computed). Warm: the same command again on that cache (layer
indexes and the analysis come from the caches; nothing is re-read). Each run is a new
process, as in a pipeline; median of ``--repeat`` runs each. Target: warm ≤ 0.3 × cold.

    .venv/bin/python benchmarks/bench_check.py [--repeat 5] [IMAGE]
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
TARGET = 0.3


#: as an installed package runs: with bytecode caches (a shell may have turned them off,
#: which adds the same ~0.2 s of compiling to every run, cold or warm)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def check_once(reference: str, cache: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "inspector", "check", reference, "-q",
                           "--cache-dir", str(cache), "-o", os.devnull],
                          cwd=ROOT, capture_output=True, text=True, env=ENV)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):  # 1: a rule failed, which is a result, not an error
        raise SystemExit(f"check failed with {proc.returncode}: {proc.stderr.strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("image", nargs="?", default="sample:debian-12-slim")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cold, warm = [], []
    with tempfile.TemporaryDirectory(prefix="bench-check-") as tmp:
        for i in range(args.repeat):
            cache = Path(tmp) / f"c{i}"
            cold.append(check_once(args.image, cache))
            warm.append(check_once(args.image, cache))
    m_cold, m_warm = statistics.median(cold), statistics.median(warm)
    ratio = m_warm / m_cold
    print(f"image: {args.image}   inspector check (default rules), median of {args.repeat}")
    print(f"  cold (empty cache):  {m_cold * 1000:8.1f} ms")
    print(f"  warm (cached):       {m_warm * 1000:8.1f} ms")
    print(f"  ratio: {ratio:.3f}  (target ≤ {TARGET})")


if __name__ == "__main__":
    main()
