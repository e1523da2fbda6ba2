"""Fixture images built in code: layers, OCI layouts, oci-archives and docker-save tarballs.

Shared by every test package. Everything is deterministic (mtime 0, gzip without a
timestamp), so digests are stable between runs.

    layer = make_layer({"etc/passwd": b"root:x:0:0::/root:/bin/sh\\n",
                        "bin": Entry("dir"), "bin/sh": Entry("symlink", target="busybox")},
                       whiteouts=["usr/share/doc"], opaque=["var/cache"], compression="gzip")
    spec = ImageSpec([layer], platform="linux/arm64", ref_name="v1")
    written = write_oci_layout(tmp_path / "oci", [spec])        # index.json → manifest
    write_oci_layout(d, [amd64, arm64], multi_platform_ref="v1", attestations=True)  # → index
    write_docker_archive(tmp_path / "img.tar", [spec], flavour="legacy")   # or docker25, containerd
    tar_directory(tmp_path / "oci", tmp_path / "oci.tar.gz", compression="gzip")  # oci-archive

Each writer returns ``BuiltImage`` records (manifest/config bytes and digests, layer
digests and diff_ids) to compare what a source reads against what was written.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import zstandard

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_TYPES = {None: "application/vnd.oci.image.layer.v1.tar",
               "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
               "zstd": "application/vnd.oci.image.layer.v1.tar+zstd"}
REF_NAME = "org.opencontainers.image.ref.name"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# --- layers --------------------------------------------------------------------------------

@dataclass
class Entry:
    """A tar entry other than a plain ``bytes`` file: ``type`` is file|dir|symlink|hardlink|
    char|block|fifo; ``target`` is the link target; ``mode`` defaults to 0644/0755."""

    type: str = "file"
    data: bytes = b""
    target: str = ""
    mode: int | None = None
    uid: int = 0
    gid: int = 0
    mtime: int = 0
    pax: dict[str, str] = field(default_factory=dict)


_TAR_TYPES = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
              "hardlink": tarfile.LNKTYPE, "char": tarfile.CHRTYPE, "block": tarfile.BLKTYPE,
              "fifo": tarfile.FIFOTYPE}


def compress(data: bytes, compression: str | None) -> bytes:
    """``gzip`` (no timestamp), ``zstd`` or ``None`` (as is)."""
    if compression == "gzip":
        return gzip.compress(data, mtime=0)
    if compression == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    if compression is None:
        return data
    raise ValueError(f"unknown compression {compression!r}")


def make_tar(files: dict[str, bytes | Entry], whiteouts=(), opaque=()) -> bytes:
    """An uncompressed layer tar. Entries are written in ``files`` order, then one
    ``.wh.NAME`` per whiteout path, then ``DIR/.wh..wh..opq`` per opaque directory."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        items = list(files.items())
        items += [(_whiteout(p), b"") for p in whiteouts]
        items += [(p.rstrip("/") + "/.wh..wh..opq", b"") for p in opaque]
        for name, value in items:
            e = value if isinstance(value, Entry) else Entry("file", value)
            info = tarfile.TarInfo(name)
            info.type = _TAR_TYPES[e.type]
            info.mode = e.mode if e.mode is not None else (0o755 if e.type == "dir" else 0o644)
            info.uid, info.gid, info.mtime = e.uid, e.gid, e.mtime
            info.uname = info.gname = ""
            info.pax_headers = dict(e.pax)
            if e.type in ("symlink", "hardlink"):
                info.linkname = e.target
            if e.type == "file":
                info.size = len(e.data)
                tar.addfile(info, io.BytesIO(e.data))
            else:
                tar.addfile(info)
    return buf.getvalue()


def _whiteout(path: str) -> str:
    head, _, base = path.rstrip("/").rpartition("/")
    return f"{head}/.wh.{base}" if head else f".wh.{base}"


def make_layer(files: dict[str, bytes | Entry], whiteouts=(), opaque=(), compression: str | None = "gzip") -> bytes:
    """A layer blob as stored: ``make_tar(...)`` compressed with ``compression``."""
    return compress(make_tar(files, whiteouts, opaque), compression)


