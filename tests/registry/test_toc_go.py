"""Go binaries without a Go build-ID note (``go build -ldflags=-buildid=``, as
hello-debian's ``/app/hello`` was built) listed from a zstd:chunked TOC: the full pull
finds their build info by scanning the whole file; the TOC listing reads it where the
Go linker puts it (``from_toc.go_data_start``: the first writable PT_LOAD segment) — a
few frames, not the file. Real ``go build`` binaries, real skopeo, the real registry."""

from __future__ import annotations

import os
import struct
import subprocess
from pathlib import Path

import pytest

from inspector.analysis import analyze
from inspector.index.from_toc import go_data_start
from inspector.options import Options
from inspector.sources.registry import open_registry
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout
from tests.registry.tocimages import comparable, copy_image, export
from tests.tools import require_tool

#: (name, -ldflags, where the binary goes)
BUILDS = [
    ("no build id, outside bin dirs", "-buildid=", "app/hello"),
    ("no build id, stripped, in a bin dir", "-s -w -buildid=", "usr/bin/hello-stripped"),
    ("with a build id (the note path)", "", "usr/local/bin/hello-noted"),
]


def _go_build(tmp: Path, ldflags: str, out: str) -> bytes:
    go = require_tool("go")
    src = tmp / "src"
    if not src.exists():
        src.mkdir()
        (src / "go.mod").write_text("module example.org/hello\n\ngo 1.18\n")
        (src / "main.go").write_text('package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hi") }\n')
    env = dict(os.environ, GOPROXY="off", GOFLAGS="-mod=mod", GOCACHE=str(tmp / "cache"),
               GOPATH=str(tmp / "gopath"), CGO_ENABLED="0")
    subprocess.run([go, "build", f"-ldflags={ldflags}", "-o", str(tmp / out), "."], cwd=src,
                   env=env, check=True, capture_output=True, timeout=300)
    return (tmp / out).read_bytes()


@pytest.fixture(scope="module")
def go_images(plain_registry, tmp_path_factory) -> dict:
    require_tool("skopeo")
    work = tmp_path_factory.mktemp("toc-go")
    binaries = {path: _go_build(work, flags, f"bin{i}") for i, (_, flags, path) in enumerate(BUILDS)}
    write_oci_layout(work / "go", [ImageSpec([make_layer(
        {path: Entry("file", data, mode=0o755) for path, data in binaries.items()})],
        ref_name="v1")])
    host = plain_registry.host
    copy_image(f"oci:{work}/go:v1", f"oci:{work}/go-zc:v1", "--dest-compress-format", "zstd:chunked")
    copy_image(f"oci:{work}/go:v1", f"docker://{host}/toc/go-gzip:v1")
    copy_image(f"oci:{work}/go-zc:v1", f"docker://{host}/toc/go-zc:v1")
    return {"gzip": f"{host}/toc/go-gzip:v1", "zc": f"{host}/toc/go-zc:v1", "binaries": binaries}


@pytest.mark.registry
def test_go_binaries_without_a_build_id_keep_their_packages(go_images, tmp_path):
    full, _ = export(go_images["gzip"], Options(cache_dir=tmp_path / "a"))
    toc, _ = export(go_images["zc"], Options(cache_dir=tmp_path / "b"))
    found = {p["source_path"] for p in full["packages"] if p["type"] == "go"}
    assert found == {"/" + path for _, _, path in BUILDS}  # every build carries build info
    assert comparable(toc) == comparable(full)


@pytest.mark.registry
def test_a_build_without_its_note_costs_a_few_frames_not_the_file(go_images, tmp_path):
    """Only the noted binary is fetched whole (its note says Go; the rule before this one);
    the two without a note cost their first frames and the frames at their data segment."""
    options = Options(no_cache=True)
    image = open_registry(go_images["zc"], options, reference="zc")
    listed, = analyze(image, options).layers
    assert set(listed.go_buildinfo) == {"/" + path for _, _, path in BUILDS}
    sizes = {path: len(data) for path, data in go_images["binaries"].items()}
    noted = sizes[BUILDS[2][2]]
    assert image.layers[0].toc.fetched < noted + (sizes[BUILDS[0][2]] + sizes[BUILDS[1][2]]) / 4


def _elf64(*, shoff_after_phdrs: bool, loads: list[tuple[int, int]]) -> bytes:
    """An ELF64 little-endian header and program headers: ``loads`` as (p_flags, p_offset)
    PT_LOAD segments; the section header table right after them, or far away."""
    phoff, phnum = 64, len(loads)
    shoff = phoff + 56 * phnum if shoff_after_phdrs else 1 << 20
    head = b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0, phoff,
                                                          shoff, 0, 64, 56, phnum, 64, 5, 4)
    phdrs = b"".join(struct.pack("<IIQQQQQQ", 1, flags, offset, 0, 0, 0, 0, 0x1000)
                     for flags, offset in loads)
    return head + phdrs


R, RX, RW = 4, 5, 6
#: (name, the ELF's first bytes, its size, where the Go build info is looked for)
STARTS = [
    ("Go layout: the first RW load", _elf64(shoff_after_phdrs=True,
                                              loads=[(RX, 0), (R, 0x2000), (RW, 0x5000)]),
     1 << 20, 0x5000),
    ("sections at the end: another linker, nothing read",
     _elf64(shoff_after_phdrs=False, loads=[(RX, 0), (RW, 0x5000)]), 1 << 20, None),
    ("no writable load", _elf64(shoff_after_phdrs=True, loads=[(RX, 0), (R, 0x2000)]), 1 << 20,
     None),
    ("a load past the file's end", _elf64(shoff_after_phdrs=True, loads=[(RW, 1 << 21)]),
     1 << 20, None),
    ("program headers cut short", _elf64(shoff_after_phdrs=True,
                                         loads=[(RX, 0), (RW, 0x5000)])[:100], 1 << 20, None),
    ("not an ELF class", b"\x7fELF\x07" + bytes(200), 1 << 20, None),
]


@pytest.mark.parametrize("name,start,size,expected", STARTS, ids=[s[0] for s in STARTS])
def test_go_data_start(name, start, size, expected):
    assert go_data_start(start, size) == expected


@pytest.mark.registry
def test_a_go_binary_without_its_note_from_an_estargz_toc(plain_registry, tmp_path):
    """hello-debian converted by the real ``ctr-remote image convert --estargz`` in 64 KiB
    chunks: ``/app/hello``'s data segment lies in a chunk of its own (one gzip member)
    past its first, and the listing finds its build info as the full pull does."""
    from tests.registry.estargz_real import estargz_layout
    from tests.registry.tocimages import SAMPLES

    layout = estargz_layout("hello-debian-64k", SAMPLES, "hello-debian", chunk_size=1 << 16)
    ref = f"{plain_registry.host}/toc/hello-esgz:v1"
    copy_image(f"oci:{layout}:v1", f"docker://{ref}")
    full, _ = export(ref, Options(cache_dir=tmp_path / "a", full=True))
    toc, _ = export(ref, Options(cache_dir=tmp_path / "b"))
    assert {la["verified"] for la in toc["layers"]} == {"toc"}
    assert any(p["type"] == "go" and p["source_path"] == "/app/hello" for p in full["packages"])
    assert comparable(toc) == comparable(full)
