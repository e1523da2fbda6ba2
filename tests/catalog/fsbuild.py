"""Build a ``MergedFS`` in code (layers as ``{path: bytes | Entry}``, whiteouts), through
the real tar walker and merge — no image needed; plus real-tool gating and the cached
debootstrap root shared by the dpkg and classify tests."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from inspector.index.entries import LayerIndex
from inspector.index.merge import MergedFS, merge
from inspector.index.tarwalk import walk_tar
from tests.builders import Entry, make_tar
from tests.tools import require_tool  # noqa: E402,F401

CHUNK = 1 << 20
SUITE = "bookworm"
#: where test-built root filesystems are kept between runs: an ignored folder of the
#: repository (never the user's cache; ``INSPECTOR_TEST_ROOTS`` moves it)
TEST_ROOTS = Path(os.environ.get("INSPECTOR_TEST_ROOTS")
                  or Path(__file__).resolve().parents[2] / ".test-cache" / "test-roots")


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


def debootstrap_root() -> Path:
    """A real ``debootstrap --variant=minbase bookworm`` root, built once and kept under
    ``TEST_ROOTS`` (~35–60 s the first time)."""
    require_tool("debootstrap")
    cache = TEST_ROOTS
    root = cache / f"debootstrap-{SUITE}-minbase"
    if (root / "var/lib/dpkg/status").is_file():
        return root
    cache.mkdir(parents=True, exist_ok=True)
    work = cache / f"{root.name}.tmp-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    proc = subprocess.run(["debootstrap", "--variant=minbase", SUITE, str(work),
                           "http://deb.debian.org/debian"], capture_output=True, text=True)
    if proc.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        pytest.fail(f"debootstrap failed: {proc.stderr[-2000:] or proc.stdout[-2000:]}")
    shutil.rmtree(work / "var/cache/apt/archives", ignore_errors=True)
    try:
        os.rename(work, root)
    except OSError:  # another run finished first
        shutil.rmtree(work, ignore_errors=True)
    return root
