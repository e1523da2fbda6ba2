"""``inspector fit IMAGE --build oci:DIR[:TAG]`` (or ``docker-archive:FILE[:NAME:TAG]``):
write the fitted image.

Layers: the chosen base's, as they are (blobs copied and verified on the way), then one
layer with the application's files (``FitResult.app_files``) and the libraries to copy
(``Candidate.copy``), read from the current image's layers. Config: the base's, with the
original's Entrypoint/Cmd (what ran through a shell or ``env`` runs directly), Env (over
the base's), WorkingDir and ExposedPorts, and ``User nonroot`` where the base has that user.

Reproducible: the same inputs give the same digests (tar entries sorted, mtime 0,
numeric owners, gzip with mtime 0, JSON with sorted keys, ``created`` 1970-01-01).
A docker-archive holds uncompressed layers (what ``docker save`` writes), so every
``docker load`` reads it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import posixpath
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inspector.analysis import Analysis
from inspector.catalog.fspath import Resolver
from inspector.errors import OutputError
from inspector.fit.entry import FitError, env_of
from inspector.fit.files import ImageFiles
from inspector.fit.model import FitResult
from inspector.fit.render import entry_and_cmd
from inspector.index.entries import DIR, FILE, HARDLINK, SYMLINK
from inspector.oci import media_types as mt
from inspector.report.sizes import human
from inspector.sources.streams import verifying
from inspector.visible import visible

EPOCH = "1970-01-01T00:00:00Z"
REF_NAME = "org.opencontainers.image.ref.name"
#: layer media types as an OCI manifest spells them
OCI_TYPES = {mt.DOCKER_LAYER_GZIP: mt.OCI_LAYER_GZIP, mt.DOCKER_LAYER: mt.OCI_LAYER}
CHUNK = 1 << 20


@dataclass
class Target:
    transport: str  # oci | docker-archive
    path: str
    tag: str  # the ref name (oci) or NAME:TAG (docker-archive)

    def __str__(self) -> str:
        return f"{self.transport}:{self.path}:{self.tag}"


@dataclass
class Built:
    target: Target
    digest: str  # the manifest's
    layers: int
    app_layer_bytes: int  # the new layer's tar
    app_files: int


def parse_target(spec: str) -> Target:
    """``oci:DIR[:TAG]`` (TAG default ``latest``) or ``docker-archive:FILE[:NAME:TAG]``."""
    transport, sep, rest = spec.partition(":")
    if not sep or transport not in ("oci", "docker-archive") or not rest:
        raise OutputError(f"--build {spec}: write oci:DIR[:TAG] or docker-archive:FILE[:NAME:TAG]")
    if transport == "oci":
        path, _, tag = rest.partition(":")
        return Target("oci", path, tag or "latest")
    path, _, name = rest.partition(":")
    if name and ":" not in name:
        name += ":latest"
    return Target("docker-archive", path, name or "fitted:latest")


#: told as the base's blobs are copied: (layers done, layers, compressed bytes done, of
#: compressed bytes); a whole layer at a time for a docker-archive (it is decompressed)
Progress = Callable[[int, int, int, int], None]


def build(current: Analysis, base: Analysis, result: FitResult, spec: str, *,
          progress: Progress | None = None) -> Built:
    """Write the fitted image of ``result`` (its chosen base is ``base``) to ``spec``."""
    target = parse_target(spec)
    if result.chosen is None:
        raise FitError(f"{result.reference}: no candidate base fits, so there is nothing to "
                       "build", hint="see what each base is missing; add one with --base REF")
    tar, count = app_layer(current, base, result)
    config = _config(current, base, result, hashlib.sha256(tar).hexdigest())
    copied = _Copied(base, progress)
    if target.transport == "oci":
        digest = _write_oci(target, base, tar, config, result, copied)
    else:
        digest = _write_docker(target, base, tar, config, copied)
    return Built(target, digest, len(base.image.layers) + 1, len(tar), count)


def fetch_notice(base: Analysis) -> str | None:
    """What to say before the base's layers are copied when some were listed from their
    table of contents (a few ranged requests): the image being written holds their blobs,
    so those are fetched whole now — how many layers, how many bytes. None otherwise."""
    listed = [layer for layer, index in zip(base.image.layers, base.layers, strict=True)
              if index.toc_digest]
    if not listed:
        return None
    size = human(sum(layer.compressed_size for layer in listed))
    which = (f"its {len(listed)} layers" if len(listed) == len(base.layers)
             else f"{len(listed)} of its {len(base.layers)} layers")
    return visible(f"base {base.reference}: {which} ({size}) were listed from their table of "
                   "contents; fetching them whole for the image being written")


class _Copied:
    """Counts the base's blob bytes copied for ``Progress``."""

    def __init__(self, base: Analysis, progress: Progress | None) -> None:
        self.progress = progress
        self.layers = len(base.image.layers)
        self.total = sum(layer.compressed_size for layer in base.image.layers)
        self.done_layers = self.done = 0

    def bytes(self, n: int) -> None:
        self.done += n
        if self.progress:
            self.progress(self.done_layers, self.layers, self.done, self.total)

    def layer(self, size: int, counted: int) -> None:
        """A layer of ``size`` compressed bytes is written (``counted`` of them were told
        through ``bytes``: none when its blob was there already, or for a docker-archive)."""
        self.done_layers += 1
        self.bytes(size - counted)


