"""``docker save`` tarballs, all three flavours (registry.md §7.1–7.2, edge cases 45–47).

- legacy (Docker ≤24): ``manifest.json`` + ``<id>/layer.tar`` + ``<id>.json`` config;
- Docker 25+ (graph-driver store): an OCI layout with uncompressed blobs + ``manifest.json``;
- containerd image store: the same, but ``manifest.json`` points at the original compressed
  blobs and the index may list platforms whose blobs were not exported.

``manifest.json`` is the entry point every flavour shares. When the archive also holds an
OCI layout, the OCI manifest whose config is the one ``manifest.json`` names is used if it
is self-consistent (Docker 25.0.0 wrote manifests without layers, moby#47065); otherwise a
manifest is synthesised from ``manifest.json`` and the config's diff_ids.

The archive is read in place by byte ranges (``sources.archive``); ``open_docker_archive_fileobj``
takes a file object (the Docker-engine source streams ``docker save`` into it).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from typing import BinaryIO

from inspector.errors import FormatError, ImageNotFound, PlatformNotFound
from inspector.oci import media_types as mt
from inspector.oci import schema
from inspector.oci.platform import DEFAULT_PLATFORM, Platform, is_attestation
from inspector.options import Options
from inspector.sources.archive import DirStore, Store, normalize, open_tar, open_tar_fileobj
from inspector.sources.base import Image, Layer
from inspector.sources.oci_layout import Chosen, Layout, parse_json, platform_of_config, sha256
from inspector.sources.streams import sniff


def _warn(message: str, *args: object) -> None:
    """A logging warning; logging is imported only then (it is ~3 ms of every start-up)."""
    import logging

    logging.getLogger(__name__).warning(message, *args)

#: c/image caps a docker-save manifest.json at 1 MiB (internal/iolimits, CVE-2020-1702)
MANIFEST_JSON_LIMIT = 1 << 20
_BLOB_NAME = re.compile(r"^blobs/sha256/([a-f0-9]{64})$")
_SNIFFED_TYPES = {"tar": mt.DOCKER_LAYER, "gzip": mt.DOCKER_LAYER_GZIP, "zstd": mt.OCI_LAYER_ZSTD}


def normalize_name(name: str) -> str:
    """Docker's familiar → full name: ``busybox`` == ``docker.io/library/busybox:latest``."""
    name = name.strip()
    last = name.rsplit("/", 1)[-1]
    if ":" not in last and "@" not in last:
        name += ":latest"
    first, sep, rest = name.partition("/")
    if not sep or ("." not in first and ":" not in first and first != "localhost"):
        first, rest = "docker.io", name
    if first in ("index.docker.io", "registry-1.docker.io"):
        first = "docker.io"
    if first == "docker.io" and "/" not in rest:
        rest = "library/" + rest
    return f"{first}/{rest}"


def split_archive_reference(path: str, tag: str | None) -> tuple[str, str | None]:
    """``docker-archive:FILE:busybox:latest`` arrives split at the last ``:``; re-split at
    the first ``:`` after which the path exists (skopeo's ``PATH[:REFERENCE]``)."""
    if tag is None or os.path.exists(path):
        return path, tag
    combined = f"{path}:{tag}"
    for i, ch in enumerate(combined):
        if ch == ":" and os.path.exists(combined[:i]):
            return combined[:i], combined[i + 1:] or None
    return path, tag


def select_item(items: list[dict], tag: str | None, *, where: str) -> dict:
    """The ``manifest.json`` entry for ``tag`` (a repo tag, normalised, or ``@N``)."""
    def tags_present() -> str:
        tags = [t for item in items for t in item.get("RepoTags") or []]
        return ", ".join(tags) or "none"

    if tag is not None and tag.startswith("@") and tag[1:].isdigit():
        n = int(tag[1:])
        if n >= len(items):
            raise ImageNotFound(f"{where}: no image @{n}; the archive holds {len(items)}", where=where)
        return items[n]
    if tag is not None:
        wanted = normalize_name(tag)
        for item in items:
            if any(normalize_name(t) == wanted for t in item.get("RepoTags") or []):
                return item
        raise ImageNotFound(f"{where}: no image tagged {tag!r}; tags present: {tags_present()}",
                            hint="give one of them, e.g. docker-archive:FILE:NAME:TAG", where=where)
    if len(items) == 1:
        return items[0]
    raise ImageNotFound(f"{where}: holds {len(items)} images; tags: {tags_present()}",
                        hint="choose one with docker-archive:FILE:NAME:TAG or docker-archive:FILE:@N", where=where)


