"""Real eStargz images for tests, converted by Debian's ``ctr-remote`` (stargz-snapshotter)
in a private containerd, and kept across runs.

``ctr-remote image convert --estargz --oci`` needs a containerd daemon. One is started for
the conversion only, as root (directly, or through ``sudo -n``), with its own root, state,
socket and config in a temp directory, the CRI plugin off; images are imported without
unpacking (no snapshot, no mount). It is stopped by its process id and its directory removed
afterwards. The converted OCI layout is kept under ``CACHE`` keyed by its inputs (the source
image's manifest digest, the convert flags, the record file, both packages' versions and
``RECIPE``), as ``tests.catalog.fsbuild`` keeps debootstrap roots: a run converts an image
only when one of those changed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.catalog.fsbuild import TEST_ROOTS, _version, root_key
from tests.locks import file_lock
from tests.tools import require_tool

#: bump when the conversion steps below change: every cached layout is converted again
RECIPE = 1
CACHE = Path(os.environ.get("INSPECTOR_TEST_ESTARGZ") or TEST_ROOTS.parent / "estargz")
NAMESPACE = "inspector-tests"
START_SECONDS = 30


def _root_prefix() -> list[str]:
    """How to run a command as root: directly, or ``sudo -n``; skips (fails under CI=true)
    when neither works."""
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True,
                                               timeout=30).returncode == 0:
        return ["sudo", "-n"]
    if os.environ.get("CI") == "true":
        pytest.fail("converting eStargz images needs root (or sudo -n) for a private containerd")
    pytest.skip("converting eStargz images needs root (or sudo -n) for a private containerd")


_CONFIG = """version = 2
root = "{work}/root"
state = "{work}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "{work}/c.sock"
[ttrpc]
  address = "{work}/c.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "{work}/opt"
"""


@contextmanager
def private_containerd() -> Iterator[Callable[..., subprocess.CompletedProcess]]:
    """A containerd of its own; yields ``ctr(*args)`` running ``ctr-remote`` against it."""
    require_tool("containerd")
    require_tool("ctr-remote")
    sudo = _root_prefix()
    # a short path: a unix socket's path is limited to 108 bytes
    work = Path(tempfile.mkdtemp(prefix="esgz-", dir="/tmp"))
    (work / "config.toml").write_text(_CONFIG.format(work=work))
    sock = work / "c.sock"
    log = open(work / "containerd.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen([*sudo, "containerd", "--config", str(work / "config.toml")],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def ctr(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run([*sudo, "ctr-remote", "--address", str(sock), "--namespace",
                               NAMESPACE, *args], capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            pytest.fail(f"ctr-remote {' '.join(args)} failed: {done.stderr[-2000:]}")
        return done

    try:
        deadline = time.monotonic() + START_SECONDS
        while not (sock.exists() and subprocess.run(
                [*sudo, "ctr-remote", "--address", str(sock), "version"],
                capture_output=True, timeout=30).returncode == 0):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the private containerd did not start: "
                            + (work / "containerd.log").read_text(errors="replace")[-2000:])
            time.sleep(0.1)
        yield ctr
    finally:
        proc.terminate()  # sudo passes SIGTERM on to containerd
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)
        log.close()
        subprocess.run([*sudo, "rm", "-rf", "--one-file-system", str(work)], timeout=120)


def _manifest_digest(layout: Path, ref: str) -> str:
    index = json.loads((layout / "index.json").read_text())
    for desc in index["manifests"]:
        if desc.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref:
            return desc["digest"]
    raise LookupError(f"{layout} has no image {ref!r}")


def estargz_layout(name: str, source: Path, ref: str, *, chunk_size: int = 0,
                   record: tuple[str, ...] = (), zstdchunked: bool = False) -> Path:
    """An OCI layout holding ``source:ref`` converted to eStargz (tagged ``v1``), by
    ``ctr-remote image convert --estargz --oci`` (``chunk_size``: ``--estargz-chunk-size``;
    ``record``: paths to prefetch, ``--estargz-record-in``: the layers then carry a
    ``.prefetch.landmark`` instead of ``.no.prefetch.landmark``); ``zstdchunked``: to
    zstd:chunked instead (``--zstdchunked``: its TOC names no ``endOffset``)."""
    inputs = {"recipe": RECIPE, "source": _manifest_digest(source, ref), "chunk_size": chunk_size,
              "record": list(record), "stargz-snapshotter": _version("stargz-snapshotter"),
              "containerd": _version("containerd")}
    if zstdchunked:  # only then: the eStargz layouts' keys (their cached copies) stay
        inputs["format"] = "zstdchunked"
    out = CACHE / f"{name}-{root_key(inputs)}"
    if (out / "index.json").is_file():
        return out
    CACHE.mkdir(parents=True, exist_ok=True)
    # parallel workers and concurrent runs take turns: one converts, the others find it
    with file_lock(CACHE / f".{name}.lock"):
        if not (out / "index.json").is_file():
            _convert(name, out, source, ref, inputs, chunk_size, record, zstdchunked)
    return out


def _convert(name: str, out: Path, source: Path, ref: str, inputs: dict, chunk_size: int,
             record: tuple[str, ...], zstdchunked: bool) -> None:
    tmp = CACHE / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    with private_containerd() as ctr:
        archive = Path(tempfile.mkdtemp(prefix="esgz-src-", dir="/tmp"))
        try:
            with tarfile.open(archive / "src.tar", "w") as tar:
                for part in ("oci-layout", "index.json", "blobs"):
                    tar.add(source / part, arcname=part)
            ctr("images", "import", "--no-unpack", "--base-name", "src", str(archive / "src.tar"))
            flags = ["--zstdchunked" if zstdchunked else "--estargz", "--oci"]
            if chunk_size:
                flags += ["--estargz-chunk-size", str(chunk_size)]
            if record:
                (archive / "record.json").write_text(
                    "".join(json.dumps({"path": p}) + "\n" for p in record))
                flags += ["--estargz-record-in", str(archive / "record.json")]
            ctr("images", "convert", *flags, f"src:{ref}", "esgz:v1")
            ctr("images", "export", str(archive / "out.tar"), "esgz:v1")
            with tarfile.open(archive / "out.tar") as tar:
                tar.extractall(tmp, filter="data")
        finally:
            subprocess.run([*_root_prefix(), "rm", "-rf", str(archive)], timeout=60)
    index = json.loads((tmp / "index.json").read_text())
    for desc in index["manifests"]:
        desc["annotations"] = {"org.opencontainers.image.ref.name": "v1"}
    (tmp / "index.json").write_text(json.dumps(index))
    try:
        os.rename(tmp, out)
    except OSError:  # another run finished first
        shutil.rmtree(tmp, ignore_errors=True)
    (CACHE / f"{out.name}.json").write_text(json.dumps(inputs, indent=1) + "\n")
    same = re.compile(re.escape(name) + "-[0-9a-f]{16}")
    for old in CACHE.iterdir():  # converted from other inputs: never read again
        if same.fullmatch(old.name) and old.name != out.name and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
            old.with_name(old.name + ".json").unlink(missing_ok=True)
