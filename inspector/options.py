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
            return Path(self.cache_dir)
        import platformdirs

        return Path(platformdirs.user_cache_dir("inspector"))
