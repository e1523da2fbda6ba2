"""Deterministic layer tars and an OCI image layout writer.

Reproducibility rules (the same inputs give the same digests):

- member names never carry a leading ``./`` or ``/``; entries sorted by name bytes;
  the root directory itself is never written;
- uid/gid numeric, uname/gname empty; mtimes are whatever the recipe gives
  (integers), never "now";
- hard links always point at the first name of their group in sorted order;
- gzip header without file name and with mtime 0, at a fixed level.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

GZIP_LEVEL = 9
"""Fixed gzip level: changing it changes every layer digest."""

TAR_FORMAT = tarfile.PAX_FORMAT
"""PAX (ustar + extended headers only where a name or number needs them)."""

EPOCH_0 = "1970-01-01T00:00:00Z"

MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"

ANN_REF_NAME = "org.opencontainers.image.ref.name"
ANN_DESCRIPTION = "org.opencontainers.image.description"


def norm_name(name: str) -> str:
    """`./usr/bin/x`, `/usr/bin/x/` and `usr/bin/x` all become `usr/bin/x`."""
    name = name.strip("/")
    while name.startswith("./"):
        name = name[2:].lstrip("/")
    return "" if name == "." else name


class LayerBuilder:
    """Collects members of one layer in memory, then writes a sorted tar.

    Data is given as bytes or as a filesystem path (read at write time).
    Adding a name twice replaces the earlier entry.
    """

    def __init__(self) -> None:
        self._members: dict[str, tuple[tarfile.TarInfo, bytes | Path | None]] = {}

    def __contains__(self, name: str) -> bool:
        return norm_name(name) in self._members

    def __len__(self) -> int:
        return len(self._members)

    def _info(self, name: str, type_: bytes, mode: int, uid: int, gid: int, mtime: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(norm_name(name))
        info.type = type_
        info.mode = mode
        info.uid, info.gid = uid, gid
        info.uname = info.gname = ""
        info.mtime = int(mtime)
        return info

    def add(self, info: tarfile.TarInfo, data: bytes | Path | None = None) -> None:
        """Add a prepared member; its name (and hardlink target) are normalised."""
        info.name = norm_name(info.name)
        if not info.name:
            return
        if info.type == tarfile.LNKTYPE:
            info.linkname = norm_name(info.linkname)
        info.uname = info.gname = ""
        info.mtime = int(info.mtime)
        info.pax_headers = {}
        self._members[info.name] = (info, data)

    def dir(self, name: str, mode: int = 0o755, uid: int = 0, gid: int = 0, mtime: int = 0) -> None:
        self.add(self._info(name, tarfile.DIRTYPE, mode, uid, gid, mtime))

    def file(self, name: str, data: bytes, mode: int = 0o644, uid: int = 0, gid: int = 0, mtime: int = 0) -> None:
        info = self._info(name, tarfile.REGTYPE, mode, uid, gid, mtime)
        info.size = len(data)
        self.add(info, data)

    def symlink(self, name: str, target: str, mtime: int = 0) -> None:
        info = self._info(name, tarfile.SYMTYPE, 0o777, 0, 0, mtime)
        info.linkname = target
        self.add(info)

    def add_parents(self, mode: int = 0o755, mtime: int = 0) -> None:
        """Add every missing parent directory (what rules_pkg does for deb layers)."""
        for name in list(self._members):
            parent = os.path.dirname(name)
            while parent and parent not in self._members:
                self.dir(parent, mode=mode, mtime=mtime)
                parent = os.path.dirname(parent)

    def _resolved(self) -> list[tuple[tarfile.TarInfo, bytes | Path | None]]:
        """Members sorted by name; hard-link groups re-pointed at their first name."""
        names = sorted(self._members, key=lambda n: n.encode("utf-8", "surrogateescape"))
        groups: dict[str, list[str]] = {}
        for name in names:
            info, _ = self._members[name]
            if info.type == tarfile.LNKTYPE:
                target = info.linkname
                while self._members.get(target, (None,))[0] is not None and self._members[target][0].type == tarfile.LNKTYPE:
                    target = self._members[target][0].linkname
                groups.setdefault(target, [target]).append(name)
        first_of: dict[str, str] = {}
        for target, group in groups.items():
            if target not in self._members:
                continue  # dangling hard link: keep as given
            head = min(group, key=lambda n: n.encode("utf-8", "surrogateescape"))
            if head != target:
                # move the data to the head, turn the old holder into a link
                info, data = self._members[target]
                head_info = _copy_info(info, head)
                self._members[head] = (head_info, data)
                link = _copy_info(info, target)
                link.type, link.size, link.linkname = tarfile.LNKTYPE, 0, head
                self._members[target] = (link, None)
            for name in group:
                first_of[name] = head
        out = []
        for name in names:
            info, data = self._members[name]
            if name in first_of and first_of[name] != name:
                info.type, info.size, info.linkname = tarfile.LNKTYPE, 0, first_of[name]
                data = None
            out.append((info, data))
        return out

    def write_tar(self, fileobj: io.BufferedIOBase) -> None:
        with tarfile.open(fileobj=fileobj, mode="w", format=TAR_FORMAT, encoding="utf-8") as tar:
            for info, data in self._resolved():
                if info.type == tarfile.REGTYPE and data is not None:
                    if isinstance(data, Path):
                        with open(data, "rb") as fh:
                            tar.addfile(info, fh)
                    else:
                        tar.addfile(info, io.BytesIO(data))
                else:
                    info.size = 0
                    tar.addfile(info)


def _copy_info(info: tarfile.TarInfo, name: str) -> tarfile.TarInfo:
    new = tarfile.TarInfo(name)
    for attr in ("mode", "uid", "gid", "size", "mtime", "type", "linkname", "uname", "gname", "devmajor", "devminor"):
        setattr(new, attr, getattr(info, attr))
    return new


@dataclasses.dataclass
class Layer:
    """A written layer: compressed identity and uncompressed identity, both named."""

    digest: str
    size: int  # compressed bytes (the blob)
    diff_id: str
    uncompressed_size: int
    created_by: str
    media_type: str = MT_LAYER_GZIP

    def descriptor(self) -> dict:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def dumps(obj) -> bytes:
    """Canonical JSON for blobs: insertion key order, 2-space indent, trailing newline."""
    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode()


class Layout:
    """An OCI image layout directory; images are added by name, index.json written last."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.blob_dir = self.root / "blobs" / "sha256"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self.entries: dict[str, dict] = {}  # ref name -> manifest descriptor
        index_path = self.root / "index.json"
        if index_path.exists():
            for desc in json.loads(index_path.read_text())["manifests"]:
                self.entries[desc["annotations"][ANN_REF_NAME]] = desc

    def put_blob(self, data: bytes) -> tuple[str, int]:
        digest = sha256(data)
        path = self.blob_dir / digest.split(":", 1)[1]
        if not path.exists() or path.stat().st_size != len(data):
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        return digest, len(data)

    def blob(self, digest: str) -> bytes:
        return (self.blob_dir / digest.split(":", 1)[1]).read_bytes()

    def write_layer(self, builder: LayerBuilder, created_by: str) -> Layer:
        raw = io.BytesIO()
        builder.write_tar(raw)
        tar_bytes = raw.getvalue()
        gz = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=gz, compresslevel=GZIP_LEVEL, mtime=0) as zf:
            zf.write(tar_bytes)
        digest, size = self.put_blob(gz.getvalue())
        return Layer(digest, size, sha256(tar_bytes), len(tar_bytes), created_by)

    def add_image(self, name: str, description: str, layers: list[Layer], config: dict,
                  annotations: dict[str, str]) -> dict:
        """Write config + manifest; `config` is the runtime part ("Env", "User", ...)."""
        image_config = {
            "created": EPOCH_0,
            "architecture": "amd64",
            "os": "linux",
            "config": config,
            "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
            "history": [{"created": EPOCH_0, "created_by": layer.created_by} for layer in layers],
        }
        cfg_digest, cfg_size = self.put_blob(dumps(image_config))
        manifest = {
            "schemaVersion": 2,
            "mediaType": MT_MANIFEST,
            "config": {"mediaType": MT_CONFIG, "digest": cfg_digest, "size": cfg_size},
            "layers": [layer.descriptor() for layer in layers],
            "annotations": dict(sorted(annotations.items())),
        }
        digest, size = self.put_blob(dumps(manifest))
        desc = {
            "mediaType": MT_MANIFEST,
            "digest": digest,
            "size": size,
            "platform": {"architecture": "amd64", "os": "linux"},
            "annotations": {ANN_REF_NAME: name, ANN_DESCRIPTION: description},
        }
        self.entries[name] = desc
        return desc

    def load_image(self, name: str) -> tuple[list[Layer], dict, dict]:
        """(layers, runtime config, manifest annotations) of an image already in the layout."""
        manifest = json.loads(self.blob(self.entries[name]["digest"]))
        config = json.loads(self.blob(manifest["config"]["digest"]))
        layers = []
        for desc, diff_id, hist in zip(manifest["layers"], config["rootfs"]["diff_ids"], config["history"], strict=True):
            uncompressed = len(gzip.decompress(self.blob(desc["digest"])))
            layers.append(Layer(desc["digest"], desc["size"], diff_id, uncompressed, hist["created_by"], desc["mediaType"]))
        return layers, config["config"], manifest.get("annotations", {})

    def finish(self, order: list[str]) -> None:
        """Write oci-layout and index.json (images in `order`), drop unreferenced blobs."""
        names = [n for n in order if n in self.entries] + sorted(set(self.entries) - set(order))
        index = {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": [self.entries[n] for n in names]}
        (self.root / "oci-layout").write_bytes(dumps({"imageLayoutVersion": "1.0.0"}))
        (self.root / "index.json").write_bytes(dumps(index))
        keep = set()
        for desc in index["manifests"]:
            keep.add(desc["digest"])
            manifest = json.loads(self.blob(desc["digest"]))
            keep.add(manifest["config"]["digest"])
            keep.update(layer["digest"] for layer in manifest["layers"])
        for path in self.blob_dir.iterdir():
            if "sha256:" + path.name not in keep:
                path.unlink()
