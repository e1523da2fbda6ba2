"""A bare path → the right local source, by content rather than by name:

- a directory with ``oci-layout`` → OCI layout; one with ``manifest.json`` → an extracted
  ``docker save``;
- a file that is a tar (optionally gzip/zstd-compressed) → ``docker save`` archive when it
  has ``manifest.json`` (Docker 25+ archives also hold an OCI layout: manifest.json wins, as
  it names the tagged image), else an oci-archive when it has ``oci-layout``.
"""

from __future__ import annotations

import os

from inspector.errors import FormatError, ImageNotFound
from inspector.options import Options
from inspector.sources.archive import DirStore, open_tar
from inspector.sources.base import Image
from inspector.sources.docker_archive import open_docker_store
from inspector.sources.oci_layout import open_layout

_WHAT = "expected an OCI layout directory, an oci-archive or a docker save tarball"


def open_path(path: str, options: Options, *, reference: str) -> Image:
    """Open the image at ``path`` (no tag: the archive or layout must hold one image, or
    one per platform)."""
    if not os.path.exists(path):
        raise ImageNotFound(f"{path}: no such file or directory",
                            hint="give an existing path, or a registry reference like debian:12-slim", where=path)
    if os.path.isdir(path):
        directory = DirStore(path)
        if directory.exists("oci-layout"):
            return open_layout(directory, None, options, reference=reference, source="oci")
        if directory.exists("manifest.json"):
            return open_docker_store(directory, None, options, reference=reference, source="docker-archive")
        raise FormatError(f"{path}: directory is not an image (no oci-layout or manifest.json)", hint=_WHAT, where=path)
    store = open_tar(path, options.resolved_cache_dir() / "tmp")
    if store.exists("manifest.json"):
        return open_docker_store(store, None, options, reference=reference, source="docker-archive")
    if store.exists("oci-layout"):
        return open_layout(store, None, options, reference=reference, source="oci-archive")
    store.close()
    raise FormatError(f"{path}: archive holds neither manifest.json nor oci-layout", hint=_WHAT, where=path)
