"""Listing from a zstd:chunked table of contents vs the full pull (issue 28). Not a test:
prints a table and the ratios.

A loopback CNCF registry with a bandwidth-limited proxy in front (default 20 MB/s, shared
by all connections, standing for a WAN; a separate process, so its work is not charged to
the measured client). Images, each pushed gzip (as built) and zstd:chunked (``skopeo copy
--dest-compress-format zstd:chunked``): sample:debian-12-slim, the 150k-file layer and the
~200 MB /usr layer of ``bench_index``. Each is exported cold (empty cache) through the
proxy: the gzip one by the full pull, the zstd:chunked one from its TOC and by its own
``--full`` pull (per-file frames compress worse than one gzip stream). Printed per image:
blob bytes the proxy sent, blob requests, wall and CPU seconds of the client, the ratios
against the full pull (targets: bytes ≤ 5 % of the compressed size, time ≤ 0.2×), and
whether both exports agree (files, sizes, modes, owners, categories, packages;
``verified`` aside). Then debian-12-slim as eStargz (``ctr-remote``; ``estargz_row``), its
full pull vs its TOC. At the end the same as a markdown table.

The proxy sets TCP_NODELAY on its sockets, as Go's net/http (the registry, most
registries) does: ``http.server`` writes a response's headers and body in separate
sends, and without it each small response waited 40–50 ms for the client's delayed ACK
(Nagle), a cost of this proxy, not of a WAN (``--nagle`` brings it back, to compare).
``--rtt MS`` stands for the WAN's latency: each request is answered ``MS`` later, and
each new connection costs ``MS`` more (its TCP handshake; plain HTTP, no TLS), so the
TOC path's extra round trips show. ``--keep DIR`` keeps the built layouts only (the
caches are per run, in a temporary directory: two runs sharing DIR do not collide).

    .venv/bin/python benchmarks/bench_toc.py [--rate 20] [--rtt 0] [--nagle] [--keep DIR]
        [--only slim,150k,200mb,estargz]
"""

from __future__ import annotations

import argparse
import gc
import http.client
import io
import json
import multiprocessing
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_index import as_layout, build_small_files_layer, build_usr_layer  # noqa: E402

from inspector.analysis import analyze, open_image  # noqa: E402
from inspector.options import Options  # noqa: E402
from inspector.report.export import write_export  # noqa: E402
from tests.registry.servers import RegistryProcess  # noqa: E402
from tests.registry.tocimages import comparable  # noqa: E402

SLICE = 64 << 10
#: the proxy's counters (blob bytes sent, blob GETs), read by the benchmark
STATS = "/_bench/stats"


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


def serve_proxy(backend: str, rate: float, port_out, rtt: float = 0.0,
                nagle: bool = False) -> None:
    """The proxy (run in its own process): forwards to ``backend``, blob bodies paced by
    one ``Throttle``, each request delayed by ``rtt`` seconds and each new connection
    too; ``GET /_bench/stats`` answers its counters. ``nagle``: leave Nagle's algorithm
    on (the proxy before TCP_NODELAY)."""
    throttle = Throttle(rate)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = not nagle  # TCP_NODELAY on the client's connection

        def setup(self) -> None:
            super().setup()
            if rtt:  # a new connection: its TCP handshake's round trip
                time.sleep(rtt)

        def log_message(self, *args) -> None:
            pass

        def do_HEAD(self) -> None:
            self.forward("HEAD")

        def do_GET(self) -> None:
            if self.path == STATS:
                body = json.dumps({"bytes": throttle.bytes,
                                   "requests": throttle.requests}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.forward("GET")

        def forward(self, method: str) -> None:
            if rtt:  # the request's way there and the answer's way back
                time.sleep(rtt)
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("host", "connection")}
            conn = http.client.HTTPConnection(backend, timeout=60)  # sets TCP_NODELAY
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
    port_out.send(server.server_address[1])
    server.serve_forever()


def start_proxy(backend: str, rate: float, rtt: float = 0.0,
                nagle: bool = False) -> tuple[multiprocessing.Process, str]:
    receive, send = multiprocessing.Pipe(duplex=False)
    proc = multiprocessing.get_context("fork").Process(
        target=serve_proxy, args=(backend, rate, send, rtt, nagle), daemon=True)
    proc.start()
    return proc, f"127.0.0.1:{receive.recv()}"


def proxy_stats(host: str) -> tuple[int, int]:
    conn = http.client.HTTPConnection(host, timeout=10)
    conn.request("GET", STATS)
    doc = json.loads(conn.getresponse().read())
    conn.close()
    return doc["bytes"], doc["requests"]