def open_docker_archive(path: str, tag: str | None, options: Options, *, reference: str) -> Image:
    """``docker-archive:PATH[:NAME[:TAG]]``: a ``docker save`` tarball (optionally gzipped)
    or the directory it was extracted to."""
    path, tag = split_archive_reference(path, tag)
    if os.path.isdir(path):
        store: Store = DirStore(path)
    else:
        store = open_tar(path, options.resolved_cache_dir() / "tmp")
    return open_docker_store(store, tag, options, reference=reference, source="docker-archive")


def open_docker_archive_fileobj(fileobj: BinaryIO, tag: str | None, options: Options, *, reference: str,
                                where: str = "docker save stream", source: str = "docker-archive") -> Image:
    """A ``docker save`` tar from a file object: read in place when seekable and
    uncompressed, else spooled once under the cache directory (removed by ``Image.close``)."""
    store = open_tar_fileobj(fileobj, options.resolved_cache_dir() / "tmp", where=where)
    return open_docker_store(store, tag, options, reference=reference, source=source)


def open_docker_store(store: Store, tag: str | None, options: Options, *, reference: str,
                      source: str) -> Image:
    """The image ``tag`` of a docker-save archive held in ``store``; closes it on error."""
    try:
        if not store.exists("manifest.json"):
            hint = ("it is an OCI layout: use oci-archive:" if store.exists("oci-layout")
                    else "expected the output of docker save")
            raise FormatError(f"{store.where}: not a docker save archive (no manifest.json)", hint=hint, where=store.where)
        items = schema.parse(store.read("manifest.json", limit=MANIFEST_JSON_LIMIT),
                             schema.docker_manifest_json, where=f"{store.where}: manifest.json")
        item = select_item(items, tag, where=store.where)
        image = None
        if store.exists("oci-layout") and store.exists("index.json"):
            image = _from_oci_layout(store, item, options, reference=reference, source=source)
        return image or _from_manifest_json(store, item, reference=reference, source=source)
    except BaseException:
        store.close()
        raise


# --- Docker 25+ / containerd: the OCI manifest, when it is consistent --------------------

def _manifests(layout: Layout) -> list[tuple[dict, str | None, list[str]]]:
    """Every image manifest the layout's index reaches: (descriptor, platform, missing blob
    names). Missing manifests/indexes appear with themselves as missing."""
    found: list[tuple[dict, str | None, list[str]]] = []

    def walk(entries: list, platform: str | None, depth: int) -> None:
        for e in entries:
            if not isinstance(e, dict) or is_attestation(e) or depth > 8:
                continue
            p = str(Platform.from_descriptor(e["platform"])) if e.get("platform") else platform
            name = layout.blob_name(e.get("digest"))
            if not layout.store.exists(name):
                found.append((e, p, [name]))
                continue
            kind, doc = schema.parse_manifest(layout.read_blob(e, what="manifest"),
                                              where=f"{layout.where}: {name}")
            if mt.is_index(kind):
                walk(doc["manifests"], p, depth + 1)
            elif mt.is_manifest(kind):
                blobs = [doc["config"].get("digest")] + [d.get("digest") for d in doc.get("layers") or []]
                missing = [layout.blob_name(b) for b in blobs if not layout.has_blob(b)]
                found.append((e, p, missing))
    walk(layout.index()["manifests"], None, 0)
    return found


def _from_oci_layout(store: Store, item: dict, options: Options, *, reference: str, source: str) -> Image | None:
    """The image from the archive's OCI layout, or ``None`` to fall back to manifest.json.

    manifest.json names one image (one platform). If ``--platform`` asks for another one
    that the index holds completely (containerd multi-platform saves), that one is opened;
    if the index lists it but its blobs were not exported, that is an error naming them —
    unless the request is just the default platform, when the present image is taken."""
    layout = Layout(store)
    wanted = options.platform
    config_match = _BLOB_NAME.match(normalize(item["Config"]))
    config_digest = "sha256:" + config_match[1] if config_match else None
    own: Chosen | None = None
    others: list[Chosen] = []
    incomplete: list[list[str]] = []
    for desc, platform, missing in _manifests(layout):
        if missing:
            if platform and Platform.parse(platform) == wanted:
                incomplete.append(missing)
            continue
        chosen = layout.resolve(desc, wanted, platform=platform)
        if config_digest and chosen.doc["config"].get("digest") == config_digest and own is None:
            own = chosen
        elif platform and Platform.parse(platform) == wanted:
            others.append(chosen)
    own_platform = (own.platform if own and own.platform else
                    platform_of_config(parse_json(store.read(normalize(item["Config"]), what="config"),
                                                  what=f"{store.where}: config")))
    if Platform.parse(own_platform) != wanted:
        if others:
            return layout.image(others[0], reference=reference, source=source, closer=store.close)
        if incomplete and wanted != DEFAULT_PLATFORM:
            raise PlatformNotFound(
                f"{store.where}: the image for {wanted} was not exported completely; missing "
                f"{', '.join(incomplete[0][:5])}",
                hint=f"save the image with that platform's content, or use --platform {own_platform}", where=store.where)
    if own is None:
        return None
    if _consistent(layout, own, item):
        return layout.image(own, reference=reference, source=source, closer=store.close)
    _warn("%s: OCI manifest %s disagrees with manifest.json (moby#47065); using manifest.json",
                store.where, own.descriptor.get("digest"))
    return None


