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
| ``-`` | ``path`` ``/dev/stdin`` (an archive piped in; spooled once) |

syft's scheme spellings are aliases: ``oci-dir:PATH`` is ``oci:PATH``, ``registry:REF``
is a registry reference and ``docker:REF`` the Docker engine's image — but only when REF
has a ``/`` or a ``:``, because ``registry:2`` and ``docker:dind`` are also Docker Hub
images (the ``registry`` and ``docker`` repositories) and stay so.

Registry references themselves are parsed by ``sources.registry.reference``.
"""

from __future__ import annotations

import os
import re
from typing import NamedTuple

from inspector.errors import InvalidReference

TRANSPORTS = ("docker-daemon", "docker-archive", "oci-archive", "oci", "sample", "docker")
#: syft/stereoscope scheme → our transport; ``docker:``/``registry:`` only with a ``/`` or
#: ``:`` after them (see the module docstring)
ALIASES = {"oci-dir": "oci", "registry": "registry", "docker": "docker-daemon"}
STDIN = "/dev/stdin"


class Transported(NamedTuple):
    """A reference split at its transport prefix (immutable: a NamedTuple, which a process
    creates in a tenth of a frozen dataclass's time)."""

    transport: str  # registry|docker-daemon|docker-archive|oci|oci-archive|sample|path
    rest: str  # what follows the prefix
    original: str
    #: the user spelled the transport out (``docker://``, ``registry:``, ``-``, …): dive's
    #: ``--source`` must not re-route it
    explicit: bool = True


def split_transport(reference: str) -> Transported:
    ref = reference.strip()
    if not ref:
        raise InvalidReference("empty image reference", hint="give e.g. debian:12-slim or oci:DIR")
    if ref.startswith("docker://"):
        return Transported("registry", ref[len("docker://"):], reference)
    if ref == "-":
        return Transported("path", STDIN, reference)
    alias = _alias(ref)
    if alias is not None:
        return Transported(alias[0], alias[1], reference)
    for name in TRANSPORTS:
        prefix = name + ":"
        if ref.startswith(prefix) and name != "docker":
            rest = ref[len(prefix):]
            if not rest:
                raise InvalidReference(f"{reference!r}: nothing after {prefix!r}")
            return Transported(name, rest, reference)
    if os.path.exists(ref) or ref.startswith(("/", "./", "../", "~")):
        return Transported("path", os.path.expanduser(ref), reference, explicit=False)
    return Transported("registry", ref, reference, explicit=False)


def _alias(ref: str) -> tuple[str, str] | None:
    scheme, sep, rest = ref.partition(":")
    if not sep or scheme not in ALIASES or rest.startswith("//"):
        return None
    if scheme != "oci-dir" and (not any(c in rest for c in "/:@") or re.match(r"\d+/", rest)):
        return None  # registry:2, docker:dind — Docker Hub images; registry:5000/app — a host
    if not rest:
        raise InvalidReference(f"{ref!r}: nothing after {scheme + ':'!r}", where=ref)
    return ALIASES[scheme], rest


def split_path_tag(rest: str) -> tuple[str, str | None]:
    """``PATH[:TAG]`` for oci:/oci-archive:: the tag is what follows the last ``:`` when
    the whole string is not itself an existing path."""
    if os.path.exists(rest) or ":" not in rest:
        return rest, None
    path, _, tag = rest.rpartition(":")
    if not path or "/" in tag:
        return rest, None
    return path, tag or None