def diff_id_of(blob: bytes) -> str:
    """sha256 of the decompressed tar (by magic bytes, like the code under test)."""
    if blob[:2] == b"\x1f\x8b":
        blob = gzip.decompress(blob)
    elif blob[:4] == b"\x28\xb5\x2f\xfd":
        blob = zstandard.ZstdDecompressor().decompressobj().decompress(blob)
    return sha256(blob)


def layer_media_type(blob: bytes) -> str:
    if blob[:2] == b"\x1f\x8b":
        return LAYER_TYPES["gzip"]
    if blob[:4] == b"\x28\xb5\x2f\xfd":
        return LAYER_TYPES["zstd"]
    return LAYER_TYPES[None]


# --- images --------------------------------------------------------------------------------

@dataclass
class ImageSpec:
    """One single-platform image. ``layers`` are blobs as stored, base first."""

    layers: list[bytes]
    platform: str = "linux/amd64"
    ref_name: str | None = None  # index.json ref.name (oci) / repo tag (docker archives)
    config_extra: dict = field(default_factory=dict)  # merged into the config (Env, history…)
    layer_media_types: list[str] | None = None  # default: sniffed from each blob


@dataclass
class BuiltImage:
    spec: ImageSpec
    manifest_bytes: bytes
    config_bytes: bytes
    layer_digests: list[str]
    diff_ids: list[str]

    @property
    def manifest_digest(self) -> str:
        return sha256(self.manifest_bytes)

    @property
    def config_digest(self) -> str:
        return sha256(self.config_bytes)

    def descriptor(self, **annotations: str) -> dict:
        os_, arch, *variant = self.spec.platform.split("/")
        platform = {"architecture": arch, "os": os_} | ({"variant": variant[0]} if variant else {})
        desc = {"mediaType": OCI_MANIFEST, "digest": self.manifest_digest,
                "size": len(self.manifest_bytes), "platform": platform}
        if annotations:
            desc["annotations"] = annotations
        return desc


def build_image(spec: ImageSpec) -> tuple[BuiltImage, dict[str, bytes]]:
    """The manifest and config of ``spec`` and every blob by digest (nothing written)."""
    os_, arch, *variant = spec.platform.split("/")
    diff_ids = [diff_id_of(b) for b in spec.layers]
    config = {"architecture": arch, "os": os_, **({"variant": variant[0]} if variant else {}),
              "config": {"Env": ["PATH=/usr/bin:/bin"]},
              "rootfs": {"type": "layers", "diff_ids": diff_ids},
              "history": [{"created_by": f"layer {i}"} for i in range(len(spec.layers))]}
    config.update(spec.config_extra)
    config_bytes = json.dumps(config, sort_keys=True).encode()
    types = spec.layer_media_types or [layer_media_type(b) for b in spec.layers]
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": sha256(config_bytes), "size": len(config_bytes)},
                "layers": [{"mediaType": t, "digest": sha256(b), "size": len(b)}
                           for t, b in zip(types, spec.layers, strict=True)]}
    manifest_bytes = json.dumps(manifest, indent=2).encode()
    blobs = {sha256(b): b for b in [config_bytes, manifest_bytes, *spec.layers]}
    return BuiltImage(spec, manifest_bytes, config_bytes, [sha256(b) for b in spec.layers], diff_ids), blobs


def attestation_manifest(subject: BuiltImage) -> tuple[dict, dict[str, bytes]]:
    """A BuildKit attestation entry (``unknown/unknown`` + ``vnd.docker.reference.type``)
    for ``subject`` and its blobs."""
    statement = json.dumps({"_type": "https://in-toto.io/Statement/v0.1"}).encode()
    config = b"{}"
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                           "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": len(config)},
                           "layers": [{"mediaType": "application/vnd.in-toto+json",
                                       "digest": sha256(statement), "size": len(statement)}]}).encode()
    entry = {"mediaType": OCI_MANIFEST, "digest": sha256(manifest), "size": len(manifest),
             "platform": {"architecture": "unknown", "os": "unknown"},
             "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                             "vnd.docker.reference.digest": subject.manifest_digest}}
    return entry, {sha256(b): b for b in (statement, config, manifest)}


def image_index(entries: list[dict]) -> bytes:
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}, indent=2).encode()