def _consistent(layout: Layout, chosen: Chosen, item: dict) -> bool:
    """The OCI manifest names the same layer blobs, in order, as manifest.json, with sizes
    that match the files (Docker 25.0.0 got layers, order and sizes wrong)."""
    descs = chosen.doc.get("layers") or []
    names = [normalize(n) for n in item["Layers"]]
    if len(descs) != len(names):
        return False
    for desc, name in zip(descs, names, strict=True):
        m = _BLOB_NAME.match(name)
        if m and desc.get("digest") != "sha256:" + m[1]:
            return False
        if not layout.has_blob(desc.get("digest")) or layout.store.size(layout.blob_name(desc["digest"])) != desc.get("size"):
            return False
    return True


# --- legacy (and the fallback): synthesise a manifest from manifest.json ------------------

def _from_manifest_json(store: Store, item: dict, *, reference: str, source: str) -> Image:
    config_name = normalize(item["Config"])
    config_bytes = store.read(config_name, what="config")
    config = parse_json(config_bytes, what=f"{store.where}: {config_name}")
    diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
    names = [normalize(n) for n in item["Layers"]]
    if len(names) != len(diff_ids):
        raise FormatError(f"{store.where}: manifest.json lists {len(names)} layers but the config has "
                          f"{len(diff_ids)} diff_ids", hint="the archive is inconsistent; re-export it", where=store.where)
    layers = [_layer(store, name, diff_id) for name, diff_id in zip(names, diff_ids, strict=True)]
    manifest = {
        "schemaVersion": 2,
        "mediaType": mt.DOCKER_MANIFEST,
        "config": {"mediaType": mt.DOCKER_CONFIG, "size": len(config_bytes), "digest": sha256(config_bytes)},
        "layers": [{"mediaType": la.media_type, "size": la.compressed_size, "digest": la.digest} for la in layers],
    }
    manifest_bytes = json.dumps(manifest, separators=(",", ":")).encode()
    return Image(reference=reference, source=source, manifest_digest=sha256(manifest_bytes),
                 manifest_bytes=manifest_bytes, config_bytes=config_bytes, layers=layers,
                 platform=platform_of_config(config), media_type=mt.DOCKER_MANIFEST,
                 annotations={}, closer=store.close)


def _layer(store: Store, name: str, diff_id: str) -> Layer:
    """A layer file of manifest.json. Its digest is derived, not computed, whenever it can
    be: a ``blobs/sha256/<hex>`` name is its digest; an uncompressed tar's digest is its
    diff_id. Only a compressed file under another name is hashed here."""
    if not store.exists(name):
        raise ImageNotFound(f"{store.where}: layer file {name} named in manifest.json is missing",
                            hint="the archive is incomplete; re-export the image", where=store.where)
    size = store.size(name)
    kind = sniff(store.head(name, 8))
    media_type = _SNIFFED_TYPES.get(kind)
    if media_type is None:
        from inspector.errors import UnsupportedMediaType
        raise UnsupportedMediaType(f"{store.where}: layer {name} is {kind}-compressed, which is not supported", where=store.where)
    m = _BLOB_NAME.match(name)
    if m:
        digest = "sha256:" + m[1]
    elif kind == "tar":
        digest = diff_id
    else:
        h = hashlib.sha256()
        with store.open(name) as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        digest = "sha256:" + h.hexdigest()
    return Layer(digest=digest, diff_id=diff_id, media_type=media_type, compressed_size=size,
                 opener=lambda: store.open(name))
