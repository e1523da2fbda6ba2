"""Indexing speed vs GNU tar (issue 2). Not a test: prints a table of figures measured in
the same run.

Two layers are built in code, each wrapped as a one-layer OCI layout:
  (a) ~200 MB uncompressed, ~7k entries: regular files from this machine's /usr, gzip -6;
  (b) ~150k small text-like files (lines of source code), gzip -6.
For each: cold ``inspector export oci:DIR:t -o /dev/null`` (fresh cache dir, as a
subprocess) against ``tar -tvzf LAYER > /dev/null``; for (b) also the warm export (index
cached) and the child's peak RSS. Targets: (a) ≤ 0.6× tar, (b) ≤ 1.0×, warm (b) ≤ 0.5×,
peak RSS (b) ≤ 200 MiB.

    .venv/bin/python benchmarks/bench_index.py [--runs 3] [--keep DIR] [--profile]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.builders import ImageSpec, write_oci_layout  # noqa: E402

MB = 1000 * 1000
CODE = [
    "import os", "from typing import Any", "def handler(request, *args, **kwargs):",
    "    return self.render(template, context)", "    if value is None:", "        raise ValueError('bad value')",
    "for item in items:", "    total += item.size", "class Widget(Base):", "    \"\"\"A widget.\"\"\"",
    "#include <stdio.h>", "static int count = 0;", "    printf(\"%d\\n\", n);", "}", "",
    "module.exports = function (a, b) {", "  const x = require('./lib/util');", "  return x.merge(a, b);",
    "export default {", "  name: 'component',", "  data() { return { open: false } },",
]


def gzip_file(src: Path, dest: Path) -> None:
    with open(src, "rb") as fin, open(dest, "wb") as fout:
        subprocess.run(["gzip", "-6", "-n", "-c"], stdin=fin, stdout=fout, check=True)


def build_usr_layer(work: Path, target: int = 200 * MB, entries: int = 7000) -> Path:
    """(a): /usr files (regular files, ≤ 5 MB each, readable) until ~target bytes."""
    rng = random.Random(1)
    files = []
    for dirpath, _, names in os.walk("/usr"):
        for name in names:
            p = os.path.join(dirpath, name)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if os.path.isfile(p) and not os.path.islink(p) and st.st_size <= 20 * MB:
                files.append((p, st.st_size))
    rng.shuffle(files)
    chosen, total = [], 0
    for p, size in files:
        if len(chosen) >= entries or total >= target:
            break
        if total + size > target * 1.02:
            continue
        chosen.append(p)
        total += size
    listing = work / "a.list"
    listing.write_text("\n".join(p.lstrip("/") for p in sorted(chosen)) + "\n")
    tar = work / "a.tar"
    subprocess.run(["tar", "-C", "/", "-cf", str(tar), "--numeric-owner", "-T", str(listing)],
                   check=True)
    gz = work / "a.tar.gz"
    gzip_file(tar, gz)
    tar.unlink()
    return gz


def build_small_files_layer(work: Path, count: int = 150_000) -> Path:
    """(b): ``count`` small files of source-like lines in ~1.5k directories."""
    rng = random.Random(2)
    tar = work / "b.tar"
    with tarfile.open(tar, "w", format=tarfile.PAX_FORMAT) as t:
        for d in range(count // 100):
            info = tarfile.TarInfo(f"app/node_modules/pkg{d}/lib")
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            t.addfile(info)
            for f in range(100):
                data = ("\n".join(rng.choice(CODE) for _ in range(rng.randint(2, 40))) + "\n").encode()
                info = tarfile.TarInfo(f"app/node_modules/pkg{d}/lib/file{f}.js")
                info.size, info.mode = len(data), 0o644
                t.addfile(info, io.BytesIO(data))
    gz = work / "b.tar.gz"
    gzip_file(tar, gz)
    tar.unlink()
    return gz


def as_layout(blob_path: Path, dest: Path) -> str:
    write_oci_layout(dest, [ImageSpec([blob_path.read_bytes()], ref_name="t")])
    return f"oci:{dest}:t"


MEASURE = """
import os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
_, status, usage = os.wait4(proc.pid, 0)
elapsed = time.perf_counter() - start
code = os.waitstatus_to_exitcode(status)
if code:
    sys.exit(f"{sys.argv[1]} failed ({code}): {proc.stderr.read().decode().strip()}")
