"""The distroless recipe (GoogleContainerTools/distroless, Debian 12 flavour).

See /work/shared/reference/distroless.md §1-4. One layer per package: the whole
data.tar (nothing filtered, no maintainer scripts, .deb mtimes and owners
kept) plus ``/var/lib/dpkg/status.d/NAME`` (the raw control file) and
``NAME.md5sums``. Then the hand-made layers, mtime 0 like upstream. Not
usr-merged: ``/bin``, ``/sbin``, ``/lib`` are real directories.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from .debs import Deb
from .oci import LayerBuilder, norm_name

STATIC_PACKAGES = ["base-files", "netbase", "tzdata", "media-types"]
BASE_PACKAGES = ["libc6", "libssl3"]
CC_PACKAGES = ["libgomp1", "libstdc++6", "libgcc-s1", "gcc-12-base"]  # upstream order (cc/config.bzl)
DERIVED_PACKAGES = ["ca-certificates"]  # only the generated bundle ships
DEBUG_PACKAGES = ["busybox-static"]  # stand-in for docker-library's musl busybox

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SSL_CERT_FILE = "/etc/ssl/certs/ca-certificates.crt"
STATIC_CONFIG = {"Env": [f"PATH={PATH}", f"SSL_CERT_FILE={SSL_CERT_FILE}"], "User": "0", "WorkingDir": "/"}
DEBUG_CONFIG = {"Env": [f"PATH={PATH}:/busybox", f"SSL_CERT_FILE={SSL_CERT_FILE}"],
                "Entrypoint": ["/busybox/sh"], "User": "0", "WorkingDir": "/"}

NSSWITCH_MTIME = 1514722362  # static/nsswitch.conf keeps its own mtime upstream

PASSWD = (b"root:x:0:0:root:/root:/sbin/nologin\n"
          b"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
          b"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")
GROUP = b"root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n"
NSSWITCH = b"""# /etc/nsswitch.conf
#
# Example configuration of GNU Name Service Switch functionality.
# If you have the `glibc-doc-reference' and `info' packages installed, try:
# `info libc "Name Service Switch"' for information about this file.

passwd:         compat
group:          compat
shadow:         compat
gshadow:        files

hosts:          files dns
networks:       files

protocols:      db files
services:       db files
ethers:         db files
rpc:            db files

netgroup:       nis
"""
OS_RELEASE = b"""PRETTY_NAME="Distroless"
NAME="Debian GNU/Linux"
ID="debian"
VERSION_ID="12"
VERSION="Debian GNU/Linux 12 (bookworm)"
HOME_URL="https://github.com/GoogleContainerTools/distroless"
SUPPORT_URL="https://github.com/GoogleContainerTools/distroless/blob/master/README.md"
BUG_REPORT_URL="https://github.com/GoogleContainerTools/distroless/issues/new"
"""


def _statusd(layer: LayerBuilder, deb: Deb, md5sums: bytes | None = None) -> None:
    layer.file(f"var/lib/dpkg/status.d/{deb.name}", deb.control, mtime=deb.control_mtime)
    md5sums = deb.md5sums if md5sums is None else md5sums
    if md5sums is not None:
        layer.file(f"var/lib/dpkg/status.d/{deb.name}.md5sums", md5sums, mtime=deb.md5sums_mtime)


def deb_layer(deb: Deb) -> LayerBuilder:
    """The package's whole data.tar + its status.d files, missing parents 0755 mtime 0."""
    layer = LayerBuilder()
    for info, data in deb.members:
        layer.add(info, data)
    _statusd(layer, deb)
    layer.add_parents()
    return layer


def rootfs_layer() -> LayerBuilder:
    """Upstream this layer holds only `./` (0755); names here never carry `./`, so it is empty."""
    return LayerBuilder()


def passwd_layer() -> LayerBuilder:
    layer = LayerBuilder()
    layer.dir("etc")
    layer.file("etc/passwd", PASSWD)
    return layer


def group_layer() -> LayerBuilder:
    layer = LayerBuilder()
    layer.dir("etc")
    layer.file("etc/group", GROUP)
    return layer


def home_layer() -> LayerBuilder:
    layer = LayerBuilder()
    layer.dir("root", mode=0o700)
    layer.dir("home")
    layer.dir("home/nonroot", mode=0o700, uid=65532, gid=65532)
    return layer


def tmp_layer() -> LayerBuilder:
    layer = LayerBuilder()
    layer.dir("tmp", mode=0o1777)
    return layer


