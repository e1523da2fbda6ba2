"""Options common to every command (see the architecture page: image reference forms).

This module imports no cache code: where the cache is usable is ``cache.usable_dir``, and
the size cap of a root reaches ``cache_admin`` through ``CACHE_CAPS``."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from inspector.oci.platform import DEFAULT_PLATFORM, Platform

#: the size cap (bytes; None: the default) each cache root was resolved with in this
#: process, read by ``cache_admin.cap``: the first user of a root may be a spool or the
#: blob cache, which only see its path
CACHE_CAPS: dict[str, int | None] = {}


@dataclass
class Options:
    platform: Platform = DEFAULT_PLATFORM
    tls_verify: bool = True
    ca_cert: Path | None = None
    anonymous: bool = False
    cache_dir: Path | None = None  # None: platformdirs user cache dir
    no_cache: bool = False
    #: size cap of the cache, bytes (None: ``cache_admin.DEFAULT_MAX``)
    cache_max: int | None = None
    quiet: bool = False
    #: dive's ``--source docker|podman|docker-archive`` (engine selection for bare names)
    engine: str | None = None
    #: ``--platform`` was given: an image for another platform is an error, even when the
    #: reference names a single-platform image (as skopeo)
    platform_required: bool = False
    #: registry network timeout in seconds (connect, and idle while reading); blob bodies
    #: must also keep up a minimum rate (``sources.registry.client``)
    timeout: float = 30.0
    #: ``--full``: pull every layer whole (verifying its diff_id) even when a table of
    #: contents could list it (``index.from_toc``)
    full: bool = False
    cancel: threading.Event = field(default_factory=threading.Event)

    def resolved_cache_dir(self) -> Path:
        """The cache root (``cache_dir``, else the user cache directory), its cap noted."""
        if self.cache_dir:
            root = Path(self.cache_dir)
        else:
            import platformdirs

            root = Path(platformdirs.user_cache_dir("inspector"))
        CACHE_CAPS[str(root)] = self.cache_max
        return root
