"""Reference → ``Image`` from a registry: manifests, platform choice, config, lazy layers.

Tags are resolved with ``HEAD`` (free on Docker Hub, registry.md §6.3); the manifest is
then read by digest — from the cache when we have it, so reopening an image needs no
counted pull and, with cached blobs, no network beyond the HEAD. Manifests are hashed over
the exact bytes received and checked against the digest asked for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from inspector.errors import (
    DigestMismatch,
    FormatError,
    ImageNotFound,
    SizeMismatch,
    UnsupportedMediaType,
)
from inspector.oci import media_types as mt
from inspector.oci import schema
from inspector.oci.platform import Platform, choose_manifest
from inspector.options import Options
from inspector.sources.base import Image, Layer
from inspector.sources.registry.blobcache import BlobCache
from inspector.sources.registry.blobs import open_blob, read_small_blob
from inspector.sources.registry.chunked import TocError, announced
from inspector.sources.registry.client import RegistryClient, error_codes
from inspector.sources.registry.pace import read_body
from inspector.sources.registry.reference import RegistryRef
from inspector.sources.registry.toc import BrokenToc, RemoteToc

#: the CNCF registry refuses larger manifests (registry.md §3.4)
MAX_MANIFEST = 4 << 20
MAX_CONFIG = 8 << 20
#: index → index → manifest nesting we follow
MAX_NESTING = 4
SCHEMA1_HINT = ("Docker image manifest v2 schema 1 is no longer supported (removed from Docker "
                "28.2); ask the image's author to push it again with a current tool")


def digest_of(data: bytes, like: str = "sha256:") -> str:
    algo = like.partition(":")[0] or "sha256"
    try:
        return f"{algo}:{hashlib.new(algo, data).hexdigest()}"
    except ValueError as exc:
        raise DigestMismatch(f"cannot verify digest algorithm {algo!r}") from exc


class ManifestFetcher:
    def __init__(self, client: RegistryClient, cache: BlobCache) -> None:
        self.client, self.cache = client, cache

    def resolve(self, ref: RegistryRef) -> tuple[bytes, str, str]:
        """(bytes, media type, digest) of what ``ref`` names (an index or a manifest)."""
        if ref.digest:
            return self.by_digest(ref.digest, where=str(ref))
        digest = self.head(ref.tag or "latest")
        if digest:
            return self.by_digest(digest, where=str(ref))
        return self.get(ref.tag or "latest", expect=None, where=str(ref))

    def head(self, tag: str) -> str | None:
        resp = self.client.request("HEAD", self.client.url(f"manifests/{tag}"),
                                   headers={"Accept": mt.MANIFEST_ACCEPT}, what=f"{self.client.ref.name}:{tag}")
        with resp:
            if resp.status_code != 200:  # a GET says why (HEAD has no error body)
                return None
            digest = resp.headers.get("Docker-Content-Digest", "")
        return digest if schema.DIGEST.match(digest) else None

    def by_digest(self, digest: str, *, where: str) -> tuple[bytes, str, str]:
        data = self.cache.get_bytes(digest, MAX_MANIFEST)
        if data is not None:
            return data, _media_type(data, None, where), digest
        data, media_type, got = self.get(digest, expect=digest, where=where)
        self.cache.put_bytes(digest, data)
        return data, media_type, got

    def get(self, name: str, *, expect: str | None, where: str) -> tuple[bytes, str, str]:
        resp = self.client.request("GET", self.client.url(f"manifests/{name}"),
                                   headers={"Accept": mt.MANIFEST_ACCEPT}, stream=True, what=where)
        with resp:
            if resp.status_code == 404:
                raise self._not_found(resp, where)
            if resp.status_code != 200:
                raise FormatError(f"{where}: registry answered HTTP {resp.status_code} for the manifest", where=where,
                                  status=resp.status_code)
            data = read_body(resp, MAX_MANIFEST, window=self.client.options.timeout,
                             what=f"{where}: manifest")
            header_digest = resp.headers.get("Docker-Content-Digest", "")
            content_type = resp.headers.get("Content-Type", "")
        if len(data) > MAX_MANIFEST:
            raise SizeMismatch(f"{where}: manifest larger than {MAX_MANIFEST} bytes", where=where)
        media_type = _media_type(data, content_type, where)
        got = digest_of(data, expect or "sha256:")
        if expect and got != expect:
            raise DigestMismatch(f"{where}: manifest hashes to {got}, expected {expect}",
                                 hint="the registry or a proxy altered it; do not trust this image", where=where)
        if header_digest and ":" in header_digest:
            check = digest_of(data, header_digest) if header_digest.split(":")[0] in ("sha256", "sha512") else None
            if check and check != header_digest:
                raise DigestMismatch(f"{where}: manifest hashes to {check}, registry says {header_digest}", where=where)
        return data, media_type, digest_of(data)

    def _not_found(self, resp, where: str) -> ImageNotFound:
        codes = error_codes(resp, window=self.client.options.timeout)
        host = self.client.ref.host
        if "NAME_UNKNOWN" in codes:
            return ImageNotFound(f"repository {self.client.ref.path} not found on {host}",
                                 hint="check the image name", where=where, status=404)
        return ImageNotFound(f"{where}: no such tag or digest on {host}",
                             hint="check the tag; list tags with skopeo list-tags", where=where,
                             status=404)


def _media_type(data: bytes, content_type: str | None, where: str) -> str:
    """The manifest's media type; its shape is validated here (``oci.schema``)."""
    declared = (content_type or "").split(";")[0].strip()
    if declared in mt.SCHEMA1_TYPES:
        raise UnsupportedMediaType(f"{where}: schema 1 manifest", hint=SCHEMA1_HINT, where=where)
    sniffed, doc = schema.parse_manifest(data, where=f"{where}: manifest")
    if sniffed in mt.SCHEMA1_TYPES:
        raise UnsupportedMediaType(f"{where}: schema 1 manifest", hint=SCHEMA1_HINT, where=where)
    if sniffed is None:
        raise FormatError(f"{where}: ambiguous manifest (has both manifests and layers)", where=where)
    if doc.get("mediaType") and declared in (mt.INDEX_TYPES | mt.MANIFEST_TYPES) \
            and doc["mediaType"] != declared:
        raise FormatError(f"{where}: manifest says {doc['mediaType']} but was served as {declared}", where=where)
    return sniffed