# -- the application's layer ---------------------------------------------------------------

def app_layer(current: Analysis, base: Analysis, result: FitResult) -> tuple[bytes, int]:
    """The tar of the application's files and the copied libraries (uncompressed) and the
    number of non-directory entries in it."""
    fs, chosen = current.fs, result.chosen
    assert chosen is not None
    in_base = Resolver(base.fs)
    here = Resolver(fs)
    # path in the new image → path in the current image whose content or link it takes
    wanted: dict[str, str] = {}
    for path in result.app_files:
        wanted[path] = path
    for src, dest in chosen.copy:
        wanted[dest] = here.resolve(src) or src  # the library's content, not its link
    reads = [src for src in wanted.values() if fs.kind(src) in (FILE, HARDLINK)]
    contents = ImageFiles(current.image, fs).read_many(reads)
    members: dict[str, tuple[tarfile.TarInfo, bytes | None]] = {}
    for dest, src in wanted.items():
        name = (in_base.parent_resolved(dest) or dest).lstrip("/")
        kind = fs.kind(src)
        info = _info(name, fs, src)
        if kind in (FILE, HARDLINK):
            data = contents.get(src)
            if data is None:
                raise FitError(f"{current.reference}: {src} cannot be copied into the new image "
                               "(not readable, or larger than 256 MiB)")
            info.type, info.size = tarfile.REGTYPE, len(data)
            members[name] = (info, data)
        elif kind == SYMLINK and in_base.directory("/" + name) != "/" + name:
            # (never over a directory of the base: /lib -> usr/lib would hide its /lib)
            info.type, info.linkname = tarfile.SYMTYPE, fs.target(src) or ""
            members[name] = (info, None)
    files = len(members)
    for name in list(members):
        parent = posixpath.dirname(name)
        while parent and parent not in members and in_base.directory("/" + parent) is None:
            real_dir = "/" + parent in fs.entries and fs.kind("/" + parent) == DIR
            info = _info(parent, fs, "/" + parent if real_dir else "")
            info.type = tarfile.DIRTYPE
            members[parent] = (info, None)
            parent = posixpath.dirname(parent)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(members):
            info, data = members[name]
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue(), files


