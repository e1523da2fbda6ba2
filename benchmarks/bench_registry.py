"""Registry pull vs OCI layout, side by side (issue 3). Not a test: prints figures.

1. Cold read of a ~75 MB single-layer image from a loopback CNCF registry vs the same image
   from an OCI layout directory (target: registry ≤ 1.25× layout). With ``inspector export``
   available the CLI is timed end to end; otherwise both go through
   ``sources.resolve.open_image`` + reading every layer decompressed, verifying each blob
   once (like the indexer: a source's ``VerifyingReader`` is not wrapped again).
2. A 5-layer image read with a thread per layer: per-layer download windows, and their
   overlap, show the downloads run concurrently.

    .venv/bin/python benchmarks/bench_registry.py [--mb 75]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inspector.options import Options  # noqa: E402
from inspector.sources.resolve import open_image  # noqa: E402
from inspector.sources.streams import VerifyingReader, open_decompressed, verifying  # noqa: E402
from tests.builders import ImageSpec, make_tar, write_oci_layout  # noqa: E402
from tests.registry.servers import RegistryProcess  # noqa: E402


def layer_blob(mb: int, seed: int) -> bytes:
    """A gzip layer of ``mb`` MB of files: half random, half repetitive text (so it both
    compresses and inflates like real layers)."""
    import gzip

    rnd = random.Random(seed)
    files = {}
    for i in range(max(1, mb)):
        files[f"data/r{i}.bin"] = rnd.randbytes(512 * 1024)
        files[f"data/t{i}.txt"] = (f"line {i} of some configuration text\n" * 15000)[: 512 * 1024].encode()
    return gzip.compress(make_tar(files), compresslevel=6, mtime=0)


def drain(layer, windows: dict | None = None) -> int:
    start = time.perf_counter()
    raw = layer.open_compressed()
    if not (isinstance(raw, VerifyingReader) and raw.digest == layer.digest):
        raw = verifying(raw, layer.digest, layer.compressed_size, what=layer.digest)
    total = 0
    with open_decompressed(raw, what=layer.digest) as tar:
        while chunk := tar.read(1 << 20):
            total += len(chunk)
    if windows is not None:
        windows[layer.digest] = (start, time.perf_counter())
    return total


def time_read(ref: str, cache: Path, threads: int = 4) -> float:
    start = time.perf_counter()
    image = open_image(ref, Options(cache_dir=cache))
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(drain, image.layers))
    return time.perf_counter() - start


#: environment of the CLI runs: bytecode cached (in a temp prefix, not the tree) as in any
#: installation, even when the caller sets PYTHONDONTWRITEBYTECODE
CLI_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def time_cli(ref: str, cache: Path) -> float | None:
    exe = ROOT / ".venv" / "bin" / "inspector"
    probe = subprocess.run([str(exe), "export", "--help"], capture_output=True, env=CLI_ENV)
    if probe.returncode != 0:
        return None
    start = time.perf_counter()
    subprocess.run([str(exe), "export", ref, "--format", "json", "-o", "/dev/null", "--cache-dir", str(cache)],
                   check=True, capture_output=True, env=CLI_ENV)
    return time.perf_counter() - start


def push(layout: Path, dest: str) -> None:
    subprocess.run(["skopeo", "copy", "-q", "--dest-tls-verify=false", f"oci:{layout}", f"docker://{dest}"],
                   check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=75, help="size of the single-layer image (uncompressed MB)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for tool in ("docker-registry", "skopeo"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is required")
    work = Path(tempfile.mkdtemp(prefix="bench-registry-"))
    reg = RegistryProcess(work / "registry", work / "storage")
    try:
        big = layer_blob(args.mb, 1)
        write_oci_layout(work / "big", [ImageSpec([big])])
        push(work / "big", f"{reg.host}/bench/big:v1")
        five = [layer_blob(max(1, args.mb // 5), 10 + i) for i in range(5)]
        write_oci_layout(work / "five", [ImageSpec(five)])
        push(work / "five", f"{reg.host}/bench/five:v1")
        print(f"single layer: {len(big) / 1e6:.1f} MB compressed; five layers: "
              f"{sum(map(len, five)) / 1e6:.1f} MB compressed")

        rows = []
        for r in range(args.rounds):
            layout = time_read(f"oci:{work / 'big'}", work / f"c-oci-{r}")
            registry = time_read(f"{reg.host}/bench/big:v1", work / f"c-reg-{r}")
            warm = time_read(f"{reg.host}/bench/big:v1", work / f"c-reg-{r}")
            rows.append((layout, registry, warm))
        layout, registry, warm = (min(col) for col in zip(*rows, strict=True))
        print(f"open+read (best of {args.rounds}): oci layout {layout:.2f}s, registry cold {registry:.2f}s "
              f"(ratio {registry / layout:.2f}x, target <= 1.25x), registry with blob cache {warm:.2f}s")
        CLI_ENV["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        # warm the bytecode cache for both code paths (not the image caches)
        time_cli(f"oci:{work / 'big'}", work / "cli-warmup-oci")
        cli_layout = time_cli(f"oci:{work / 'big'}", work / "cli-oci")
        if cli_layout is not None:
            time_cli(f"{reg.host}/bench/big:v1", work / "cli-warmup-reg")
            pairs = [(time_cli(f"oci:{work / 'big'}", work / f"cli-oci-{r}"),
                      time_cli(f"{reg.host}/bench/big:v1", work / f"cli-reg-{r}"))
                     for r in range(args.rounds)]
            cli_layout = min(p[0] for p in pairs)
            cli_reg = min(p[1] for p in pairs)
            print(f"inspector export, cold (best of {args.rounds}): oci layout {cli_layout:.2f}s, "
                  f"registry {cli_reg:.2f}s (ratio {cli_reg / cli_layout:.2f}x, target <= 1.25x)")
        else:
            print("inspector export not available yet: CLI timing skipped")

        image = open_image(f"{reg.host}/bench/five:v1", Options(cache_dir=work / "c-five"))
        windows: dict = {}
        t0 = time.perf_counter()
        with ThreadPoolExecutor(5) as pool:
            list(pool.map(lambda layer: drain(layer, windows), image.layers))
        wall = time.perf_counter() - t0
        spans = [(s - t0, e - t0) for s, e in windows.values()]
        for i, (s, e) in enumerate(sorted(spans)):
            print(f"  layer download {i}: {s:6.3f}s → {e:6.3f}s")
        overlap = min(e for _, e in spans) - max(s for s, _ in spans)
        serial = sum(e - s for s, e in spans)
        print(f"five layers in parallel: wall {wall:.2f}s, sum of per-layer times {serial:.2f}s "
              f"({serial / wall:.1f}x concurrency); all five in flight together for {max(overlap, 0):.2f}s")
    finally:
        reg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
