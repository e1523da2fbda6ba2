"""Pull images from any OCI/Docker registry with ``requests`` only (no daemon).

``open_registry(ref, options, reference=...)`` parses and normalises ``ref`` (Docker Hub
rules), authenticates (Bearer tokens, Basic, docker config credentials), resolves the
manifest for ``options.platform`` and returns an ``Image`` whose layers stream from the
registry — verified, resumable, cached by digest — when opened.

Modules: ``reference`` (parsing), ``auth`` (challenges, tokens, the AuthBase),
``credentials`` (docker config + helpers), ``client`` (transport, retries, auth loop),
``blobs`` (streaming downloads), ``blobcache`` (digest-addressed cache), ``image``.
"""

from __future__ import annotations

from collections.abc import Callable

from inspector.errors import AuthError, ImageNotFound, TransportError
from inspector.options import Options
from inspector.sources.base import Image
from inspector.sources.registry.image import open_registry_image
from inspector.sources.registry.reference import RegistryRef, parse

__all__ = ["open_registry", "parse", "RegistryRef"]


def open_registry(ref: str, options: Options, *, reference: str,
                  toc_wanted: Callable[[str], bool] | None = None) -> Image:
    """Open ``ref`` (``[REGISTRY/]REPO[:TAG][@DIGEST]``) from its registry; ``reference`` is
    what the user typed (kept as ``Image.reference``); ``toc_wanted``: as
    ``open_registry_image``'s (the TOCs the caller will list are fetched at once)."""
    try:
        return open_registry_image(parse(ref), options, reference=reference,
                                   toc_wanted=toc_wanted)
    except (ImageNotFound, AuthError, TransportError) as exc:
        # --- issue 8: a bare name the registry does not have (Docker Hub answers 401 for
        # unknown repositories; offline, the registry is unreachable) may be a local build
        if reference.strip().startswith("docker://"):
            raise
        from inspector.sources.daemon import local_engine_hint

        hint = local_engine_hint(ref, options)
        if hint is None:
            raise
        raise type(exc)(exc.message, hint=hint, where=exc.where, status=exc.status) from exc
