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


PYTHON_APP = SOURCE_DIR / "main.py"
#: debian-12-slim's top-level symlinks into /usr
MERGED = ("bin", "sbin", "lib", "lib64")
#: what slim's /etc/dpkg/dpkg.cfg.d/docker keeps dpkg from unpacking (copyright files stay)
SLIM_EXCLUDES = ("usr/share/doc/", "usr/share/man/", "usr/share/groff/", "usr/share/info/",
                 "usr/share/lintian/", "usr/share/linda/", "usr/share/locale/")


def python_runtime_layer(status: bytes, debs, mtime: int) -> LayerBuilder:
    """``apt-get install --no-install-recommends python3.11-minimal`` on debian-12-slim, as its
    result looks: the packages' files (minus slim's dpkg excludes), dpkg's status with their
    stanzas added, their ``info/NAME.list``/``.md5sums``, and python3-minimal's
    ``/usr/bin/python3`` link (the ``python3`` name every Dockerfile uses)."""
    from .oci import norm_name

    layer = LayerBuilder()
    stanzas = []
    for deb in debs:
        listed = ["/."]
        for info, data in deb.members:
            name = norm_name(info.name)
            if not name or (name.startswith(SLIM_EXCLUDES) and not name.endswith("/copyright")):
                continue
            listed.append("/" + name)
            top, _, rest = name.partition("/")
            if top in MERGED:  # merged /usr: dpkg writes through the /lib -> usr/lib link
                if not rest:
                    continue
                info.name = f"usr/{name}"
            layer.add(info, data)
        layer.file(f"var/lib/dpkg/info/{deb.name}.list", ("\n".join(listed) + "\n").encode(),
                   mtime=mtime)
        if deb.md5sums is not None:
            layer.file(f"var/lib/dpkg/info/{deb.name}.md5sums", deb.md5sums, mtime=mtime)
        control = deb.control.decode()
        head, _, rest = control.partition("\n")
        stanzas.append(f"{head}\nStatus: install ok installed\n{rest}".rstrip("\n") + "\n")
    layer.file("var/lib/dpkg/status", status.rstrip(b"\n") + b"\n\n"
               + "\n".join(stanzas).encode(), mtime=mtime)
    layer.symlink("usr/bin/python3", "python3.11", mtime=mtime)
    layer.add_parents(mtime=mtime)
    return layer


def python_app_layer(mtime: int) -> LayerBuilder:
    layer = LayerBuilder()
    layer.dir("app", mtime=mtime)
    layer.file("app/main.py", PYTHON_APP.read_bytes(), mtime=mtime)
    return layer