def open_registry_image(ref: RegistryRef, options: Options, *, reference: str,
                        client: RegistryClient | None = None,
                        toc_wanted: Callable[[str], bool] | None = None) -> Image:
    """The image ``ref`` names. ``toc_wanted(toc_digest)``: whether the caller will list
    that layer from its TOC (its index is not cached, not ``--full``); those TOCs are
    fetched from here on, in threads, while the config is (``RemoteToc.prefetch``)."""
    client = client or RegistryClient(ref, options)
    cache = BlobCache(options.resolved_cache_dir(), writable=not options.no_cache)
    fetcher = ManifestFetcher(client, cache)
    where = str(ref)
    if toc_wanted is not None and not ref.digest:
        # a tag: resolving it goes to the registry anyway; a TOC may then be fetched
        # beside the config, so a helper connects while the manifest is asked for
        client.warm()
    data, media_type, digest = fetcher.resolve(ref)
    for _ in range(MAX_NESTING):
        if not mt.is_index(media_type):
            break
        doc = schema.parse(data, schema.index, where=f"{where}: index")
        entry = choose_manifest(doc["manifests"], options.platform, where=where)
        data, media_type, digest = fetcher.by_digest(entry["digest"], where=f"{where} ({entry['digest']})")
    if not mt.is_manifest(media_type):
        raise UnsupportedMediaType(f"{where}: {media_type} is not an image manifest", where=where)
    manifest = schema.parse(data, schema.manifest, where=f"{where}: manifest")
    cfg = manifest["config"]
    cfg_type = cfg.get("mediaType", "")
    if cfg_type not in mt.CONFIG_TYPES:
        kind = manifest.get("artifactType") or cfg_type or "unknown"
        raise UnsupportedMediaType(f"{where}: not a container image (artifact type {kind})", where=where)
    descriptors = manifest.get("layers") or []
    tocs = [_toc(client, d, where) for d in descriptors]
    for toc in tocs:
        if toc is not None and toc_wanted is not None and toc_wanted(toc.digest):
            toc.prefetch()
    config_bytes = read_small_blob(client, cache, cfg["digest"], cfg.get("size"), limit=MAX_CONFIG,
                                   what=f"config {cfg['digest']} of {where}")
    config = schema.parse(config_bytes, schema.config, where=f"{where}: config {cfg['digest']}")
    diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
    if len(diff_ids) != len(descriptors):
        raise FormatError(f"{where}: {len(descriptors)} layers but {len(diff_ids)} diff_ids in its config", where=where)
    layers = [_layer(client, cache, d, diff_id, toc, where)
              for d, diff_id, toc in zip(descriptors, diff_ids, tocs, strict=True)]
    platform = Platform(str(config.get("os") or "linux"), str(config.get("architecture") or "amd64"),
                        str(config.get("variant") or "")).normalized()
    return Image(reference=reference, source="registry", manifest_digest=digest, manifest_bytes=data,
                 config_bytes=config_bytes, layers=layers, platform=str(platform), media_type=media_type,
                 annotations=dict(manifest.get("annotations") or {}))


def _toc(client: RegistryClient, desc: dict, where: str) -> RemoteToc | BrokenToc | None:
    digest, size = desc["digest"], desc["size"]  # both validated by schema.manifest
    return remote_toc(client, digest, size, desc.get("mediaType", ""),
                      desc.get("annotations") or {}, what=f"layer {digest} of {where}")


def _layer(client: RegistryClient, cache: BlobCache, desc: dict, diff_id: str,
           toc: RemoteToc | BrokenToc | None, where: str) -> Layer:
    digest, size = desc["digest"], desc["size"]
    what = f"layer {digest} of {where}"

    def opener():
        return open_blob(client, cache, digest, size, what=what)

    return Layer(digest=digest, diff_id=diff_id, media_type=desc.get("mediaType", ""),
                 compressed_size=size, opener=opener, urls=tuple(desc.get("urls") or ()),
                 recheck=lambda: cache.recheck(digest), toc=toc)


def remote_toc(client: RegistryClient, digest: str, size: int, media_type: str,
               annotations: dict, *, what: str) -> RemoteToc | BrokenToc | None:
    """The TOC a layer descriptor announces (None: none); a malformed announcement is a
    ``BrokenToc``, which fails when read, so the indexer falls back with a notice. Here,
    above both formats: ``estargz`` builds on ``toc``, so ``toc`` does not import it."""
    from inspector.sources.registry import estargz

    try:
        place = announced(media_type, annotations, size, what)
        stargz = estargz.announced(media_type, annotations, what)
        if place is None and stargz is not None:
            return estargz.EstargzToc(client, digest, size, stargz, what=what)
    except TocError as exc:
        return BrokenToc(exc)
    return RemoteToc(client, digest, size, place, what=what) if place else None