def _info(name: str, fs, path: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mtime, info.uname, info.gname = 0, "", ""
    if path in fs.entries:
        info.mode = fs.mode(path) & 0o7777
        info.uid, info.gid = fs.owner(path)
    else:
        info.mode, info.uid, info.gid = 0o755, 0, 0
    return info


# -- config, manifest ------------------------------------------------------------------------

def _config(current: Analysis, base: Analysis, result: FitResult, diff_hex: str) -> dict:
    config = json.loads(base.image.config_bytes)
    c = dict(config.get("config") or {})
    env = {**env_of(base.config), **env_of(current.config)}
    c["Env"] = [f"{k}={v}" for k, v in env.items()]
    entry, cmd = entry_and_cmd(result)
    for key, value in (("Entrypoint", entry), ("Cmd", cmd)):
        if value:
            c[key] = value
        else:
            c.pop(key, None)
    original = current.config.get("config") or {}
    if result.workdir:
        c["WorkingDir"] = result.workdir
    if original.get("ExposedPorts"):
        c["ExposedPorts"] = original["ExposedPorts"]
    if result.chosen is not None and result.chosen.nonroot:
        c["User"] = "nonroot"
    config["config"] = c
    config["created"] = EPOCH
    diff_ids = [layer.diff_id for layer in base.image.layers] + ["sha256:" + diff_hex]
    config["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
    history = [{"created": EPOCH, "created_by": s} for s in base.image.created_by()]
    history.append({"created": EPOCH, "created_by": (
        f"inspector fit --build: {len(result.app_files)} application files of "
        f"{result.reference}, {len(result.chosen.copy) if result.chosen else 0} copied libraries")})
    config["history"] = history
    return config


def _dumps(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def _blob_name(digest: str) -> str:
    return "blobs/sha256/" + digest.removeprefix("sha256:")


class _Blobs:
    """Blobs written under ``root`` (``blobs/sha256/HEX``), each through a temp file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)

    def put(self, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        path = self.root / _blob_name(digest)
        if not (path.is_file() and path.stat().st_size == len(data)):
            self._atomic(path, lambda f: f.write(data))
        return digest

    def put_stream(self, stream, digest: str) -> None:
        path = self.root / _blob_name(digest)
        if path.is_file():
            return
        self._atomic(path, lambda f: shutil.copyfileobj(stream, f, CHUNK))

    @staticmethod
    def _atomic(path: Path, write) -> None:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _write_oci(target: Target, base: Analysis, tar: bytes, config: dict,
               result: FitResult, copied: _Copied) -> str:
    root = Path(target.path)
    _check_layout_dir(root)
    try:
        blobs = _Blobs(root)
        layers = []
        for layer in base.image.layers:
            before = copied.done
            with verifying(layer.open_compressed(), layer.digest, layer.compressed_size,
                           what=f"{base.reference}: layer {layer.digest}",
                           on_bytes=copied.bytes) as stream:
                blobs.put_stream(stream, layer.digest)
            copied.layer(layer.compressed_size, copied.done - before)
            layers.append({"mediaType": OCI_TYPES.get(layer.media_type, layer.media_type),
                           "digest": layer.digest, "size": layer.compressed_size})
        app_blob = gzip.compress(tar, compresslevel=6, mtime=0)
        layers.append({"mediaType": mt.OCI_LAYER_GZIP, "digest": blobs.put(app_blob),
                       "size": len(app_blob)})
        config_bytes = _dumps(config)
        manifest = {"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST,
                    "config": {"mediaType": mt.OCI_CONFIG, "digest": blobs.put(config_bytes),
                               "size": len(config_bytes)},
                    "layers": layers,
                    "annotations": {"org.opencontainers.image.base.name": result.chosen.from_ref
                                    if result.chosen else "",
                                    "org.opencontainers.image.base.digest":
                                        base.image.manifest_digest}}
        manifest_bytes = _dumps(manifest)
        digest = blobs.put(manifest_bytes)
        _write_index(root, target.tag, {"mediaType": mt.OCI_MANIFEST, "digest": digest,
                                        "size": len(manifest_bytes),
                                        "platform": _platform(config)})
    except OSError as exc:
        raise OutputError(f"--build {target}: cannot write the layout: {exc.strerror or exc}"
                          ) from exc
    return digest


def _platform(config: dict) -> dict:
    out = {"architecture": str(config.get("architecture") or "amd64"),
           "os": str(config.get("os") or "linux")}
    if config.get("variant"):
        out["variant"] = str(config["variant"])
    return out


def _check_layout_dir(root: Path) -> None:
    if root.exists() and not root.is_dir():
        raise OutputError(f"--build oci:{root}: exists and is not a directory",
                          hint="name a new directory or an OCI layout")
    if root.is_dir() and any(root.iterdir()) and not (root / "oci-layout").is_file():
        raise OutputError(f"--build oci:{root}: the directory is not empty and not an OCI "
                          "layout", hint="name a new directory or an OCI layout")


def _write_index(root: Path, tag: str, desc: dict) -> None:
    index_path = root / "index.json"
    manifests = []
    if index_path.is_file():
        try:
            manifests = list(json.loads(index_path.read_bytes()).get("manifests") or [])
        except (ValueError, AttributeError) as exc:
            raise OutputError(f"--build oci:{root}: its index.json is not valid JSON") from exc
    manifests = [m for m in manifests if (m.get("annotations") or {}).get(REF_NAME) != tag]
    manifests.append({**desc, "annotations": {REF_NAME: tag}})
    index = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": manifests}
    _Blobs._atomic(root / "oci-layout", lambda f: f.write(b'{"imageLayoutVersion":"1.0.0"}'))
    _Blobs._atomic(index_path, lambda f: f.write(_dumps(index)))


def _write_docker(target: Target, base: Analysis, tar: bytes, config: dict,
                  copied: _Copied) -> str:
    """A ``docker save`` archive (Docker 25's shape: manifest.json over an OCI layout),
    layers uncompressed."""
    dest = Path(target.path)
    if dest.is_dir():
        raise OutputError(f"--build docker-archive:{dest}: is a directory")
    parent = dest.parent if str(dest.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{dest.name}.tmp-")
    except OSError as exc:
        raise OutputError(f"--build {target}: cannot write there: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w",
                                                      format=tarfile.PAX_FORMAT) as out:
            layer_names = []
            with tempfile.TemporaryDirectory(dir=parent, prefix=".fit-layers-") as work:
                for i, layer in enumerate(base.image.layers):
                    spool = Path(work) / str(i)
                    with layer.open_uncompressed() as src, spool.open("wb") as f:
                        shutil.copyfileobj(src, f, CHUNK)
                    name = _blob_name(layer.diff_id)
                    if name not in layer_names:
                        with spool.open("rb") as f:
                            _add(out, name, f, spool.stat().st_size)
                    layer_names.append(name)
                    spool.unlink()
                    copied.layer(layer.compressed_size, 0)
            app = _blob_name(config["rootfs"]["diff_ids"][-1])
            _add(out, app, io.BytesIO(tar), len(tar))
            layer_names.append(app)
            config_bytes = _dumps(config)
            config_digest = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
            _add(out, _blob_name(config_digest), io.BytesIO(config_bytes), len(config_bytes))
            manifest = [{"Config": _blob_name(config_digest), "RepoTags": [target.tag],
                         "Layers": layer_names}]
            data = _dumps(manifest)
            _add(out, "manifest.json", io.BytesIO(data), len(data))
        os.replace(tmp, dest)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"--build {target}: cannot write the archive: {exc.strerror or exc}"
                          ) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return config_digest


def _add(out: tarfile.TarFile, name: str, f, size: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.uname, info.gname = size, 0, 0o644, "", ""
    out.addfile(info, f)
