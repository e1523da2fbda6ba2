"""Build a ``MergedFS`` in code (layers as ``{path: bytes | Entry}``, whiteouts), through
the real tar walker and merge — no image needed; plus real-tool gating and the debootstrap
roots the dpkg, classify and fit tests share, cached across runs."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from inspector.index.entries import LayerIndex
from inspector.index.merge import MergedFS, merge
from inspector.index.tarwalk import walk_tar
from tests.builders import Entry, make_tar
from tests.locks import file_lock
from tests.tools import require_tool  # noqa: E402,F401

CHUNK = 1 << 20
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
#: how a root is built, beyond what ``root_key`` reads from its inputs: bump it when the
#: build steps below change, and every cached root is rebuilt
RECIPE = 1
#: where test-built root filesystems are kept between runs, so a clean clone on the same
#: machine (CI) does not build them again: outside the repository and outside inspector's
#: own cache (``INSPECTOR_TEST_ROOTS`` moves it)
TEST_ROOTS = Path(os.environ.get("INSPECTOR_TEST_ROOTS")
                  or Path.home() / ".cache" / "inspector-tests" / "roots")


def index_tar(stream: io.BufferedIOBase, what: str = "test layer") -> LayerIndex:
    index = LayerIndex()
    walk_tar(lambda: stream.read(CHUNK), index, what=what)
    return index


def layer_index(files: dict[str, bytes | Entry], whiteouts=(), opaque=()) -> LayerIndex:
    return index_tar(io.BytesIO(make_tar(files, whiteouts, opaque)))


def build_fs(*layers: dict[str, bytes | Entry] | tuple) -> MergedFS:
    """Each layer is ``{path: content}`` or ``({path: content}, whiteouts)``."""
    indexes = []
    for layer in layers:
        if isinstance(layer, tuple):
            indexes.append(layer_index(layer[0], whiteouts=layer[1]))
        else:
            indexes.append(layer_index(layer))
    return merge(indexes)


def tar_directory_index(root: Path) -> LayerIndex:
    """Index a directory tree as one layer (numeric owners, as an image layer has)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.add(root, arcname=".", recursive=True)
    buf.seek(0)
    return index_tar(buf, what=str(root))


def _version(package: str) -> str:
    try:
        done = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package],
                              capture_output=True, text=True, timeout=60)
    except OSError:
        return "unknown"
    return done.stdout.strip() if done.returncode == 0 else "unknown"


def root_inputs(include: tuple[str, ...] = ()) -> dict:
    """Everything a debootstrap root is built from (the cache key): the suite, variant,
    extra packages, mirror, the debootstrap that builds it, the machine's architecture."""
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
    return {"recipe": RECIPE, "suite": SUITE, "variant": "minbase", "include": sorted(include),
            "mirror": MIRROR, "debootstrap": _version("debootstrap"), "arch": arch or "unknown"}


def root_key(inputs: dict) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


def debootstrap_root(include: tuple[str, ...] = ()) -> Path:
    """A real ``debootstrap --variant=minbase [--include=…] bookworm`` root, built once per
    set of inputs (``root_inputs``) and kept under ``TEST_ROOTS`` across runs (~35–80 s to
    build). A root built from other inputs is removed once the new one is in place; a
    missing or half-written one is simply built (the build renames into place when done).
    Parallel workers and concurrent runs take turns on a lock per root
    (``tests.locks.file_lock``): one builds, the others wait and find it built."""
    require_tool("debootstrap")
    inputs = root_inputs(include)
    stem = "-".join(["debootstrap", SUITE, "minbase", *include])
    root = TEST_ROOTS / f"{stem}-{root_key(inputs)}"
    if (root / "var/lib/dpkg/status").is_file():
        return root
    with file_lock(TEST_ROOTS / f".{stem}.lock"):
        if not (root / "var/lib/dpkg/status").is_file():
            _build_root(root, stem, inputs, include)
    return root


def _build_root(root: Path, stem: str, inputs: dict, include: tuple[str, ...]) -> None:
    work = TEST_ROOTS / f".{root.name}.tmp-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    argv = ["debootstrap", "--variant=minbase", *([f"--include={','.join(include)}"] if include else []),
            SUITE, str(work), MIRROR]
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        pytest.fail(f"debootstrap failed: {proc.stderr[-2000:] or proc.stdout[-2000:]}")
    shutil.rmtree(work / "var/cache/apt/archives", ignore_errors=True)
    try:
        os.rename(work, root)
    except OSError:  # a run without the lock (an older checkout) finished first
        shutil.rmtree(work, ignore_errors=True)
    (TEST_ROOTS / f"{root.name}.json").write_text(json.dumps(inputs, indent=1) + "\n")
    same_stem = re.compile(re.escape(stem) + "-[0-9a-f]{16}")
    for old in TEST_ROOTS.iterdir():  # built from other inputs: never read again
        if same_stem.fullmatch(old.name) and old.name != root.name and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
            old.with_name(old.name + ".json").unlink(missing_ok=True)


def _uvarint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def buildinfo_blob(version: str, modinfo: str, flags: int = 2) -> bytes:
    """Go build info in the inline format (go1.18+, ``debug/buildinfo``): the magic, the
    header, then the version and the module info as varint-prefixed strings."""
    sentinel_a = bytes.fromhex("3077af0c9274080241e1c107e6d618e6")
    sentinel_b = bytes.fromhex("f932433186182072008242104116d8f2")
    mod = sentinel_a + modinfo.encode() + sentinel_b
    header = b"\xff Go buildinf:" + bytes([8, flags]) + b"\0" * 16
    return header + _uvarint(len(version)) + version.encode() + _uvarint(len(mod)) + mod
