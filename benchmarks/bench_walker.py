"""The tar walker alone (no inflation, no cache), pure-Python loop vs the C accelerator
(issue 16). Not a test: prints µs per entry, CPU time, median of the runs, the two paths
run alternately.

The layer is bench_speed's million-entry one (1000 directories × 1000 empty files, ustar),
and a mixed one: files with data, executables, symlinks, hardlinks, hidden files.

    .venv/bin/python benchmarks/bench_walker.py [--runs 5] [--dirs 1000]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tarfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inspector.index import tarscan  # noqa: E402
from inspector.index.entries import LayerIndex  # noqa: E402
from inspector.index.tarwalk import walk_tar  # noqa: E402

CHUNK = 1 << 20


def million(dirs: int, per_dir: int = 1000) -> bytes:
    parts = []
    for d in range(dirs):
        info = tarfile.TarInfo(f"data/d{d:04d}")
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        parts.append(info.tobuf(tarfile.USTAR_FORMAT))
        for f in range(per_dir):
            info = tarfile.TarInfo(f"data/d{d:04d}/file{f:04d}.txt")
            info.mode = 0o644
            parts.append(info.tobuf(tarfile.USTAR_FORMAT))
    return b"".join(parts) + b"\0" * 10240


def mixed(entries: int) -> bytes:
    """A distro-like mix: mostly small files, some executables, links and dot-files."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for i in range(entries):
            d = f"./usr/share/pkg{i // 100:04d}"
            if i % 100 == 0:
                tar.addfile(_dir(d))
            info = tarfile.TarInfo(f"{d}/{'.hidden' if i % 50 == 7 else 'file'}{i}.txt")
            size = (i * 37) % 3000
            info.mode = 0o755 if i % 20 == 3 else 0o644
            if i % 25 == 5:
                info.type, info.linkname, size = tarfile.SYMTYPE, "../x/y", 0
            info.size = size
            tar.addfile(info, io.BytesIO(b"x" * size) if size else None)
    return buf.getvalue()


def _dir(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, 0o755
    return info


def walk_cpu(data: bytes, pure: bool) -> tuple[float, int]:
    if pure:
        os.environ["INSPECTOR_PURE"] = "1"
    else:
        os.environ.pop("INSPECTOR_PURE", None)
    pos = 0

    def read() -> bytes:
        nonlocal pos
        piece = data[pos:pos + CHUNK]
        pos += len(piece)
        return piece

    t = time.process_time()
    index = walk_tar(read, LayerIndex(), what="bench")
    return time.process_time() - t, len(index)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--dirs", type=int, default=1000)
    args = ap.parse_args()
    if not tarscan.available():
        print("the C accelerator is not built (pip install -e . builds it)")
        return 1
    for name, data in (("1M empty files", million(args.dirs)), ("mixed 200k", mixed(200_000))):
        times: dict[bool, list[float]] = {True: [], False: []}
        n = 0
        for _ in range(args.runs):
            for pure in (True, False):
                cpu, n = walk_cpu(data, pure)
                times[pure].append(cpu)
        p, c = statistics.median(times[True]), statistics.median(times[False])
        print(f"{name:16} {n:>8} entries  pure {p / n * 1e6:5.2f} µs/entry  "
              f"C {c / n * 1e6:5.2f} µs/entry  ({p / c:.1f}× faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