def nsswitch_layer() -> LayerBuilder:
    """Faithful to upstream: `etc/nsswitch.conf` with no `etc` entry (an implied parent)."""
    layer = LayerBuilder()
    layer.file("etc/nsswitch.conf", NSSWITCH, mtime=NSSWITCH_MTIME)
    return layer


def os_release_layer() -> LayerBuilder:
    layer = LayerBuilder()
    layer.dir("usr")
    layer.dir("usr/lib")
    layer.file("usr/lib/os-release", OS_RELEASE, mode=0o555)
    return layer


def ca_bundle(deb: Deb) -> bytes:
    """Every line of every usr/share/ca-certificates/** file, in path order, each + "\\n"."""
    certs = sorted((norm_name(info.name), data) for info, data in deb.members
                   if info.isreg() and norm_name(info.name).startswith("usr/share/ca-certificates/"))
    out = bytearray()
    for _, data in certs:
        for line in data.decode().splitlines():
            out += line.encode() + b"\n"
    return bytes(out)


def cacerts_layer(deb: Deb) -> LayerBuilder:
    """Only the generated bundle and the copyright (both 0555, mtime 0) + status.d (upstream since 2026-08)."""
    layer = LayerBuilder()
    for d in ("etc", "etc/ssl", "etc/ssl/certs"):
        layer.dir(d)
    layer.file("etc/ssl/certs/ca-certificates.crt", ca_bundle(deb), mode=0o555)
    layer.file("usr/share/doc/ca-certificates/copyright",
               deb.member("usr/share/doc/ca-certificates/copyright"), mode=0o555)
    layer.file(f"var/lib/dpkg/status.d/{deb.name}", deb.control)
    if deb.md5sums is not None:
        layer.file(f"var/lib/dpkg/status.d/{deb.name}.md5sums", deb.md5sums)
    layer.add_parents()
    return layer


def busybox_applets(binary: bytes) -> list[str]:
    """Applet names, asked of the binary itself (`busybox --list`)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "busybox"
        path.write_bytes(binary)
        os.chmod(path, 0o755)
        out = subprocess.run([str(path), "--list"], check=True, capture_output=True, text=True).stdout
    return sorted({name for name in out.split() if name and name != "busybox" and "/" not in name})


def busybox_layer(deb: Deb) -> LayerBuilder:
    """`/busybox/busybox` (0755, mtime 0) + one absolute symlink per applet, like distroless :debug."""
    binary = deb.member("bin/busybox")
    layer = LayerBuilder()
    layer.dir("busybox")
    layer.file("busybox/busybox", binary, mode=0o755)
    for applet in busybox_applets(binary):
        layer.symlink(f"busybox/{applet}", "/busybox/busybox")
    return layer


HANDMADE = [
    ("rootfs", rootfs_layer, "distroless //common:rootfs  (/ 0755; empty here, see README)"),
    ("passwd", passwd_layer, "distroless //common:passwd  /etc/passwd: root, nobody, nonroot 65532"),
    ("home", home_layer, "distroless //common:home  /root 0700, /home, /home/nonroot 0700 65532:65532"),
    ("group", group_layer, "distroless //common:group  /etc/group"),
    ("tmp", tmp_layer, "distroless //common:tmp  /tmp 1777"),
    ("nsswitch", nsswitch_layer, "distroless //static:nsswitch  /etc/nsswitch.conf"),
    ("os_release", os_release_layer, "distroless //common:os_release_debian12  /usr/lib/os-release"),
]


# python3-debian12 (python3/config.bzl upstream: cc + 24 packages). Here the interpreter and
# the *minimal* standard library only: Debian's python3.11-minimal + libpython3.11-minimal
# and the libraries they load (libexpat1, zlib1g); libssl3 comes with base. No shell, no pip,
# no libpython3.11-stdlib (so no json, http, sqlite3…: fit reports an app that imports them).
PYTHON_PACKAGES = ["libexpat1", "zlib1g", "libpython3.11-minimal", "python3.11-minimal"]
PYTHON_CONFIG = {"Env": [f"PATH={PATH}", f"SSL_CERT_FILE={SSL_CERT_FILE}", "LANG=C.UTF-8"],
                 "Entrypoint": ["/usr/bin/python3.11"], "User": "0", "WorkingDir": "/"}


def python_links_layer() -> LayerBuilder:
    """Upstream's symlink layer: /usr/bin/python and /usr/bin/python3 → /usr/bin/python3.11."""
    layer = LayerBuilder()
    layer.dir("usr")
    layer.dir("usr/bin")
    for name in ("python", "python3"):
        layer.symlink(f"usr/bin/{name}", "/usr/bin/python3.11")
    return layer
