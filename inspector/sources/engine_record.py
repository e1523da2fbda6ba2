"""The engine record: what a ``docker save`` said about an image (exact manifest and
config bytes, layer descriptors), kept as a framed ``inspector.cache`` entry under
``<cache>/daemon/``, keyed by the engine's image Id, so that a warm open of a
``docker-daemon:`` image needs no save (see ``sources.daemon``).

The Id is content-addressed (the config digest for podman and Docker's graph-driver
store, the manifest/index digest for the containerd store), so the same Id means the same
bytes; a record is still checked against itself and the engine's ``RootFS.Layers``.
"""

from __future__ import annotations

import json

from inspector import cache
from inspector.cache import CacheDir
from inspector.options import Options
from inspector.sources.base import Image, sha256_digest


def records(options: Options) -> CacheDir | None:
    """The records' cache directory; ``None`` without a usable cache."""
    root = cache.usable_dir(options)
    return None if root is None else CacheDir.of(root, "daemon")


def store(options: Options, info: dict, image: Image) -> None:
    """Keep what a cold open of ``info['Id']`` read (never fails: a cache only saves time)."""
    entries = records(options)
    if entries is None or not str(info.get("Id", "")):
        return
    record = {
        "id": info["Id"], "manifest_digest": image.manifest_digest,
        "media_type": image.media_type, "platform": image.platform, "annotations": image.annotations,
        "layers": [{"digest": la.digest, "diff_id": la.diff_id, "media_type": la.media_type,
                    "compressed_size": la.compressed_size} for la in image.layers],
        "sizes": [len(image.manifest_bytes), len(image.config_bytes)],
    }
    entries.write(str(info["Id"]), record, [image.manifest_bytes, image.config_bytes])


def load(options: Options, info: dict) -> dict | None:
    """The skeleton for ``info['Id']`` if present and self-consistent: manifest and config
    bytes hash to what the record says, and its diff_ids are the engine's ``RootFS.Layers``."""
    entries = records(options)
    key = str(info.get("Id", ""))
    got = entries.read(key) if entries is not None and key else None
    if got is None:
        return None
    record, body = got
    try:
        n_manifest, _ = record["sizes"]
        manifest, config = bytes(body[:n_manifest]), bytes(body[n_manifest:])
        doc = json.loads(manifest)
        ok = (record["id"] == info["Id"] and sha256_digest(manifest) == record["manifest_digest"]
              and doc["config"]["digest"] == sha256_digest(config)
              and [la["diff_id"] for la in record["layers"]] == list((info.get("RootFS") or {}).get("Layers") or [])
              and [la["diff_id"] for la in record["layers"]] == json.loads(config)["rootfs"]["diff_ids"])
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        if entries is not None:
            entries.discard(key)
        return None
    record["manifest"], record["config"] = manifest, config
    return record
