"""TUI speed on a 150k-entry image with its index cached (issue 7). Not a test: prints figures.

Builds a one-layer image of ``--entries`` entries (one directory of 1,500 entries among
them) as an OCI layout, indexes it once into a private cache, then, side by side:

- ``tar -tvzf`` listing the layer blob (the baseline: what "just reading the names" costs);
- first paint of the inspect screen, driven by the pilot: from app start until the file
  view shows its first screenful (index read from the cache, merge, analysis, tree);
- expanding the 1,500-entry directory, then paging through it: per step, the key press
  until the screen is updated.

Targets: first paint ≤ 1.0 × tar; expand and page steps < 50 ms.

    .venv/bin/python benchmarks/bench_tui.py [--entries 150000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import io
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inspector.analysis import analyze  # noqa: E402
from inspector.options import Options  # noqa: E402
from inspector.sources.resolve import open_image  # noqa: E402
from inspector.tui.app import InspectorApp  # noqa: E402
from inspector.tui.widgets.file_view import FileView  # noqa: E402
from tests.builders import ImageSpec, write_oci_layout  # noqa: E402

BIG_DIR = "usr/share/big"
BIG_COUNT = 1500
PER_DIR = 500
SIZE = (160, 48)


def build_layer(entries: int) -> bytes:
    """A gzip layer of ``entries`` tar members: directories of ``PER_DIR`` small files and
    one directory of ``BIG_COUNT``."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        def add(name: str, kind: bytes, size: int = 0) -> None:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.size = size
            info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
            tar.addfile(info, io.BytesIO(b"x" * size) if size else None)

        add("usr/", tarfile.DIRTYPE)
        add("usr/share/", tarfile.DIRTYPE)
        add(BIG_DIR + "/", tarfile.DIRTYPE)
        for i in range(BIG_COUNT):
            add(f"{BIG_DIR}/entry{i:05d}.txt", tarfile.REGTYPE, i % 97)
        n, d = 3 + BIG_COUNT, 0
        while n < entries:
            add(f"opt/d{d:04d}/", tarfile.DIRTYPE)
            n += 1
            for i in range(min(PER_DIR, entries - n)):
                add(f"opt/d{d:04d}/file{i:04d}.bin", tarfile.REGTYPE, i % 13)
                n += 1
            d += 1
    return gzip.compress(raw.getvalue(), compresslevel=6, mtime=0)


def time_tar(blob: Path) -> float:
    start = time.perf_counter()
    subprocess.run(["tar", "-tvzf", str(blob)], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


async def drive(reference: str, options: Options) -> dict[str, object]:
    app = InspectorApp([reference], options)
    start = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        while True:  # polling the screen is the measurement, not synchronisation in a test
            views = app.screen.query(FileView)
            if views and views.first().model is not None and views.first().lines_rendered:
                break
            await pilot.pause(0.02)
        first_paint = time.perf_counter() - start
        fv = app.screen.query_one(FileView)
        assert fv.go_to("/" + BIG_DIR)
        await pilot.pause()
        t = time.perf_counter()
        await pilot.press("space")
        await pilot.pause()
        expand = time.perf_counter() - t
        assert len(fv.model.rows) >= BIG_COUNT
        pages = []
        for _ in range(BIG_COUNT // (SIZE[1] - 8)):
            t = time.perf_counter()
            await pilot.press("pagedown")
            await pilot.pause()
            pages.append(time.perf_counter() - t)
        return {"first_paint": first_paint, "expand": expand, "pages": pages,
                "rendered": fv.lines_rendered, "rows": len(fv.model.rows)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=150_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-tui-") as tmp:
        tmp_path = Path(tmp)
        t = time.perf_counter()
        blob = build_layer(args.entries)
        write_oci_layout(tmp_path / "img", [ImageSpec([blob], ref_name="big")])
        blob_path = tmp_path / "layer.tar.gz"
        blob_path.write_bytes(blob)
        reference = f"oci:{tmp_path / 'img'}:big"
        options = Options(cache_dir=tmp_path / "cache")
        analysis = analyze(open_image(reference, options), options)  # warm the index cache
        print(f"image: {len(analysis.fs):,} entries, {len(blob) / 1e6:.1f} MB gzip "
              f"(built and indexed in {time.perf_counter() - t:.1f} s)")
        tars, paints, expands, pages = [], [], [], []
        for _ in range(args.repeat):
            tars.append(time_tar(blob_path))
            result = asyncio.run(drive(reference, options))
            paints.append(result["first_paint"])
            expands.append(result["expand"])
            pages.extend(result["pages"])
        tar_s, paint_s = statistics.median(tars), statistics.median(paints)
        print(f"tar -tvzf (baseline)          {tar_s * 1000:8.0f} ms   (median of {args.repeat})")
        print(f"first paint, inspect screen   {paint_s * 1000:8.0f} ms   "
              f"ratio {paint_s / tar_s:.2f} × tar   (target ≤ 1.0)")
        print(f"expand {BIG_COUNT:,}-entry directory  {statistics.median(expands) * 1000:8.1f} ms"
              f"   (max {max(expands) * 1000:.1f}; target < 50)")
        print(f"page down through it          {statistics.median(pages) * 1000:8.1f} ms   "
              f"(max {max(pages) * 1000:.1f} over {len(pages)} steps; target < 50)")
        print(f"lines rendered in the last run: {result['rendered']:,} "
              f"for {result['rows']:,} visible rows")


if __name__ == "__main__":
    main()
