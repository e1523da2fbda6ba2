"""`docker save` tarballs: legacy, Docker 25+ and containerd-store (registry.md §7.1–7.2,
edge cases 45–47, 49)."""

from __future__ import annotations

import gzip
import io
import json
import logging
import os
import tarfile

import pytest

from inspector.errors import FormatError, ImageNotFound, PlatformNotFound
from inspector.oci import media_types as mt
from inspector.oci.platform import Platform
from inspector.options import Options
from inspector.sources.base import sha256_digest, validate_image
from inspector.sources.docker_archive import (
    normalize_name,
    open_docker_archive,
    open_docker_archive_fileobj,
)
from inspector.sources.resolve import open_image
from tests.builders import ImageSpec, make_layer, write_docker_archive

BASE = make_layer({"etc/os-release": b"ID=test\n"}, compression=None)
APP = make_layer({"app/run": b"binary" * 1000})
ZAPP = make_layer({"app/z": b"zstd" * 1000}, compression="zstd")
FLAVOURS = ["legacy", "docker25", "containerd"]


def _open(path, tag=None, options=None, **kw):
    return open_docker_archive(str(path), tag, options or Options(cache_dir=path.parent / "cache"), reference="x", **kw)


@pytest.mark.parametrize("outer", [None, "gzip"])
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_flavours_give_the_same_image(tmp_path, flavour, outer):
    spec = ImageSpec([BASE, APP, BASE], ref_name="busybox:latest", platform="linux/arm64")
    built = write_docker_archive(tmp_path / "a.tar", [spec], flavour, compression=outer)[0]
    with _open(tmp_path / "a.tar") as image:
        assert image.source == "docker-archive"
        assert image.config_bytes == built.config_bytes
        assert [la.diff_id for la in image.layers] == built.diff_ids
        assert image.platform == "linux/arm64"
        validate_image(image)
        if flavour == "legacy":  # synthesised: uncompressed layer digest == diff_id
            assert image.layers[0].digest == built.diff_ids[0]
            assert image.manifest_digest == sha256_digest(image.manifest_bytes)
            assert image.media_type == mt.DOCKER_MANIFEST
            assert [la.media_type for la in image.layers] == [mt.DOCKER_LAYER, mt.DOCKER_LAYER_GZIP, mt.DOCKER_LAYER]
        else:  # the archive's OCI manifest, kept byte for byte
            assert image.manifest_digest == built.manifest_digest
            assert [la.digest for la in image.layers] == built.layer_digests
    assert not list((tmp_path / "cache" / "tmp").glob("*")) if (tmp_path / "cache" / "tmp").exists() else True


NAMES = [  # (name, given, normalised)
    ("familiar", "busybox", "docker.io/library/busybox:latest"),
    ("familiar with tag", "busybox:1.36", "docker.io/library/busybox:1.36"),
    ("library prefix", "library/busybox:latest", "docker.io/library/busybox:latest"),
    ("full", "docker.io/library/busybox:latest", "docker.io/library/busybox:latest"),
    ("index.docker.io", "index.docker.io/library/busybox", "docker.io/library/busybox:latest"),
    ("user repo", "me/app:v1", "docker.io/me/app:v1"),
    ("registry with port", "localhost:5000/app", "localhost:5000/app:latest"),
    ("localhost", "localhost/app:1", "localhost/app:1"),
    ("other registry", "ghcr.io/org/app:2", "ghcr.io/org/app:2"),
]


@pytest.mark.parametrize("name,given,expected", NAMES, ids=[n[0] for n in NAMES])
def test_normalize_name(name, given, expected):
    assert normalize_name(given) == expected


@pytest.mark.parametrize("flavour", ["legacy", "docker25"])
def test_select_by_repo_tag(tmp_path, flavour):
    specs = [ImageSpec([BASE], ref_name="busybox:latest"), ImageSpec([BASE, APP], ref_name="ghcr.io/org/app:2")]
    built = write_docker_archive(tmp_path / "a.tar", specs, flavour)
    for tag, n in [("busybox", 0), ("docker.io/library/busybox:latest", 0), ("ghcr.io/org/app:2", 1), ("@1", 1)]:
        assert _open(tmp_path / "a.tar", tag).config_bytes == built[n].config_bytes, tag
    with pytest.raises(ImageNotFound, match=r"no image tagged 'busybox:1'; tags present: busybox:latest, ghcr.io/org/app:2"):
        _open(tmp_path / "a.tar", "busybox:1")
    with pytest.raises(ImageNotFound, match="holds 2 images"):
        _open(tmp_path / "a.tar")
    with pytest.raises(ImageNotFound, match="no image @5"):
        _open(tmp_path / "a.tar", "@5")


