"""Split an image reference into its transport and the rest (skopeo-style transports).

| form | transport |
| --- | --- |
| ``REGISTRY/REPO[:TAG][@DIGEST]``, ``docker://…``, ``debian:12-slim`` | ``registry`` |
| ``docker-daemon:NAME[:TAG]`` | ``docker-daemon`` |
| ``docker-archive:PATH`` | ``docker-archive`` |
| ``oci:PATH[:TAG]`` | ``oci`` |
| ``oci-archive:PATH[:TAG]`` | ``oci-archive`` |
| ``sample:NAME`` | ``sample`` |
| an existing path | ``path`` (detected by content: directory → oci, tar → by its files) |

Registry references themselves are parsed by ``sources.registry.reference``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from inspector.errors import InvalidReference

TRANSPORTS = ("docker-daemon", "docker-archive", "oci-archive", "oci", "sample", "docker")


@dataclass(frozen=True)
class Transported:
    transport: str  # registry|docker-daemon|docker-archive|oci|oci-archive|sample|path
    rest: str  # what follows the prefix
    original: str


def split_transport(reference: str) -> Transported:
    ref = reference.strip()
    if not ref:
        raise InvalidReference("empty image reference", hint="give e.g. debian:12-slim or oci:DIR")
    if ref.startswith("docker://"):
        return Transported("registry", ref[len("docker://"):], reference)
    for name in TRANSPORTS:
        prefix = name + ":"
        if ref.startswith(prefix) and name != "docker":
            rest = ref[len(prefix):]
            if not rest:
                raise InvalidReference(f"{reference!r}: nothing after {prefix!r}")
            return Transported(name, rest, reference)
    if os.path.exists(ref) or ref.startswith(("/", "./", "../", "~")):
        return Transported("path", os.path.expanduser(ref), reference)
    return Transported("registry", ref, reference)


def split_path_tag(rest: str) -> tuple[str, str | None]:
    """``PATH[:TAG]`` for oci:/oci-archive:: the tag is what follows the last ``:`` when
    the whole string is not itself an existing path."""
    if os.path.exists(rest) or ":" not in rest:
        return rest, None
    path, _, tag = rest.rpartition(":")
    if not path or "/" in tag:
        return rest, None
    return path, tag or None
