"""A bare path is opened by what it contains, not by its name."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from inspector.errors import FormatError, ImageNotFound
from inspector.sources.base import validate_image
from inspector.sources.detect import open_path
from inspector.sources.resolve import open_image
from tests.builders import (
    ImageSpec,
    make_layer,
    tar_directory,
    write_docker_archive,
    write_oci_layout,
)

LAYER = make_layer({"etc/hostname": b"box\n"})


def _oci_dir(p: Path) -> Path:
    write_oci_layout(p, [ImageSpec([LAYER])])
    return p


def _extracted(p: Path) -> Path:
    write_docker_archive(p.with_suffix(".tar"), [ImageSpec([LAYER])], "legacy")
    with tarfile.open(p.with_suffix(".tar")) as tar:
        tar.extractall(p, filter="tar")
    return p


CASES = [  # (name, make(path) → path to open, source)
    ("OCI layout directory", _oci_dir, "oci"),
    ("extracted docker save directory", _extracted, "docker-archive"),
    ("oci-archive .tar", lambda p: tar_directory(_oci_dir(p), p.with_name("o.tar")), "oci-archive"),
    ("oci-archive .tar.gz", lambda p: tar_directory(_oci_dir(p), p.with_name("o.tgz"), compression="gzip"), "oci-archive"),
    ("oci-archive named .bin", lambda p: tar_directory(_oci_dir(p), p.with_name("o.bin")), "oci-archive"),
    ("legacy docker save", lambda p: (write_docker_archive(p, [ImageSpec([LAYER])], "legacy"), p)[1], "docker-archive"),
    ("docker 25 save (both layouts)", lambda p: (write_docker_archive(p, [ImageSpec([LAYER])], "docker25"), p)[1],
     "docker-archive"),
    ("containerd save, zstd outer", lambda p: (write_docker_archive(p, [ImageSpec([LAYER])], "containerd",
                                                                   compression="zstd"), p)[1], "docker-archive"),
]


@pytest.mark.parametrize("name,make,source", CASES, ids=[c[0] for c in CASES])
def test_detects_by_content(tmp_path, options, name, make, source):
    path = make(tmp_path / "img")
    with open_path(str(path), options, reference=str(path)) as image:
        assert image.source == source
        validate_image(image)
    with open_image(str(path), options) as image:  # through the reference parser
        assert image.source == source


def _tar_of(p: Path, names: list[str]) -> Path:
    with tarfile.open(p, "w") as tar:
        for n in names:
            tar.addfile(tarfile.TarInfo(n))
    return p


ERRORS = [  # (name, make(tmp) → path, error, pattern)
    ("missing path", lambda t: t / "nope", ImageNotFound, "nope: no such file or directory"),
    ("empty directory", lambda t: t, FormatError, "directory is not an image"),
    ("not a tar", lambda t: (t / "x.txt").write_text("hello" * 200) and t / "x.txt", FormatError, "not a readable tar"),
    ("empty file", lambda t: (t / "e").write_bytes(b"") or t / "e", FormatError, "not a readable tar"),
    ("tar of something else", lambda t: _tar_of(t / "s.tar", ["readme.md"]), FormatError,
     "neither manifest.json nor oci-layout"),
]


@pytest.mark.parametrize("name,make,error,pattern", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(tmp_path, options, name, make, error, pattern):
    work = tmp_path / "w"
    work.mkdir()
    with pytest.raises(error, match=pattern):
        open_path(str(make(work)), options, reference="x")