def skopeo(*args: str) -> None:
    subprocess.run(["skopeo", "copy", "-q", "--dest-tls-verify=false", *args], check=True,
                   capture_output=True, timeout=1800)


def export(ref: str, cache: Path, *, full: bool = False) -> tuple[dict, float, float]:
    """The export document of a cold analysis, its wall and CPU seconds (this process)."""
    options = Options(cache_dir=cache, full=full)
    gc.disable()  # as ``inspector export`` runs (cli.py: a batch command, no cyclic GC)
    try:
        start, cpu = time.monotonic(), time.process_time()
        # as the CLI opens it (commands/context.py): the TOCs it will list are fetched
        # while the config is
        analysis = analyze(open_image(ref, options, listing=True), options)
        out = io.StringIO()
        write_export(analysis, out)
        seconds, cpu = time.monotonic() - start, time.process_time() - cpu
    finally:
        gc.enable()
    return json.loads(out.getvalue()), seconds, cpu


#: the images, in order; an image's number names its layouts in ``--keep`` (``zc-N``),
#: whichever ``--only`` picks
IMAGES = ("slim", "150k", "200mb")


def sources(work: Path, only: set[str]) -> dict[str, tuple[int, str]]:
    """name → (number, an OCI-layout reference) of each image (built once into ``work``)."""
    out = {}
    if "slim" in only:
        out["debian-12-slim"] = (0, f"oci:{ROOT}/sample_images/oci:debian-12-slim")
    for key, name, build in (("150k", "150k files", build_small_files_layer),
                             ("200mb", "200 MB /usr layer", build_usr_layer)):
        if key in only:
            layout = work / f"oci-{key}"
            if not layout.exists():
                as_layout(build(work), layout)
            out[name] = (IMAGES.index(key), f"oci:{layout}:t")
    return out


def measure(name: str, n: int, source: str, work: Path, caches: Path, registry: str,
            proxy: str) -> dict:
    """Push ``source`` gzip and zstd:chunked, export each cold through the proxy: a
    result row per pull, the ratios and whether the exports agree."""
    zc_layout = work / f"zc-{n}"
    if not zc_layout.exists():
        skopeo(source, f"oci:{zc_layout}:v1", "--dest-compress-format", "zstd:chunked")
    skopeo(source, f"docker://{registry}/bench/gz{n}:v1")
    skopeo(f"oci:{zc_layout}:v1", f"docker://{registry}/bench/zc{n}:v1")
    full = pull(f"{proxy}/bench/gz{n}:v1", caches / f"cache-gz{n}", proxy)
    toc = pull(f"{proxy}/bench/zc{n}:v1", caches / f"cache-zc{n}", proxy)
    own = pull(f"{proxy}/bench/zc{n}:v1", caches / f"cache-zcf{n}", proxy, full=True)
    return result(name, full, toc, ("full (gzip)", "TOC (zstd:chunked)"), own)


def pull(ref: str, cache: Path, proxy: str, *, full: bool = False) -> dict:
    """One cold export of ``ref`` through the proxy: its document, blob bytes and GETs
    the proxy counted, wall and CPU seconds."""
    subprocess.run(["rm", "-rf", str(cache)], check=True)
    before = proxy_stats(proxy)
    doc, seconds, cpu = export(ref, cache, full=full)
    after = proxy_stats(proxy)
    return {"doc": doc, "fetched": after[0] - before[0], "requests": after[1] - before[1],
            "seconds": seconds, "cpu": cpu, "compressed": doc["size"]["compressed"]}


def result(name: str, full: dict, toc: dict, labels: tuple[str, str],
           own: dict | None = None) -> dict:
    """``full``: the full pull compared with (the gzip push); ``own``: the TOC image's own
    ``--full`` pull, when it is another image (its bytes are what the TOC spares)."""
    return {"name": name, "full": full, "toc": toc, "labels": labels, "own": own,
            "bytes": toc["fetched"] / toc["compressed"], "time": toc["seconds"] / full["seconds"],
            "same": comparable(full["doc"]) == comparable(toc["doc"])
            and (own is None or comparable(own["doc"]) == comparable(toc["doc"]))}