# --- OCI layouts ---------------------------------------------------------------------------

@dataclass
class Written:
    images: list[BuiltImage]
    index_json: dict
    blobs: dict[str, bytes]


def write_blobs(root: Path, blobs: dict[str, bytes]) -> None:
    for digest, data in blobs.items():
        alg, _, hexpart = digest.partition(":")
        (root / "blobs" / alg).mkdir(parents=True, exist_ok=True)
        (root / "blobs" / alg / hexpart).write_bytes(data)


def write_oci_layout(root: str | os.PathLike, images: list[ImageSpec], *, multi_platform_ref: str | None = None,
                     nested: bool = False, attestations: bool = False, layout_version: str = "1.0.0",
                     omit_platform: bool = False) -> Written:
    """Write an OCI image layout directory.

    - default: one ``index.json`` entry per image (its platform and, if set, ``ref_name``);
    - ``multi_platform_ref="v1"``: one entry tagged ``v1`` pointing to an image index of all
      images (plus a BuildKit attestation per image with ``attestations``); with ``nested``
      that index points to a second index holding the manifests (index → index → manifest);
    - ``omit_platform``: top-level entries carry no ``platform`` (older writers).
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    built, blobs = [], {}
    for spec in images:
        b, bl = build_image(spec)
        built.append(b)
        blobs.update(bl)
    if multi_platform_ref is None:
        entries = []
        for b in built:
            d = b.descriptor(**({REF_NAME: b.spec.ref_name} if b.spec.ref_name else {}))
            if omit_platform:
                d.pop("platform")
            entries.append(d)
    else:
        children = [b.descriptor() for b in built]
        if attestations:
            for b in built:
                entry, bl = attestation_manifest(b)
                children.append(entry)
                blobs.update(bl)
        data = image_index(children)
        if nested:
            inner = data
            blobs[sha256(inner)] = inner
            data = image_index([{"mediaType": OCI_INDEX, "digest": sha256(inner), "size": len(inner)}])
        blobs[sha256(data)] = data
        entries = [{"mediaType": OCI_INDEX, "digest": sha256(data), "size": len(data),
                    "annotations": {REF_NAME: multi_platform_ref}}]
    write_blobs(root, blobs)
    index = json.loads(image_index(entries))
    (root / "index.json").write_bytes(image_index(entries))
    (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": layout_version}))
    return Written(built, index, blobs)


def tar_directory(src: str | os.PathLike, dest: str | os.PathLike, *, compression: str | None = None) -> Path:
    """Tar the contents of ``src`` (names relative to it, sorted) into ``dest``, optionally
    gzip/zstd-compressed as a whole (an oci-archive, or ``docker save | gzip``). Symlinks
    are stored as symlinks."""
    src, dest = Path(src), Path(dest)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for p in sorted(src.rglob("*")):
            tar.add(p, arcname=p.relative_to(src).as_posix(), recursive=False)
    dest.write_bytes(compress(buf.getvalue(), compression))
    return dest



# --- docker save ---------------------------------------------------------------------------

def _tar_files(dest: Path, files: dict[str, bytes | str], compression: str | None) -> Path:
    """A tar of ``{name: bytes}``; a ``str`` value is a symlink to that target."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, value in files.items():
            info = tarfile.TarInfo(name)
            if isinstance(value, str):
                info.type, info.linkname = tarfile.SYMTYPE, value
                tar.addfile(info)
            else:
                info.size, info.mode = len(value), 0o644
                tar.addfile(info, io.BytesIO(value))
    Path(dest).write_bytes(compress(buf.getvalue(), compression))
    return Path(dest)


