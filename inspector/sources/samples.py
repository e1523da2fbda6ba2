"""``sample:NAME`` → one image of the bundled OCI layout (``sample_images/oci``).

The layout ships in the repository; an installed package finds it through
``INSPECTOR_SAMPLES`` or next to the source tree."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from inspector.errors import ImageNotFound
from inspector.options import Options
from inspector.sources.base import Image

REF_NAME = "org.opencontainers.image.ref.name"
DESCRIPTION = "org.opencontainers.image.description"


def layout_dir() -> Path:
    env = os.environ.get("INSPECTOR_SAMPLES")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "sample_images" / "oci"


@dataclass(frozen=True)
class Sample:
    name: str
    description: str
    compressed: int  # bytes of its blobs (layers)
    uncompressed: int  # bytes of its layer tars


def _index() -> dict:
    path = layout_dir() / "index.json"
    try:
        return json.loads(path.read_text())
    except OSError as exc:
        raise ImageNotFound(f"the bundled samples are missing ({path})",
                            hint="set INSPECTOR_SAMPLES to a sample_images/oci directory") from exc


def list_samples() -> list[Sample]:
    from inspector.sources.oci_layout import open_oci

    out = []
    for entry in _index().get("manifests", []):
        ann = entry.get("annotations") or {}
        name = ann.get(REF_NAME)
        if not name:
            continue
        image = open_oci(str(layout_dir()), name, Options(), reference=f"sample:{name}")
        compressed = sum(layer.compressed_size for layer in image.layers)
        uncompressed = sum(_gzip_isize(layer.digest) for layer in image.layers)
        out.append(Sample(name, ann.get(DESCRIPTION, ""), compressed, uncompressed))
    return out


def _gzip_isize(digest: str) -> int:
    """A single-member gzip blob's uncompressed size, from its trailer (ISIZE, RFC 1952)
    — the bundled layers are written that way, so listing needs no decompression."""
    path = layout_dir() / "blobs" / digest.replace(":", "/")
    with open(path, "rb") as f:
        if f.read(2) != b"\x1f\x8b":
            return path.stat().st_size
        f.seek(-4, 2)
        return int.from_bytes(f.read(4), "little")


def sample_names() -> list[str]:
    return [name for e in _index().get("manifests", [])
            if (name := (e.get("annotations") or {}).get(REF_NAME))]


def open_sample(name: str, options: Options, *, reference: str) -> Image:
    from inspector.sources.oci_layout import open_oci

    names = sample_names()
    if name not in names:
        raise ImageNotFound(f"no sample named {name!r}; samples: {', '.join(names)}",
                            hint="run `inspector samples`")
    image = open_oci(str(layout_dir()), name, options, reference=reference)
    image.source = "sample"
    return image