def print_row(r: dict) -> None:
    rows = [("full", r["labels"][0]), ("toc", r["labels"][1])]
    if r["own"]:
        rows.append(("own", r["labels"][1].replace("TOC", "full")))
    for kind, label in rows:
        x = r[kind]
        print(f"{r['name']:<20} {label:<19} {x['compressed']:>12,} {x['fetched']:>12,} "
              f"{x['requests']:>8} {x['seconds']:>8.2f} {x['cpu']:>6.2f}")
    own = (f", {r['toc']['seconds'] / r['own']['seconds']:.3f}x its own --full pull"
           if r["own"] else "")
    print(f"{'':<20} ratios: bytes {r['bytes']:.2%} of the image listed from its TOC "
          f"({r['toc']['fetched'] / r['full']['fetched']:.2%} of the full pull's bytes), time "
          f"{r['time']:.3f}x the full pull{own}; exports equal: {r['same']}\n", flush=True)


def print_markdown(results: list[dict], rate: float, rtt: float) -> None:
    print(f"| image ({rate:g} MB/s, rtt {rtt:g} ms) | full pull | from the TOC | bytes fetched "
          "| time ratio | vs its own --full | blob GETs full → TOC | CPU s full / TOC "
          "| exports equal |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        f, t, o = r["full"], r["toc"], r["own"]
        own = f"{t['seconds'] / o['seconds']:.3f}× of {o['seconds']:.2f} s" if o else "—"
        print(f"| {r['name']}, {r['labels'][1][5:-1]} | {f['fetched'] / 1e6:.1f} MB, {f['seconds']:.2f} s "
              f"| {t['fetched'] / 1e6:.2f} MB, {t['seconds']:.2f} s | {r['bytes']:.2%} "
              f"| {r['time']:.3f}× | {own} | {f['requests']} → {t['requests']} "
              f"| {f['cpu']:.2f} / {t['cpu']:.2f} | {r['same']} |")


def estargz_row(caches: Path, registry: RegistryProcess, proxy: str) -> dict | None:
    """debian-12-slim converted to eStargz by Debian's ``ctr-remote`` (the tests' cached
    layout, ``tests/registry/estargz_real.py``: needs root and containerd), exported cold
    through the proxy by the full pull (``--full``) and from its TOC."""
    from _pytest.outcomes import OutcomeException

    from tests.registry.estargz_real import estargz_layout

    try:
        layout = estargz_layout("debian", ROOT / "sample_images" / "oci", "debian-12-slim")
    except OutcomeException as exc:  # pytest.skip/fail: no root, no ctr-remote
        print(f"eStargz: not measured ({exc.msg})")
        return None
    skopeo(f"oci:{layout}:v1", f"docker://{registry.host}/bench/esgz:v1")
    rows = {kind: pull(f"{proxy}/bench/esgz:v1", caches / f"cache-esgz-{kind}", proxy,
                       full=kind == "full") for kind in ("full", "toc")}
    return result("debian-12-slim", rows["full"], rows["toc"], ("full (eStargz)", "TOC (eStargz)"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help="proxy bandwidth, MB/s")
    parser.add_argument("--rtt", type=float, default=0.0,
                        help="round-trip time the proxy adds to each request and each new "
                             "connection, ms")
    parser.add_argument("--nagle", action="store_true",
                        help="leave Nagle's algorithm on in the proxy (as before TCP_NODELAY)")
    parser.add_argument("--keep", type=Path, help="build/reuse the images in this directory")
    parser.add_argument("--only", default="slim,150k,200mb,estargz",
                        help="comma-separated: slim, 150k, 200mb, estargz")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-toc-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        storage = Path(tmp) / "storage"
        storage.mkdir()
        only = set(args.only.split(","))
        images = sources(work, only)
        registry = RegistryProcess(Path(tmp) / "registry", storage)
        proxy, host = start_proxy(registry.host, args.rate * 1e6, args.rtt / 1e3, args.nagle)
        results = []
        try:
            print(f"proxy {args.rate:g} MB/s, rtt {args.rtt:g} ms, "
                  f"{'Nagle on' if args.nagle else 'TCP_NODELAY'}; bytes = blob bytes sent "
                  "through the proxy; seconds: wall, CPU of this process\n")
            print(f"{'image':<20} {'pull':<19} {'compressed':>12} {'fetched':>12} "
                  f"{'requests':>8} {'seconds':>8} {'cpu':>6}")
            for name, (n, source) in images.items():
                results.append(measure(name, n, source, work, Path(tmp), registry.host, host))
                print_row(results[-1])
            if "estargz" in only:
                row = estargz_row(Path(tmp), registry, host)
                if row:
                    results.append(row)
                    print_row(row)
            print_markdown(results, args.rate, args.rtt)
        finally:
            proxy.terminate()
            registry.stop()


if __name__ == "__main__":
    main()