print(elapsed, usage.ru_maxrss * 1024)
"""


#: environment of the measured runs: bytecode cached (in a prefix under the work dir) as in
#: any installation, even when the caller sets PYTHONDONTWRITEBYTECODE
RUN_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of a child process. Measured from a small helper
    process: a child forked from this (large) one would inherit its RSS high-water mark."""
    out = subprocess.run([sys.executable, "-c", MEASURE, *argv], capture_output=True,
                         text=True, env=RUN_ENV)
    if out.returncode:
        raise SystemExit(out.stderr.strip())
    elapsed, rss = out.stdout.split()
    return float(elapsed), int(rss)


def export_argv(ref: str, cache: Path) -> list[str]:
    return [sys.executable, "-m", "inspector", "export", ref, "-o", "/dev/null", "-q",
            "--cache-dir", str(cache)]


def measure(name: str, layer: Path, ref: str, work: Path, runs: int, warm: bool) -> list[tuple]:
    tar_t = min(timed(["tar", "-tvzf", str(layer)])[0] for _ in range(runs))
    cold, rss = [], 0
    timed(export_argv(ref, work / f"cache-{name}-warmup"))  # bytecode, not image caches
    for i in range(runs):
        cache = work / f"cache-{name}-{i}"
        shutil.rmtree(cache, ignore_errors=True)  # cold: nothing cached (also with --keep)
        t, r = timed(export_argv(ref, cache))
        cold.append(t)
        rss = max(rss, r)
    rows = [(f"({name}) cold export", min(cold), tar_t, rss)]
    if warm:
        cache = work / f"cache-{name}-0"
        warm_t, warm_rss = min(timed(export_argv(ref, cache)) for _ in range(runs))
        rows.append((f"({name}) warm export", warm_t, tar_t, warm_rss))
    return rows


def profile(ref: str, work: Path) -> None:
    out = work / "export.prof"
    subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out), "-m", "inspector", "export",
                    ref, "-o", "/dev/null", "-q", "--no-cache"], check=True)
    import pstats
    pstats.Stats(str(out)).sort_stats("tottime").print_stats(15)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="build/reuse the layers in this directory")
    parser.add_argument("--profile", action="store_true", help="cProfile a cold export of (b)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-index-"))
    work.mkdir(parents=True, exist_ok=True)
    RUN_ENV["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    try:
        a = work / "a.tar.gz"
        b = work / "b.tar.gz"
        t0 = time.perf_counter()
        if not a.exists():
            a = build_usr_layer(work)
        if not b.exists():
            b = build_small_files_layer(work)
        ref_a = as_layout(a, work / "oci-a")
        ref_b = as_layout(b, work / "oci-b")
        print(f"built in {time.perf_counter() - t0:.0f}s: (a) {a.stat().st_size / MB:.0f} MB gz, "
              f"(b) {b.stat().st_size / MB:.0f} MB gz")
        for layer in (a, b):
            listing = subprocess.run(["tar", "-tzf", str(layer)], capture_output=True, check=True)
            raw = subprocess.run(["gzip", "-dc", str(layer)], capture_output=True, check=True)
            entries = listing.stdout.count(b"\n")
            print(f"  {layer.name}: {entries} entries, "
                  f"{len(raw.stdout) / MB:.0f} MB uncompressed")
            del raw
        rows = measure("a", a, ref_a, work, args.runs, warm=False)
        rows += measure("b", b, ref_b, work, args.runs, warm=True)
        targets = {"(a) cold export": 0.6, "(b) cold export": 1.0, "(b) warm export": 0.5}
        print(f"\n{'case':<18} {'inspector':>10} {'tar -tvzf':>10} {'ratio':>7} {'target':>7} "
              f"{'peak RSS':>10}")
        for name, ours, tar_t, rss in rows:
            print(f"{name:<18} {ours:>9.2f}s {tar_t:>9.2f}s {ours / tar_t:>6.2f}× "
                  f"{'≤' + str(targets[name]):>7} {rss / 2**20:>7.0f} MiB")
        print("peak RSS target for (b): ≤ 200 MiB")
        if args.profile:
            profile(ref_b, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