def test_reference_with_repo_tag_after_the_path(tmp_path):
    write_docker_archive(tmp_path / "a.tar", [ImageSpec([BASE], ref_name="busybox:latest"),
                                              ImageSpec([APP], ref_name="app:1")], "legacy")
    options = Options(cache_dir=tmp_path / "cache")
    image = open_image(f"docker-archive:{tmp_path / 'a.tar'}:busybox:latest", options)
    assert image.layers[0].diff_id == image.config["rootfs"]["diff_ids"][0]
    assert len(open_image(f"docker-archive:{tmp_path / 'a.tar'}:app:1", options).layers) == 1


def test_untagged_image(tmp_path):
    write_docker_archive(tmp_path / "a.tar", [ImageSpec([BASE])], "legacy")
    validate_image(_open(tmp_path / "a.tar"))


def test_legacy_duplicate_layer_symlink_is_followed(tmp_path):
    write_docker_archive(tmp_path / "a.tar", [ImageSpec([BASE, APP, BASE])], "legacy", symlink_duplicates=True)
    with tarfile.open(tmp_path / "a.tar") as tar:
        assert any(m.issym() and m.name.endswith("layer.tar") for m in tar)
    image = _open(tmp_path / "a.tar")
    assert image.layers[2].digest == image.layers[0].digest
    validate_image(image)


def test_legacy_compressed_layer_is_sniffed_and_hashed(tmp_path):
    write_docker_archive(tmp_path / "a.tar", [ImageSpec([APP, ZAPP])], "legacy")
    image = _open(tmp_path / "a.tar")
    assert [la.media_type for la in image.layers] == [mt.DOCKER_LAYER_GZIP, mt.OCI_LAYER_ZSTD]
    assert image.layers[0].digest == sha256_digest(APP)
    validate_image(image)


def test_docker25_broken_oci_manifest_falls_back_to_manifest_json(tmp_path, caplog):
    built = write_docker_archive(tmp_path / "a.tar", [ImageSpec([BASE, APP], ref_name="app:1")], "docker25",
                                 broken_oci_manifest=True)[0]
    with caplog.at_level(logging.WARNING):
        image = _open(tmp_path / "a.tar")
    assert "moby#47065" in caplog.text
    assert [la.digest for la in image.layers] == [sha256_digest(BASE), sha256_digest(APP)]
    assert [la.diff_id for la in image.layers] == built.diff_ids
    validate_image(image)


def _containerd(tmp_path, missing=()):
    specs = [ImageSpec([BASE, APP], platform="linux/amd64", ref_name="app:1"),
             ImageSpec([BASE, ZAPP], platform="linux/arm64", ref_name="app:1")]
    return write_docker_archive(tmp_path / "a.tar", specs, "containerd", missing_platforms=missing)


CONTAINERD = [  # (name, missing platforms, --platform, platform opened or error)
    ("default, all present", (), None, "linux/amd64"),
    ("other platform present", (), "linux/arm64", "linux/arm64"),
    ("arm64 missing, default asked", ("linux/arm64",), None, "linux/amd64"),
    ("arm64 missing, arm64 asked", ("linux/arm64",), "linux/arm64", PlatformNotFound),
    ("platform not in archive", (), "linux/s390x", "linux/amd64"),
]


@pytest.mark.parametrize("name,missing,wanted,expected", CONTAINERD, ids=[c[0] for c in CONTAINERD])
def test_containerd_multi_platform(tmp_path, name, missing, wanted, expected):
    built = _containerd(tmp_path, missing)
    options = Options(cache_dir=tmp_path / "cache", platform=Platform.parse(wanted or "linux/amd64"))
    if expected is PlatformNotFound:
        with pytest.raises(PlatformNotFound, match=r"not exported completely; missing blobs/sha256/"):
            _open(tmp_path / "a.tar", options=options)
        return
    image = _open(tmp_path / "a.tar", options=options)
    assert image.platform == expected
    assert image.manifest_digest == built[0 if expected == "linux/amd64" else 1].manifest_digest
    validate_image(image)


