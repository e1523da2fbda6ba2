"""OCI image layout directories and oci-archives (registry.md §7.3, edge cases 48–49)."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import pytest

from inspector.errors import (
    DigestMismatch,
    FormatError,
    ImageNotFound,
    PlatformNotFound,
    SizeMismatch,
    UnsupportedMediaType,
)
from inspector.oci.platform import Platform
from inspector.options import Options
from inspector.sources.base import validate_image
from inspector.sources.oci_layout import open_oci, open_oci_archive
from tests.builders import (
    ImageSpec,
    make_layer,
    sha256,
    tar_directory,
    write_blobs,
    write_oci_layout,
)

BASE = make_layer({"etc/os-release": b"ID=test\n", "bin/sh": b"#!shell"})
APP = make_layer({"app/run": b"\x7fELF" + b"\0" * 100}, compression="zstd")
PLAIN = make_layer({"etc/motd": b"hi\n"}, compression=None)


def blob_path(root: Path, digest: str) -> Path:
    return root / "blobs" / "sha256" / digest.split(":")[1]


def multi(tmp_path: Path, **kw):
    specs = [ImageSpec([BASE], platform="linux/amd64"), ImageSpec([BASE, APP], platform="linux/arm64/v8"),
             ImageSpec([PLAIN], platform="linux/arm/v7")]
    return write_oci_layout(tmp_path / "oci", specs, multi_platform_ref="v1", **kw)


def test_single_image_without_tag(tmp_path, options):
    w = write_oci_layout(tmp_path / "oci", [ImageSpec([BASE, APP, PLAIN], platform="linux/arm64")])
    image = open_oci(str(tmp_path / "oci"), None, options, reference="oci:x")
    assert image.source == "oci"
    assert image.manifest_digest == w.images[0].manifest_digest
    assert image.manifest_bytes == w.images[0].manifest_bytes
    assert image.config_bytes == w.images[0].config_bytes
    assert [la.diff_id for la in image.layers] == w.images[0].diff_ids
    assert [la.digest for la in image.layers] == w.images[0].layer_digests
    assert [la.compressed_size for la in image.layers] == [len(BASE), len(APP), len(PLAIN)]
    assert image.platform == "linux/arm64"
    validate_image(image)


def test_platform_from_config_when_the_entry_has_none(tmp_path, options):
    write_oci_layout(tmp_path / "oci", [ImageSpec([BASE], platform="linux/arm/v6")], omit_platform=True)
    assert open_oci(str(tmp_path / "oci"), None, options, reference="x").platform == "linux/arm/v6"


def test_tag_selects_ref_name_and_unknown_tag_lists_tags(tmp_path, options):
    w = write_oci_layout(tmp_path / "oci", [ImageSpec([BASE], ref_name="base"), ImageSpec([BASE, APP], ref_name="app")])
    image = open_oci(str(tmp_path / "oci"), "app", options, reference="x")
    assert image.manifest_digest == w.images[1].manifest_digest
    with pytest.raises(ImageNotFound, match=r"no image tagged 'nope'; tags present: app, base"):
        open_oci(str(tmp_path / "oci"), "nope", options, reference="x")
    with pytest.raises(ImageNotFound, match=r"holds 2 images; tags: app, base"):
        open_oci(str(tmp_path / "oci"), None, options, reference="x")


PLATFORM_CASES = [  # (name, --platform, platform opened, layer count)
    ("default is linux/amd64", None, "linux/amd64", 1),
    ("arm64", "linux/arm64", "linux/arm64", 2),
    ("arm64/v8 same as arm64", "linux/arm64/v8", "linux/arm64", 2),
    ("aarch64 alias", "linux/aarch64", "linux/arm64", 2),
    ("x86_64 alias", "linux/x86_64", "linux/amd64", 1),
    ("arm means arm/v7", "linux/arm", "linux/arm/v7", 1),
]


@pytest.mark.parametrize("shape", ["index", "nested", "index+attestations"])
@pytest.mark.parametrize("name,wanted,platform,n_layers", PLATFORM_CASES, ids=[c[0] for c in PLATFORM_CASES])
def test_platform_choice_from_index(tmp_path, shape, name, wanted, platform, n_layers):
    multi(tmp_path, nested=shape == "nested", attestations="attestations" in shape)
    options = Options(cache_dir=tmp_path / "cache", platform=Platform.parse(wanted) if wanted else Platform("linux", "amd64"))
    for tag in ("v1", None):
        image = open_oci(str(tmp_path / "oci"), tag, options, reference="x")
        assert image.platform == platform
        assert len(image.layers) == n_layers
        validate_image(image)


def test_unknown_platform_lists_available_without_attestations(tmp_path):
    multi(tmp_path, attestations=True)
    options = Options(cache_dir=tmp_path / "cache", platform=Platform.parse("linux/s390x"))
    with pytest.raises(PlatformNotFound) as err:
        open_oci(str(tmp_path / "oci"), "v1", options, reference="x")
    assert "available: linux/amd64, linux/arm/v7, linux/arm64" in str(err.value)
    assert "unknown/unknown" not in str(err.value)


def test_attestation_is_never_chosen_even_when_asked(tmp_path):
    multi(tmp_path, attestations=True)
    options = Options(cache_dir=tmp_path / "cache", platform=Platform.parse("unknown/unknown"))
    with pytest.raises(PlatformNotFound):
        open_oci(str(tmp_path / "oci"), "v1", options, reference="x")


def _corrupt(root: Path, what: str, w) -> None:
    img = w.images[0]
    targets = {"manifest": img.manifest_digest, "config": img.config_digest, "layer": img.layer_digests[0]}
    p = blob_path(root, targets[what])
    p.write_bytes(p.read_bytes()[:-1] + bytes([p.read_bytes()[-1] ^ 1]))


LAYOUT_ERRORS = [  # (name, how to break the layout, error, message pattern)
    ("no oci-layout file", lambda r, w: (r / "oci-layout").unlink(), FormatError, "not an OCI image layout"),
    ("no index.json", lambda r, w: (r / "index.json").unlink(), FormatError, "without index.json"),
    ("malformed index.json", lambda r, w: (r / "index.json").write_text("{nope"), FormatError, r"index.json: malformed JSON"),
    ("index.json not an object", lambda r, w: (r / "index.json").write_text("[]"), FormatError, "index.json: expected a JSON object"),
    ("manifest content does not match its name", lambda r, w: _corrupt(r, "manifest", w), DigestMismatch,
     "manifest blobs/sha256/[0-9a-f]+ does not match its digest"),
    ("config content does not match its name", lambda r, w: _corrupt(r, "config", w), DigestMismatch,
     "config blobs/sha256/[0-9a-f]+ does not match its digest"),
    ("config missing", lambda r, w: blob_path(r, w.images[0].config_digest).unlink(), ImageNotFound,
     "config blob blobs/sha256/[0-9a-f]+ is missing"),
    ("manifest missing", lambda r, w: blob_path(r, w.images[0].manifest_digest).unlink(), ImageNotFound,
     "manifest blob blobs/sha256/[0-9a-f]+ is missing"),
    ("layer missing", lambda r, w: blob_path(r, w.images[0].layer_digests[1]).unlink(), ImageNotFound,
     "layer 2 blob blobs/sha256/[0-9a-f]+ is missing"),
    ("manifest size differs", lambda r, w: _patch_index(r, size=1), SizeMismatch, "its descriptor says 1"),
    ("path traversal digest", lambda r, w: _patch_index(r, digest="sha256:../../etc/passwd"), FormatError,
     r"manifests\[0\]\.digest is not a valid sha256/sha512 digest"),
    ("schema1 manifest", lambda r, w: _replace_manifest(r, {"schemaVersion": 1, "fsLayers": []}), UnsupportedMediaType,
     "schema 1 is not supported"),
    ("ambiguous manifest", lambda r, w: _replace_manifest(r, {"schemaVersion": 2, "manifests": [], "layers": []}),
     FormatError, "neither a manifest nor an index"),
    ("not an image (helm config)", lambda r, w: _replace_manifest(r, {"schemaVersion": 2, "config": {
        "mediaType": "application/vnd.cncf.helm.config.v1+json", "digest": sha256(b"{}"), "size": 2}, "layers": []}),
     UnsupportedMediaType, "not a container image"),
    ("encrypted layer", lambda r, w: _retype_layer(r, w, "application/vnd.oci.image.layer.v1.tar+gzip+encrypted"),
     UnsupportedMediaType, "layer 1 is encrypted"),
    ("in-toto layer", lambda r, w: _retype_layer(r, w, "application/vnd.in-toto+json"), UnsupportedMediaType,
     "not a filesystem layer"),
    ("layer count differs from diff_ids", lambda r, w: _retype_layer(r, w, None), FormatError, "2 diff_ids"),
]


def _patch_index(root: Path, **fields) -> None:
    index = json.loads((root / "index.json").read_text())
    index["manifests"][0].update(fields)
    for key in [k for k, v in fields.items() if v is None]:  # None: drop the field
        del index["manifests"][0][key]
    (root / "index.json").write_text(json.dumps(index))


def _replace_manifest(root: Path, doc: dict) -> None:
    data = json.dumps(doc).encode()
    write_blobs(root, {sha256(data): data})
    _patch_index(root, digest=sha256(data), size=len(data), mediaType=None)


def _retype_layer(root: Path, w, media_type: str | None) -> None:
    manifest = json.loads(w.images[0].manifest_bytes)
    if media_type is None:
        manifest["layers"].pop()
    else:
        manifest["layers"][0]["mediaType"] = media_type
    _replace_manifest(root, manifest)


@pytest.mark.parametrize("name,breaker,error,pattern", LAYOUT_ERRORS, ids=[c[0] for c in LAYOUT_ERRORS])
def test_layout_errors(tmp_path, options, name, breaker, error, pattern):
    root = tmp_path / "oci"
    w = write_oci_layout(root, [ImageSpec([BASE, APP])])
    breaker(root, w)
    with pytest.raises(error, match=pattern):
        open_oci(str(root), None, options, reference="x")


def test_layer_blob_corruption_is_caught_when_read(tmp_path, options):
    root = tmp_path / "oci"
    w = write_oci_layout(root, [ImageSpec([BASE, PLAIN])])
    p = blob_path(root, w.images[0].layer_digests[1])
    p.write_bytes(p.read_bytes().replace(b"hi\n", b"ho\n"))
    image = open_oci(str(root), None, options, reference="x")  # opening reads no layer
    with pytest.raises(DigestMismatch, match="layer sha256:"):
        validate_image(image)


def test_unknown_layout_version_and_extra_files_are_tolerated(tmp_path, options, caplog):
    root = tmp_path / "oci"
    write_oci_layout(root, [ImageSpec([BASE])], layout_version="9.9.9")
    (root / "manifest.json").write_text("not json, and not ours")
    (root / "blobs" / "sha256" / ("0" * 64)).write_bytes(b"unreferenced")
    with caplog.at_level(logging.WARNING):
        validate_image(open_oci(str(root), None, options, reference="x"))
    assert "imageLayoutVersion '9.9.9'" in caplog.text


def test_embedded_data_is_verified(tmp_path, options):
    import base64
    root = tmp_path / "oci"
    w = write_oci_layout(root, [ImageSpec([BASE])])
    blob_path(root, w.images[0].manifest_digest).unlink()  # only the embedded copy remains
    _patch_index(root, data=base64.b64encode(w.images[0].manifest_bytes).decode())
    assert open_oci(str(root), None, options, reference="x").manifest_digest == w.images[0].manifest_digest
    _patch_index(root, data=base64.b64encode(b"{}").decode())
    with pytest.raises(SizeMismatch):
        open_oci(str(root), None, options, reference="x")


def test_missing_path_and_file_instead_of_directory(tmp_path, options):
    with pytest.raises(ImageNotFound, match="no-such"):
        open_oci(str(tmp_path / "no-such"), None, options, reference="x")
    (tmp_path / "f.tar").write_bytes(b"")
    with pytest.raises(FormatError, match="oci-archive:"):
        open_oci(str(tmp_path / "f.tar"), None, options, reference="x")


@pytest.mark.parametrize("compression", [None, "gzip", "zstd"])
def test_oci_archive_reads_in_place_and_cleans_up(tmp_path, options, compression):
    w = multi(tmp_path, attestations=True)
    archive = tar_directory(tmp_path / "oci", tmp_path / "oci.tar", compression=compression)
    arm = Options(cache_dir=options.cache_dir, platform=Platform.parse("linux/arm64"))
    with open_oci_archive(str(archive), "v1", arm, reference="x") as image:
        assert image.source == "oci-archive"
        assert image.manifest_digest == w.images[1].manifest_digest
        spool = list((options.cache_dir / "tmp").glob("*")) if (options.cache_dir / "tmp").exists() else []
        assert len(spool) == (0 if compression is None else 1)
        validate_image(image)
    assert not list((options.cache_dir / "tmp").glob("*")) if (options.cache_dir / "tmp").exists() else True


def test_archive_layers_read_in_parallel_threads(tmp_path, options):
    layers = [make_layer({f"f{i}": bytes([i]) * 300_000}) for i in range(6)]
    write_oci_layout(tmp_path / "oci", [ImageSpec(layers)])
    archive = tar_directory(tmp_path / "oci", tmp_path / "oci.tar")
    image = open_oci_archive(str(archive), None, options, reference="x")
    errors: list[BaseException] = []

    def read(layer):
        try:
            with layer.open_uncompressed() as f:
                while f.read(1 << 16):
                    pass
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
    threads = [threading.Thread(target=read, args=(la,)) for la in image.layers * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    image.close()


def test_oci_archive_errors(tmp_path, options):
    (tmp_path / "junk.tar").write_bytes(b"this is not a tar archive at all" * 40)
    with pytest.raises(FormatError, match="not a readable tar"):
        open_oci_archive(str(tmp_path / "junk.tar"), None, options, reference="x")
    with pytest.raises(ImageNotFound, match="no such file"):
        open_oci_archive(str(tmp_path / "none.tar"), None, options, reference="x")
    write_oci_layout(tmp_path / "oci", [ImageSpec([BASE])])
    (tmp_path / "oci" / "oci-layout").unlink()
    tar_directory(tmp_path / "oci", tmp_path / "nolayout.tar")
    with pytest.raises(FormatError, match="not an OCI image layout"):
        open_oci_archive(str(tmp_path / "nolayout.tar"), None, options, reference="x")
