"""Options common to every command (see the architecture page: image reference forms)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from inspector.oci.platform import DEFAULT_PLATFORM, Platform


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
    cancel: threading.Event = field(default_factory=threading.Event)

    def resolved_cache_dir(self) -> Path:
        if self.cache_dir:
            root = Path(self.cache_dir)
        else:
            import platformdirs

            root = Path(platformdirs.user_cache_dir("inspector"))
        from inspector import cache_admin

        cache_admin.set_cap(root, self.cache_max)
        return root

    def usable_cache_dir(self) -> Path | None:
        """The cache root when caching is on and the directory can be used (else ``None``,
        after one warning line: the run goes on without the cache)."""
        if self.no_cache:
            return None
        from inspector import cache

        root = self.resolved_cache_dir()
        return root if cache.usable(root) else None

    def has_index(self, diff_id: str) -> bool:
        """Whether the layer index of ``diff_id`` is cached (the predicate sources use to
        skip work, e.g. a ``docker save``, without importing the indexer)."""
        root = self.usable_cache_dir()
        if root is None or not diff_id:
            return False
        from inspector.index.cache import IndexCache

        return IndexCache(root).has(diff_id)