ERRORS = [  # (name, files in the tar, error, pattern)
    ("no manifest.json", {"x": b""}, FormatError, "no manifest.json"),
    ("OCI layout without manifest.json", {"oci-layout": b"{}"}, FormatError, "use oci-archive:"),
    ("malformed manifest.json", {"manifest.json": b"[{"}, FormatError, "manifest.json: malformed JSON"),
    ("manifest.json not a list", {"manifest.json": b"{}"}, FormatError, "top level must be a list"),
    ("entry without Layers", {"manifest.json": b'[{"Config": "c.json"}]'}, FormatError, r"\[0\]\.Layers is missing"),
    ("missing config", {"manifest.json": b'[{"Config": "c.json", "Layers": []}]'}, ImageNotFound, "c.json is missing"),
    ("malformed config", {"manifest.json": b'[{"Config": "c.json", "Layers": []}]', "c.json": b"{"}, FormatError,
     "c.json: malformed JSON"),
    ("missing layer file", {"manifest.json": b'[{"Config": "c.json", "Layers": ["l/layer.tar"]}]',
                            "c.json": b'{"rootfs": {"diff_ids": ["sha256:' + b"0" * 64 + b'"]}}'},
     ImageNotFound, "layer file l/layer.tar named in manifest.json is missing"),
    ("layer count differs", {"manifest.json": b'[{"Config": "c.json", "Layers": []}]',
                             "c.json": b'{"rootfs": {"diff_ids": ["sha256:' + b"0" * 64 + b'"]}}'},
     FormatError, "0 layers but the config has 1 diff_ids"),
]


@pytest.mark.parametrize("name,files,error,pattern", ERRORS, ids=[e[0] for e in ERRORS])
def test_archive_errors(tmp_path, name, files, error, pattern):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for n, data in files.items():
            info = tarfile.TarInfo(n)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    (tmp_path / "a.tar").write_bytes(buf.getvalue())
    with pytest.raises(error, match=pattern):
        _open(tmp_path / "a.tar")


def test_fileobj_seekable_and_stream(tmp_path):
    built = write_docker_archive(tmp_path / "a.tar", [ImageSpec([BASE, APP])], "docker25")[0]
    options = Options(cache_dir=tmp_path / "cache")
    data = (tmp_path / "a.tar").read_bytes()
    image = open_docker_archive_fileobj(io.BytesIO(data), None, options, reference="x")
    assert image.manifest_digest == built.manifest_digest
    validate_image(image)
    assert not (tmp_path / "cache" / "tmp").exists()  # read in place, nothing spooled
    r, w = os.pipe()  # a non-seekable, gzip-compressed stream: spooled once
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child writes and exits
        os.close(r)
        with os.fdopen(w, "wb") as out:
            out.write(gzip.compress(data))
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as stream:
        image = open_docker_archive_fileobj(stream, None, options, reference="x", source="docker-daemon")
    os.waitpid(pid, 0)
    assert image.source == "docker-daemon"
    assert len(list((tmp_path / "cache" / "tmp").iterdir())) == 1
    validate_image(image)
    image.close()
    assert list((tmp_path / "cache" / "tmp").iterdir()) == []


def test_extracted_directory(tmp_path):
    write_docker_archive(tmp_path / "a.tar", [ImageSpec([BASE, APP])], "legacy")
    with tarfile.open(tmp_path / "a.tar") as tar:
        tar.extractall(tmp_path / "x", filter="tar")
    validate_image(_open(tmp_path / "x"))


def test_manifest_json_is_capped(tmp_path):
    items = [{"Config": "c.json", "Layers": [], "RepoTags": ["x" * 100]}] * 12000
    buf = io.BytesIO()
    data = json.dumps(items).encode()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    (tmp_path / "a.tar").write_bytes(buf.getvalue())
    with pytest.raises(FormatError, match="more than the 1048576 allowed"):
        _open(tmp_path / "a.tar")
