"""What a zstd:chunked TOC listing fetches of the files' contents (``index.from_toc``): only
the first bytes a decision needs, and the Go binaries found among executables — with the
same categories and packages as the full pull. Real skopeo-written zstd:chunked layers on
the real CNCF registry, a real ``go build`` binary."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from inspector.analysis import analyze
from inspector.classify import default_rules
from inspector.index import capture, toc_files
from inspector.index.from_toc import GO_BUDGET, GO_WINDOW, first_ask, index_from_toc
from inspector.options import Options
from inspector.sources.registry import open_registry
from inspector.sources.registry.chunked import Chunk, TocEntry
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout
from tests.index.helpers import GO_FLOOR_EDGES
from tests.registry.tocimages import comparable, export
from tests.registry.tocimages import copy_image as _copy
from tests.tools import require_tool
from tests.walkpaths import require_accelerator

pytestmark = pytest.mark.registry

ELF = b"\x7fELF\x02\x01\x01" + bytes(57)
#: the Go linker's build-ID note header (namesz 4, descsz, type 4, "Go\0\0")
GO_NOTE = b"\x04\x00\x00\x00Go\x00\x00"


def _go_binary(tmp: Path) -> bytes:
    """A real Go binary (internal linking: its build-ID note lies ~4 KB in)."""
    go = require_tool("go")
    src = tmp / "src"
    src.mkdir()
    (src / "go.mod").write_text("module example.org/hello\n\ngo 1.18\n")
    (src / "main.go").write_text('package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hi") }\n')
    env = dict(os.environ, GOPROXY="off", GOFLAGS="-mod=mod", GOCACHE=str(tmp / "cache"),
               GOPATH=str(tmp / "gopath"), CGO_ENABLED="0")
    subprocess.run([go, "build", "-o", str(tmp / "hello"), "."], cwd=src, env=env, check=True)
    return (tmp / "hello").read_bytes()


#: (name, path, entry, fetched from the TOC: first bytes a decision needs)
FILES = [
    ("Go binary in a bin dir: the Go check reads it", "usr/bin/hello-go", "go", True),
    ("Go binary elsewhere", "opt/app/server", "go", True),
    ("ELF outside bin dirs: is it a program?", "opt/tool", Entry("file", ELF + b"x" * 900,
                                                                  mode=0o755), True),
    ("script outside bin dirs", "opt/run.sh", Entry("file", b"#!/bin/sh\necho hi\n", mode=0o755),
     True),
    ("exec bit on text outside bin dirs", "opt/notes.txt", Entry("file", b"just notes\n" * 20,
                                                                   mode=0o755), True),
    ("small ELF in a bin dir: a program by its place", "usr/bin/tiny",
     Entry("file", ELF + b"t" * 500, mode=0o755), False),
    ("script in a bin dir", "usr/sbin/helper", Entry("file", b"#!/bin/sh\nexit 0\n", mode=0o755),
     False),
    ("bin-dir ELF a link outside names: the link's head is its", "usr/bin/linked",
     Entry("file", ELF + b"l" * 700, mode=0o755), True),
    ("hardlink outside bin dirs", "opt/linked", Entry("hardlink", target="usr/bin/linked"), False),
    ("large non-Go ELF in a bin dir: the Go check reads its start", "usr/bin/big",
     Entry("file", ELF + bytes(range(256)) * (capture.GO_FLOOR // 256), mode=0o755), True),
    ("ELF in a bin dir just under the Go floor: no Go check", "usr/bin/under",
     Entry("file", ELF + bytes(capture.GO_FLOOR - 1 - len(ELF)), mode=0o755), False),
]


@pytest.fixture(scope="module")
def exec_images(plain_registry, tmp_path_factory) -> dict[str, str]:
    require_tool("skopeo")
    work = tmp_path_factory.mktemp("toc-exec")
    go = _go_binary(work)
    files = {path: Entry("file", go, mode=0o755) if entry == "go" else entry
             for _, path, entry, _ in FILES}
    write_oci_layout(work / "execs", [ImageSpec([make_layer(files)], ref_name="v1")])
    host = plain_registry.host
    _copy(f"oci:{work}/execs:v1", f"oci:{work}/execs-zc:v1", "--dest-compress-format",
          "zstd:chunked")
    _copy(f"oci:{work}/execs:v1", f"docker://{host}/toc/execs-gzip:v1")
    _copy(f"oci:{work}/execs-zc:v1", f"docker://{host}/toc/execs-zc:v1")
    return {"gzip": f"{host}/toc/execs-gzip:v1", "zc": f"{host}/toc/execs-zc:v1", "go": go}


def test_go_note_past_the_first_chunk_is_found(exec_images, tmp_path):
    """skopeo's chunker cuts the Go binary's first 4 KB into small frames: the build-ID
    note is not in the first one, yet the Go packages are found as by the full pull."""
    zc = open_registry(exec_images["zc"], Options(no_cache=True), reference="zc")
    entry = next(e for e in zc.layers[0].toc.entries() if e.name.endswith("hello-go"))
    assert entry.chunks[0].size < exec_images["go"].find(GO_NOTE)  # the case is real
    # one batch of frames (each executable's Go window in it), then the Go binaries whole
    layer = zc.layers[0]
    toc_files.entries(layer.toc)  # the TOC's GET: what follows is the listing's alone
    before = layer.toc.requests
    index = index_from_toc(layer, layer.toc, what="zc", bin_dirs=default_rules().bin_dirs)
    assert layer.toc.requests - before == 2
    assert set(index.go_buildinfo) == {"/usr/bin/hello-go", "/opt/app/server"}
    full, _ = export(exec_images["gzip"], Options(cache_dir=tmp_path / "a"))
    toc, _ = export(exec_images["zc"], Options(cache_dir=tmp_path / "b"))
    go_paths = {p["name"] for p in full["packages"] if p["type"] == "go"}
    assert {"example.org/hello", "stdlib"} <= go_paths
    assert comparable(toc) == comparable(full)


def test_heads_are_fetched_only_where_a_decision_needs_them(exec_images, tmp_path):
    options = Options(cache_dir=tmp_path)
    full = analyze(open_registry(exec_images["gzip"], options, reference="gz"), options)
    toc = analyze(open_registry(exec_images["zc"], options, reference="zc"), options)
    (full_ix,), (toc_ix,) = full.layers, toc.layers
    with_head = {toc_ix.paths[row] for row in toc_ix.heads}
    for name, path, _, fetched in FILES:
        assert ("/" + path in with_head) == fetched, name
    assert {full_ix.paths[row] for row in full_ix.heads} >= with_head
    assert toc.classification.categories == full.classification.categories


@pytest.fixture(scope="module")
def floor_images(plain_registry, tmp_path_factory) -> dict[str, str]:
    """``GO_FLOOR_EDGES`` as one layer (``usr/bin/go<i>``), pushed gzip and zstd:chunked."""
    require_tool("skopeo")
    work = tmp_path_factory.mktemp("toc-floor")
    files = {f"usr/bin/go{i}": Entry("file", data, mode=mode)
             for i, (_, (data, mode), _) in enumerate(GO_FLOOR_EDGES)}
    write_oci_layout(work / "floor", [ImageSpec([make_layer(files)], ref_name="v1")])
    host = plain_registry.host
    _copy(f"oci:{work}/floor:v1", f"oci:{work}/floor-zc:v1", "--dest-compress-format",
          "zstd:chunked")
    _copy(f"oci:{work}/floor:v1", f"docker://{host}/toc/floor-gzip:v1")
    _copy(f"oci:{work}/floor-zc:v1", f"docker://{host}/toc/floor-zc:v1")
    return {"gzip": f"{host}/toc/floor-gzip:v1", "zc": f"{host}/toc/floor-zc:v1"}


def test_go_floor_is_the_same_on_every_path(floor_images, monkeypatch):
    """The Go check's floor (``capture.GO_FLOOR``) at its edges: the pure walker, the C
    walker (full pulls) and the TOC listing keep the same build info, the table's."""
    require_accelerator()
    found = {}
    for name, ref, pure in (("pure", "gzip", "1"), ("c", "gzip", "0"), ("toc", "zc", "0")):
        monkeypatch.setenv("INSPECTOR_PURE", pure)
        options = Options(no_cache=True)
        layer, = analyze(open_registry(floor_images[ref], options, reference=ref), options).layers
        assert bool(layer.toc_digest) == (name == "toc")
        found[name] = dict(layer.go_buildinfo)
    kept = {f"/usr/bin/go{i}" for i, (_, _, keep) in enumerate(GO_FLOOR_EDGES) if keep}
    assert set(found["pure"]) == kept
    assert found["c"] == found["pure"] == found["toc"]


