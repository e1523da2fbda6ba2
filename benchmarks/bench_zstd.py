"""Full pulls of zstd layers vs gzip (issue 28's finding). Not a test: prints a table and
the ratios, every row measured in the same run on the same files.

The 150k-file layer of ``bench_index`` (b) as a one-layer OCI layout, three ways: gzip (as
built), plain zstd (``skopeo copy --dest-compress-format zstd``: one frame) and zstd:chunked
(``--dest-compress-format zstd:chunked``: a frame per file, ~300k frames). Each is exported
cold (``inspector export``, fresh cache, a subprocess; best of ``--runs``), wall and CPU
seconds of the child. The baseline row is the zstd:chunked layout read by the reader as it
was before (``_ZstdReader.read`` handing on one piece per zstd frame: ``stream_reader``
without ``read_across_frames``; today's frame follower), patched in the child only, so the
ratio of that fix is measured on this machine in this run. Needs ``skopeo``. Targets: zstd:chunked ≤ 2× gzip in CPU (its input is
8× larger: per-file frames compress worse); plain zstd ≤ 1.2× gzip.

    .venv/bin/python benchmarks/bench_zstd.py [--runs 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_index import RUN_ENV, as_layout, build_small_files_layer  # noqa: E402

#: runs ``inspector`` in the child: wall and CPU (user + system) seconds
MEASURE = """
import os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
_, status, usage = os.wait4(proc.pid, 0)
elapsed = time.perf_counter() - start
if os.waitstatus_to_exitcode(status):
    sys.exit(f"{sys.argv[1:]} failed: {proc.stderr.read().decode().strip()}")
print(elapsed, usage.ru_utime + usage.ru_stime)
"""

#: the CLI with ``_ZstdReader.read`` as it was: one ``stream_reader.read`` per call, the
#: reader stopping at each frame's end (a piece per zstd:chunked frame)
PER_FRAME = """
import sys, zstandard
from inspector.sources import streams

def __init__(self, inner, first, what):
    streams._Wrapper.__init__(self, inner)
    self.what, self._error, self.frames = what, zstandard.ZstdError, streams._ZstdFrames()
    self.reader = zstandard.ZstdDecompressor().stream_reader(
        streams._Prefixed(first, inner, self.frames), closefd=False)

def read(self, n=-1):
    out = self.reader.read(streams.OUT_CHUNK)
    if not out and not self.frames.complete:
        raise self._corrupt(f"{self.what}: truncated zstd stream", None)
    return out

streams._ZstdReader.__init__, streams._ZstdReader.read = __init__, read
from inspector.cli import main
sys.argv[0] = "inspector"
raise SystemExit(main())
"""


def timed(argv: list[str]) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", MEASURE, *argv], capture_output=True,
                         text=True, env=RUN_ENV | {"PYTHONPATH": str(ROOT)})
    if out.returncode:
        raise SystemExit(out.stderr.strip())
    wall, cpu = out.stdout.split()
    return float(wall), float(cpu)


def cold_export(ref: str, work: Path, runs: int, *, per_frame: bool = False) -> tuple[float, float]:
    """Best wall and best CPU seconds of ``runs`` cold exports of ``ref``."""
    cli = ["-c", PER_FRAME] if per_frame else ["-m", "inspector"]
    cache = work / "cache"
    results = []
    for _ in range(runs):
        shutil.rmtree(cache, ignore_errors=True)
        results.append(timed([sys.executable, *cli, "export", ref, "-o", "/dev/null", "-q",
                              "--cache-dir", str(cache)]))
    return min(r[0] for r in results), min(r[1] for r in results)


def layouts(work: Path) -> dict[str, str]:
    """label → reference of each layout (built once into ``work``)."""
    gz = work / "oci-gzip"
    if not gz.exists():
        as_layout(build_small_files_layer(work), gz)
    refs = {"gzip": f"oci:{gz}:t"}
    for label, fmt in (("zstd (one frame)", "zstd"), ("zstd:chunked", "zstd:chunked")):
        dest = work / f"oci-{fmt.replace(':', '-')}"
        if not dest.exists():
            subprocess.run(["skopeo", "copy", "-q", f"oci:{gz}:t", f"oci:{dest}:t",
                            "--dest-compress-format", fmt], check=True, capture_output=True)
        refs[label] = f"oci:{dest}:t"
    return refs


def blob_bytes(ref: str) -> int:
    layout = Path(ref[4:].rsplit(":", 1)[0])
    return max(p.stat().st_size for p in (layout / "blobs" / "sha256").iterdir())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="build/reuse the layouts in this directory")
    args = parser.parse_args()
    if not shutil.which("skopeo"):
        print("bench_zstd: not measured (skopeo is not installed: it writes the zstd layers)")
        return
    with tempfile.TemporaryDirectory(prefix="bench-zstd-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        refs = layouts(work)
        rows = {label: cold_export(ref, work, args.runs) for label, ref in refs.items()}
        rows["zstd:chunked, per-frame reader (before)"] = cold_export(
            refs["zstd:chunked"], work, args.runs, per_frame=True)
        print(f"150k files, cold export, best of {args.runs} (cpus: {os.cpu_count()})\n")
        print(f"{'layer':<40} {'blob bytes':>12} {'wall s':>8} {'cpu s':>7}")
        for label, (wall, cpu) in rows.items():
            ref = refs[label.split(",")[0]]
            print(f"{label:<40} {blob_bytes(ref):>12,} {wall:>8.2f} {cpu:>7.2f}")
        gz, chunked = rows["gzip"], rows["zstd:chunked"]
        before = rows["zstd:chunked, per-frame reader (before)"]
        one = rows["zstd (one frame)"]
        print(f"\nzstd:chunked vs the per-frame reader: wall {chunked[0] / before[0]:.2f}x, "
              f"cpu {chunked[1] / before[1]:.2f}x")
        print(f"zstd:chunked vs gzip: wall {chunked[0] / gz[0]:.2f}x, cpu {chunked[1] / gz[1]:.2f}x "
              "(target cpu ≤ 2x)")
        print(f"plain zstd vs gzip: wall {one[0] / gz[0]:.2f}x, cpu {one[1] / gz[1]:.2f}x "
              "(target cpu ≤ 1.2x)")


if __name__ == "__main__":
    main()
