"""The application layer of hello-debian / hello-distroless.

Like the `COPY --from=build` step of a multi-stage Dockerfile: one static binary
at /app/hello. The same layer (same digest) sits on both bases, so the layout
stores it once. Built with Debian's golang-go when present, else `gcc -static`.
Go builds are reproducible for a given Go version (-trimpath, empty build id);
the toolchain used is recorded in the manifest annotations.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .oci import LayerBuilder

SOURCE_DIR = Path(__file__).resolve().parent.parent / "hello"
APP_PATH = "app/hello"


def build_binary() -> tuple[bytes, str]:
    """(static ELF bytes, toolchain description)."""
    with tempfile.TemporaryDirectory(prefix="inspector-hello-") as tmp:
        out = Path(tmp) / "hello"
        if shutil.which("go"):
            env = dict(os.environ, CGO_ENABLED="0", GOOS="linux", GOARCH="amd64", GOFLAGS="-mod=mod",
                       GOCACHE=str(Path(tmp) / "gocache"), GOPATH=str(Path(tmp) / "gopath"), GO111MODULE="on")
            subprocess.run(["go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=",
                            "-o", str(out), "."], cwd=SOURCE_DIR, env=env, check=True)
            toolchain = subprocess.run(["go", "version"], capture_output=True, text=True, check=True).stdout.strip()
        else:
            subprocess.run(["gcc", "-static", "-O2", "-s", "-o", str(out), str(SOURCE_DIR / "hello.c")], check=True)
            toolchain = subprocess.run(["gcc", "--version"], capture_output=True, text=True,
                                       check=True).stdout.splitlines()[0]
        return out.read_bytes(), toolchain


def app_layer(binary: bytes, mtime: int) -> LayerBuilder:
    layer = LayerBuilder()
    layer.dir("app", mtime=mtime)
    layer.file(APP_PATH, binary, mode=0o755, mtime=mtime)
    return layer


#: the dynamic (glibc) siblings of /app/hello, for `inspector fit`: compiler, source, path
NATIVE = {"c": ("gcc", "hello.c", "app/hello-c"), "cpp": ("g++", "hello.cpp", "app/hello-cpp")}
#: flags that make the output depend only on the source and the compiler version
REPRODUCIBLE = ["-O2", "-s", "-Wl,--build-id=none", f"-ffile-prefix-map={SOURCE_DIR}=."]


def build_native(lang: str) -> tuple[bytes, str]:
    """(dynamically linked ELF bytes, compiler description) for ``lang`` in NATIVE."""
    compiler, source, _ = NATIVE[lang]
    with tempfile.TemporaryDirectory(prefix="inspector-hello-") as tmp:
        out = Path(tmp) / "hello"
        subprocess.run([compiler, *REPRODUCIBLE, "-o", str(out), source], cwd=SOURCE_DIR, check=True)
        version = subprocess.run([compiler, "--version"], capture_output=True, text=True,
                                 check=True).stdout.splitlines()[0]
        return out.read_bytes(), version


def native_layer(lang: str, binary: bytes, mtime: int) -> LayerBuilder:
    layer = LayerBuilder()
    layer.dir("app", mtime=mtime)
    layer.file(NATIVE[lang][2], binary, mode=0o755, mtime=mtime)
    return layer