def _entry(size: int, frames: list[tuple[int, int]]) -> TocEntry:
    """A TOC entry of ``size`` bytes in frames of ``(inflated, compressed)`` bytes."""
    chunks, at = [], 1000
    for inflated, compressed in frames:
        chunks.append(Chunk(at, at + compressed, inflated, ""))
        at += compressed
    return TocEntry("reg", "usr/bin/x", mode=0o755, size=size, chunks=chunks)


FLOOR, HEAD = capture.GO_FLOOR, capture.HEAD_BYTES
#: (name, entry, bytes asked with the first batch); frames as skopeo 1.9.3 cut real files
FIRST_ASKS = [
    ("under the floor: the head", _entry(FLOOR - 1, [(FLOOR - 1, 90_000)]), HEAD),
    ("go1.19 binary: small frames, the note opening the 4th", _entry(
        1_819_300, [(1391, 372), (522, 169), (2083, 23), (15255, 8050), (86307, 44431)]), GO_WINDOW),
    ("-buildmode=pie: 17 kB of frames", _entry(
        FLOOR, [(2513, 591), (1455, 23), (32119, 16696), (50556, 27520)]), GO_WINDOW),
    ("ldconfig: the window in a 111 kB frame", _entry(
        982_880, [(2124, 731), (1972, 23), (227007, 110506), (125029, 48705)]), HEAD),
    ("at the budget", _entry(FLOOR, [(GO_WINDOW, GO_BUDGET), (FLOOR - GO_WINDOW, 9)]), GO_WINDOW),
    ("a byte over the budget", _entry(FLOOR, [(GO_WINDOW, GO_BUDGET + 1), (FLOOR - GO_WINDOW, 9)]),
     HEAD),
    ("an eStargz member: the whole file", _entry(FLOOR + 1, [(FLOOR + 1, 120_000)]), HEAD),
]


@pytest.mark.parametrize(("name", "entry", "asked"), FIRST_ASKS, ids=[c[0] for c in FIRST_ASKS])
def test_the_go_window_is_asked_with_the_heads_where_it_is_cheap(name, entry, asked):
    assert first_ask(entry) == asked
