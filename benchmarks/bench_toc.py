"""Listing from a zstd:chunked table of contents vs the full pull (issue 28). Not a test:
prints a table and the ratios.

A loopback CNCF registry with a bandwidth-limited proxy in front (default 20 MB/s, shared
by all connections, standing for a WAN). Each image is pushed gzip (as built) and
zstd:chunked (``skopeo copy --dest-compress-format zstd:chunked``); each is exported cold
(empty cache) through the proxy: the gzip one by the full pull, the zstd:chunked one from
its TOC. Printed per image: blob bytes the proxy sent, requests, seconds, and the ratios
against the full pull (targets: bytes ≤ 5 % of the compressed size, time ≤ 0.2×), and
whether both exports agree (files, sizes, modes, owners, packages; ``verified`` aside).
Then debian-12-slim as eStargz (``ctr-remote``; ``estargz_row``), its full pull vs its TOC.

    .venv/bin/python benchmarks/bench_toc.py [--rate 20] [--mb 100]
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inspector.analysis import analyze  # noqa: E402
from inspector.options import Options  # noqa: E402
from inspector.report.export import write_export  # noqa: E402
from inspector.sources.registry import open_registry  # noqa: E402
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout  # noqa: E402
from tests.registry.servers import RegistryProcess  # noqa: E402

SLICE = 64 << 10


class Throttle:
    """A token bucket shared by every connection through the proxy."""

    def __init__(self, rate: float) -> None:
        self.rate, self.lock, self.next = rate, threading.Lock(), time.monotonic()
        self.bytes = 0
        self.requests = 0

    def spend(self, n: int) -> None:
        with self.lock:
            now = time.monotonic()
            self.next = max(self.next, now) + n / self.rate
            wait = self.next - now
            self.bytes += n
        if wait > 0:
            time.sleep(wait)


def start_proxy(backend: str, throttle: Throttle) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_HEAD(self) -> None:
            self.forward("HEAD")

        def do_GET(self) -> None:
            self.forward("GET")

        def forward(self, method: str) -> None:
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("host", "connection")}
            conn = http.client.HTTPConnection(backend, timeout=60)
            conn.request(method, self.path, headers=headers)
            resp = conn.getresponse()
            if "/blobs/" in self.path and method == "GET":
                throttle.requests += 1
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("connection", "transfer-encoding", "date", "server"):
                    self.send_header(k, v)
            self.end_headers()
            if method == "GET":
                while chunk := resp.read(SLICE):
                    if "/blobs/" in self.path:
                        throttle.spend(len(chunk))
                    self.wfile.write(chunk)
            conn.close()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"127.0.0.1:{server.server_address[1]}"


def large_layout(path: Path, mb: int) -> str:
    """One layer of ``mb`` MB: files of 64 KB, half random, half text; a dpkg status."""
    rng = random.Random(28)
    files: dict[str, bytes | Entry] = {
        "var/lib/dpkg/status": b"Package: big\nStatus: install ok installed\nVersion: 1\n\n"}
    words = [rng.randbytes(6).hex().encode() for _ in range(2000)]
    for i in range(mb * 16):
        data = rng.randbytes(32 << 10) + b" ".join(rng.choices(words, k=2700))[:32 << 10]
        files[f"data/{i // 100}/{i}.bin"] = Entry("file", data, mode=0o755 if i % 50 == 0 else None)
    write_oci_layout(path, [ImageSpec([make_layer(files)], ref_name="v1")])
    return f"oci:{path}:v1"


def skopeo(*args: str) -> None:
    subprocess.run(["skopeo", "copy", "-q", "--dest-tls-verify=false", *args], check=True,
                   capture_output=True, timeout=1800)


def export(ref: str, cache: Path) -> tuple[dict, float]:
    options = Options(cache_dir=cache)
    start = time.monotonic()
    analysis = analyze(open_registry(ref, options, reference=ref), options)
    out = io.StringIO()
    write_export(analysis, out)
    return json.loads(out.getvalue()), time.monotonic() - start


def comparable(doc: dict) -> dict:
    return {"files": doc["files"], "packages": doc["packages"], "findings": doc["findings"]}


def estargz_row(work: Path, registry: RegistryProcess, host: str, throttle: Throttle) -> None:
    """debian-12-slim converted to eStargz by Debian's ``ctr-remote`` (the tests' cached
    layout, ``tests/registry/estargz_real.py``: needs root and containerd), exported cold
    through the proxy by the full pull (``--full``) and from its TOC."""
    from _pytest.outcomes import OutcomeException

    from tests.registry.estargz_real import estargz_layout

    try:
        layout = estargz_layout("debian", ROOT / "sample_images" / "oci", "debian-12-slim")
    except OutcomeException as exc:  # pytest.skip/fail: no root, no ctr-remote
        print(f"eStargz: not measured ({exc.msg})")
        return
    skopeo(f"oci:{layout}:v1", f"docker://{registry.host}/bench/esgz:v1")
    ref, rows = f"{host}/bench/esgz:v1", {}
    for full in (True, False):
        options = Options(cache_dir=work / f"cache-esgz-{full}", full=full)
        before, start = (throttle.bytes, throttle.requests), time.monotonic()
        analysis = analyze(open_registry(ref, options, reference=ref), options)
        out = io.StringIO()
        write_export(analysis, out)
        seconds = time.monotonic() - start
        doc = json.loads(out.getvalue())
        rows[full] = (doc, throttle.bytes - before[0], throttle.requests - before[1], seconds)
        label = "full (eStargz)" if full else "TOC (eStargz)"
        print(f"{'debian-12-slim':<24} {label:<13} {doc['size']['compressed']:>11,} "
              f"{rows[full][1]:>11,} {rows[full][2]:>8} {seconds:>8.2f}")
    (pulled, pull_bytes, _, pull_s), (toc, toc_bytes, _, toc_s) = rows[True], rows[False]
    print(f"{'':<24} ratios: bytes {toc_bytes / toc['size']['compressed']:.2%} of the eStargz "
          f"image ({toc_bytes / pull_bytes:.2%} of its full pull's bytes), time {toc_s / pull_s:.3f}× its full pull; exports equal: "
          f"{comparable(pulled) == comparable(toc)}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help="proxy bandwidth, MB/s")
    parser.add_argument("--mb", type=int, default=100, help="size of the large layer, MB")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-toc-") as tmp:
        work = Path(tmp)
        (work / "storage").mkdir()
        registry = RegistryProcess(work, work / "storage")
        throttle = Throttle(args.rate * 1e6)
        proxy, host = start_proxy(registry.host, throttle)
        try:
            images = {"debian-12-slim": f"oci:{ROOT}/sample_images/oci:debian-12-slim",
                      f"large ({args.mb} MB layer)": large_layout(work / "large", args.mb)}
            print(f"proxy {args.rate:g} MB/s; bytes = blob bytes sent through the proxy\n")
            print(f"{'image':<24} {'pull':<13} {'compressed':>11} {'fetched':>11} "
                  f"{'requests':>8} {'seconds':>8}")
            for n, (name, source) in enumerate(images.items()):
                skopeo(source, f"oci:{work}/zc{n}:v1", "--dest-compress-format", "zstd:chunked")
                skopeo(source, f"docker://{registry.host}/bench/gz{n}:v1")
                skopeo(f"oci:{work}/zc{n}:v1", f"docker://{registry.host}/bench/zc{n}:v1")
                rows = {}
                for kind in ("gz", "zc"):
                    ref = f"{host}/bench/{kind}{n}:v1"
                    before = (throttle.bytes, throttle.requests)
                    doc, seconds = export(ref, work / f"cache-{kind}{n}")
                    fetched = throttle.bytes - before[0]
                    requests = throttle.requests - before[1]
                    compressed = doc["size"]["compressed"]
                    rows[kind] = (doc, fetched, requests, seconds, compressed)
                    label = "full (gzip)" if kind == "gz" else "TOC (zstd:chunked)"
                    print(f"{name:<24} {label:<13} {compressed:>11,} {fetched:>11,} "
                          f"{requests:>8} {seconds:>8.2f}")
                full, toc = rows["gz"], rows["zc"]
                same = comparable(full[0]) == comparable(toc[0])
                print(f"{'':<24} ratios: bytes {toc[1] / toc[4]:.2%} of the zstd:chunked image "
                      f"({toc[1] / full[1]:.2%} of the full pull's bytes), "
                      f"time {toc[3] / full[3]:.3f}× the full pull; exports equal: {same}\n")
            estargz_row(work, registry, host, throttle)
        finally:
            proxy.shutdown()
            registry.stop()


if __name__ == "__main__":
    main()