def write_docker_archive(path: str | os.PathLike, images: list[ImageSpec], flavour: str = "legacy", *,
                         compression: str | None = None, symlink_duplicates: bool = True,
                         broken_oci_manifest: bool = False, missing_platforms: tuple[str, ...] = ()
                         ) -> list[BuiltImage]:
    """Write a ``docker save`` tarball (registry.md §7.1–7.2). ``ref_name`` of each spec is
    its repo tag (e.g. ``busybox:latest``); ``compression`` compresses the whole tar.

    - ``legacy``: ``<v1id>/layer.tar`` (+ ``VERSION``, ``json``), ``<hex>.json`` config,
      ``repositories``; a layer repeated in one image is a symlink to its first copy when
      ``symlink_duplicates`` (as Docker wrote them). Layers are stored as given.
    - ``docker25``: OCI layout + manifest.json, ``blobs/sha256/…`` paths; with
      ``broken_oci_manifest`` the OCI manifests have no layers (moby#47065).
    - ``containerd``: all images are platforms of one name: one index, manifest.json for the
      first image only; platforms in ``missing_platforms`` lose their layer blobs.
    """
    files: dict[str, bytes | str] = {}
    items, built = [], []
    for spec in images:
        b, blobs = build_image(spec)
        built.append(b)
        tags = [spec.ref_name] if spec.ref_name else None
        if flavour == "legacy":
            layer_paths, seen = [], {}
            for i, blob in enumerate(spec.layers):
                v1id = hashlib.sha256(f"{b.config_digest}/{i}".encode()).hexdigest()
                name = f"{v1id}/layer.tar"
                if symlink_duplicates and blob in seen:
                    files[name] = f"../{seen[blob]}"
                else:
                    files[name] = blob
                    seen[blob] = name
                files[f"{v1id}/VERSION"] = b"1.0"
                files[f"{v1id}/json"] = json.dumps({"id": v1id}).encode()
                layer_paths.append(name)
            config_name = b.config_digest.split(":")[1] + ".json"
            files[config_name] = b.config_bytes
            items.append({"Config": config_name, "RepoTags": tags, "Layers": layer_paths})
            continue
        if flavour not in ("docker25", "containerd"):
            raise ValueError(f"unknown flavour {flavour!r}")
        if flavour == "docker25" or spec is images[0]:  # containerd: only the first platform
            items.append({"Config": "blobs/sha256/" + b.config_digest.split(":")[1], "RepoTags": tags,
                          "Layers": ["blobs/sha256/" + d.split(":")[1] for d in b.layer_digests]})
        if broken_oci_manifest:
            manifest = json.loads(b.manifest_bytes)
            manifest["layers"] = []
            del blobs[b.manifest_digest]
            b.manifest_bytes = json.dumps(manifest, indent=2).encode()
            blobs[b.manifest_digest] = b.manifest_bytes
        for digest, data in blobs.items():
            if spec.platform in missing_platforms and digest in b.layer_digests:
                continue
            files["blobs/sha256/" + digest.split(":")[1]] = data
    if flavour == "legacy":
        repos: dict[str, dict[str, str]] = {}
        for item in items:
            for tag in item["RepoTags"] or []:
                repo, _, t = tag.rpartition(":")
                repos.setdefault(repo, {})[t] = item["Layers"][-1].split("/")[0]
        files["repositories"] = json.dumps(repos).encode()
    elif flavour == "docker25":
        entries = []
        for b in built:
            ann = {"io.containerd.image.name": "docker.io/library/" + b.spec.ref_name,
                   REF_NAME: b.spec.ref_name.rpartition(":")[2]} if b.spec.ref_name else {}
            d = b.descriptor(**ann)
            d.pop("platform")
            entries.append(d)
        files["index.json"] = image_index(entries)
        files["oci-layout"] = b'{"imageLayoutVersion":"1.0.0"}'
    else:
        idx = image_index([b.descriptor() for b in built])
        files["blobs/sha256/" + sha256(idx).split(":")[1]] = idx
        ann = {"io.containerd.image.name": "docker.io/library/" + images[0].ref_name,
               REF_NAME: images[0].ref_name.rpartition(":")[2]} if images[0].ref_name else {}
        files["index.json"] = image_index([{"mediaType": OCI_INDEX, "digest": sha256(idx), "size": len(idx),
                                            **({"annotations": ann} if ann else {})}])
        files["oci-layout"] = b'{"imageLayoutVersion":"1.0.0"}'
    files["manifest.json"] = json.dumps(items).encode()
    _tar_files(Path(path), files, compression)
    return built
