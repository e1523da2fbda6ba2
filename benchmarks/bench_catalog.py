"""What catalog + classify add to a cold export (issue 4). Not a test: prints figures.

A cold ``inspector export IMAGE --no-cache`` (every layer read, inflated, hashed, walked)
in process, with the real catalog/classify, and with both replaced by functions that
return empty results — side by side, alternating, median of ``--repeat`` runs. Target:
ratio ≤ 1.10. Also the two steps alone on the already-merged filesystem.

    .venv/bin/python benchmarks/bench_catalog.py [--repeat 7] [IMAGE]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import inspector.analysis as analysis_mod  # noqa: E402
from inspector.catalog.builder import Catalog, catalog_image  # noqa: E402
from inspector.classify import Classification, classify_image, default_rules  # noqa: E402
from inspector.cli import main as cli_main  # noqa: E402
from inspector.options import Options  # noqa: E402
from inspector.sources.resolve import open_image  # noqa: E402


def export_once(reference: str, enabled: bool) -> float:
    analysis_mod.catalog_image = catalog_image if enabled else (lambda fs: Catalog())
    analysis_mod.classify_image = (classify_image if enabled
                                   else (lambda fs, catalog: Classification()))
    default_rules.cache_clear()  # a new process: rules parsed, compiled, memos empty
    start = time.perf_counter()
    code = cli_main(["export", reference, "--no-cache", "-q", "-o", os.devnull])
    elapsed = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"export failed with {code}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("image", nargs="?", default="sample:debian-12-slim")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    export_once(args.image, True)  # warm imports and the page cache
    on, off = [], []
    for _ in range(args.repeat):
        off.append(export_once(args.image, False))
        on.append(export_once(args.image, True))
    m_on, m_off = statistics.median(on), statistics.median(off)
    print(f"image: {args.image}   cold export (--no-cache), median of {args.repeat}")
    print(f"  without catalog/classify: {m_off * 1000:8.1f} ms")
    print(f"  with catalog/classify:    {m_on * 1000:8.1f} ms")
    print(f"  ratio: {m_on / m_off:.3f}  (target ≤ 1.10)")

    analysis_mod.catalog_image, analysis_mod.classify_image = catalog_image, classify_image
    options = Options(no_cache=True)
    fs = analysis_mod.analyze(open_image(args.image, options), options).fs
    cat_t, cls_t = [], []
    for _ in range(args.repeat):
        fs._sorted = None  # sorted_paths is shared with export; count it here
        default_rules.cache_clear()
        t0 = time.perf_counter()
        catalog = catalog_image(fs)
        t1 = time.perf_counter()
        classify_image(fs, catalog)
        cat_t.append(t1 - t0)
        cls_t.append(time.perf_counter() - t1)
    print(f"  alone on the merged fs ({len(fs)} entries, {len(catalog.packages)} packages): "
          f"catalog {statistics.median(cat_t) * 1000:.1f} ms, "
          f"classify {statistics.median(cls_t) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
