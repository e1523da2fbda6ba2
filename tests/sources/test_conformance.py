"""Every local source passes ``validate_image`` and agrees with the others on the same image.

Ground truth comes from tools nobody here wrote: skopeo converts our OCI layouts into
docker-archive and oci-archive files (its own writers: symlinked layers, uncompressed
docker layers), and umoci unpacks our layouts (so the fixture writer itself is checked).
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from inspector.options import Options
from inspector.sources.base import Image, validate_image
from inspector.sources.detect import open_path
from inspector.sources.docker_archive import open_docker_archive
from inspector.sources.oci_layout import open_oci, open_oci_archive
from tests.builders import (
    Entry,
    ImageSpec,
    make_layer,
    tar_directory,
    write_docker_archive,
    write_oci_layout,
)
from tests.tools import require_tool

FIXTURES = {  # name → layers (blobs as stored), base first
    "gzip+plain+zstd": [
        make_layer({"etc": Entry("dir"), "etc/passwd": b"root:x:0:0::/root:/bin/sh\n",
                    "bin": Entry("dir"), "bin/sh": Entry("symlink", target="busybox"),
                    "bin/busybox": Entry(data=b"\x7fELF" * 500, mode=0o4755)}),
        make_layer({"etc/motd": b"hello\n", "etc/link": Entry("hardlink", target="etc/motd")}, compression=None),
        make_layer({"app/x": b"z" * 70_000}, whiteouts=["etc/motd"], opaque=["bin"], compression="zstd"),
    ],
    "gzip+plain": [
        make_layer({"usr/lib/libc.so.6": b"\x7fELF" * 2000, "usr/lib/libc.so": Entry("symlink", target="libc.so.6")}),
        make_layer({"etc/os-release": b"ID=t\n"}, whiteouts=["usr/lib/libc.so"], compression=None),
    ],
    # the same blob twice: skopeo writes the second as a symlink to the first
    "repeated empty layer": [make_layer({}), make_layer({"a": b"1"}), make_layer({})],
}


def _fingerprint(image: Image) -> tuple:
    """What must not depend on the source: config, diff_ids and the uncompressed tars."""
    tars = []
    for layer in image.layers:
        h = hashlib.sha256()
        with layer.open_uncompressed() as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        tars.append(h.hexdigest())
    return image.config_bytes, [la.diff_id for la in image.layers], tars, image.platform


def _ours(tmp: Path, layers: list[bytes], options: Options) -> dict[str, Image]:
    spec = ImageSpec(layers, ref_name="v1")
    write_oci_layout(tmp / "oci", [spec])
    images = {"oci": open_oci(str(tmp / "oci"), "v1", options, reference="oci"),
              "oci-archive": open_oci_archive(str(tar_directory(tmp / "oci", tmp / "o.tar.gz", compression="gzip")),
                                              "v1", options, reference="oci-archive"),
              "path": open_path(str(tmp / "oci"), options, reference="path")}
    for flavour in ("legacy", "docker25", "containerd"):
        tagged = ImageSpec(layers, ref_name="app:v1")
        write_docker_archive(tmp / f"{flavour}.tar", [tagged], flavour)
        images[flavour] = open_docker_archive(str(tmp / f"{flavour}.tar"), "app:v1", options, reference=flavour)
    return images


@pytest.mark.parametrize("fixture", list(FIXTURES))
def test_all_local_sources_agree(tmp_path, options, fixture):
    images = _ours(tmp_path, FIXTURES[fixture], options)
    prints = {}
    for name, image in images.items():
        validate_image(image)
        prints[name] = _fingerprint(image)
        image.close()
    first = prints["oci"]
    assert all(p == first for p in prints.values()), {k: v[1] for k, v in prints.items()}


@pytest.mark.parametrize("fixture", list(FIXTURES))
def test_skopeo_written_archives_agree(tmp_path, options, fixture):
    skopeo = require_tool("skopeo")
    write_oci_layout(tmp_path / "oci", [ImageSpec(FIXTURES[fixture], ref_name="v1")])
    src = f"oci:{tmp_path / 'oci'}:v1"
    subprocess.run([skopeo, "copy", "-q", src, f"oci-archive:{tmp_path / 'o.tar'}:v1"], check=True, capture_output=True)
    expected = _fingerprint(open_oci(str(tmp_path / "oci"), "v1", options, reference="oci"))
    opened = {"oci-archive": open_oci_archive(str(tmp_path / "o.tar"), "v1", options, reference="o")}
    # skopeo refuses zstd layers in docker images ("zstd compression is not supported")
    if not any(b[:4] == b"\x28\xb5\x2f\xfd" for b in FIXTURES[fixture]):
        subprocess.run([skopeo, "copy", "-q", src, f"docker-archive:{tmp_path / 'd.tar'}:busybox:latest"],
                       check=True, capture_output=True)
        opened["docker-archive"] = open_docker_archive(str(tmp_path / "d.tar"), "busybox", options, reference="d")
        opened["detected docker-archive"] = open_path(str(tmp_path / "d.tar"), options, reference="p")
    for name, image in opened.items():
        validate_image(image)
        assert _fingerprint(image) == expected, name


def test_skopeo_reads_what_our_docker_writer_writes(tmp_path):
    """The fixture writer's archives are real: skopeo reads each flavour back."""
    skopeo = require_tool("skopeo")
    layers = FIXTURES["gzip+plain+zstd"]
    for flavour in ("legacy", "docker25"):
        write_docker_archive(tmp_path / f"{flavour}.tar", [ImageSpec(layers, ref_name="app:v1")], flavour)
        out = subprocess.run([skopeo, "inspect", "--config", f"docker-archive:{tmp_path / f'{flavour}.tar'}"],
                             check=True, capture_output=True, text=True).stdout
        assert '"diff_ids"' in out


def test_umoci_unpacks_our_layouts(tmp_path):
    umoci = require_tool("umoci")
    write_oci_layout(tmp_path / "oci", [ImageSpec(FIXTURES["gzip+plain+zstd"][:2], ref_name="v1")])
    subprocess.run([umoci, "unpack", "--rootless", "--image", f"{tmp_path / 'oci'}:v1", str(tmp_path / "bundle")],
                   check=True, capture_output=True)
    rootfs = tmp_path / "bundle" / "rootfs"
    assert (rootfs / "etc" / "motd").read_bytes() == b"hello\n"
    assert (rootfs / "bin" / "sh").is_symlink()
    assert (rootfs / "etc" / "link").stat().st_ino == (rootfs / "etc" / "motd").stat().st_ino
