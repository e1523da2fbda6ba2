"""The fit demo samples hello-c-debian / hello-cpp-debian: one small app layer on
debian-12-slim, a glibc-dynamic ELF, rebuilt byte for byte by sample_images/build.py."""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from inspector.fit.elf import parse_elf
from tests.tools import require_tool

SAMPLES = Path(__file__).resolve().parents[2] / "sample_images"
LAYOUT = SAMPLES / "oci"
NATIVE = [("hello-c-debian", "c", "/app/hello-c", "gcc",
           ["libc.so.6"]),
          ("hello-cpp-debian", "cpp", "/app/hello-cpp", "g++",
           ["libstdc++.so.6", "libgcc_s.so.1", "libc.so.6"])]


def _blob(digest: str) -> bytes:
    return (LAYOUT / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes()


def _manifest(name: str) -> dict:
    index = json.loads((LAYOUT / "index.json").read_text())
    desc = next(d for d in index["manifests"]
                if d["annotations"]["org.opencontainers.image.ref.name"] == name)
    return json.loads(_blob(desc["digest"]))


def _app_layer(name: str) -> bytes:
    return gzip.decompress(_blob(_manifest(name)["layers"][-1]["digest"]))


@pytest.mark.parametrize(("name", "lang", "path", "compiler", "needed"), NATIVE,
                         ids=[n[0] for n in NATIVE])
def test_app_layer_is_one_dynamic_program(name, lang, path, compiler, needed):
    with tarfile.open(fileobj=io.BytesIO(_app_layer(name))) as tar:
        members = {"/" + m.name: m for m in tar.getmembers()}
        assert sorted(members) == ["/app", path]
        data = tar.extractfile(members[path]).read()
    assert members[path].mode == 0o755
    elf = parse_elf(data, path)
    assert (elf.interpreter, elf.needed) == ("/lib64/ld-linux-x86-64.so.2", needed)
    assert len(_blob(_manifest(name)["layers"][-1]["digest"])) < 16 << 10  # small, as promised


@pytest.mark.parametrize(("name", "lang", "path", "compiler", "needed"), NATIVE,
                         ids=[n[0] for n in NATIVE])
def test_rebuilding_the_app_layer_gives_the_committed_bytes(name, lang, path, compiler, needed):
    require_tool(compiler)
    spec = importlib.util.spec_from_file_location("inspector_sample_build", SAMPLES / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # puts sample_images on sys.path
    from samplebuild import hello

    recorded = _manifest(name)["annotations"]["io.inspector.sample.toolchain"]
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True,
                             check=True).stdout.splitlines()[0]
    if version != recorded:
        pytest.skip(f"built with {recorded!r}, this machine has {version!r}")
    epoch = int(_manifest(name)["annotations"]["io.inspector.sample.source-date-epoch"])
    binary, _ = hello.build_native(lang)
    raw = io.BytesIO()
    hello.native_layer(lang, binary, epoch).write_tar(raw)
    assert raw.getvalue() == _app_layer(name)
