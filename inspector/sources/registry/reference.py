"""Registry references, normalised exactly like distribution/reference (registry.md §1).

``ubuntu`` → ``docker.io/library/ubuntu:latest`` (API host ``registry-1.docker.io``);
the first path component is a domain when it is ``localhost`` or contains ``.``/``:`` or
an uppercase letter; ``library/`` is added only on Docker Hub; ``name:tag@digest`` pulls
by the digest (the tag is informational).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from inspector.errors import InvalidReference

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"

PATH_RE = re.compile(rf"^{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*$")
DOMAIN_RE = re.compile(rf"^{_DOMAIN}$")
TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
DIGEST_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$")
#: encoded lengths of the algorithms we can verify; uppercase hex is never valid
KNOWN_DIGESTS = {"sha256": 64, "sha512": 128}
_HEX64 = re.compile(r"^[a-f0-9]{64}$")

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
#: distribution/reference RepositoryNameTotalLengthMax (checked on the path, no domain)
MAX_PATH = 255


@dataclass(frozen=True)
class RegistryRef:
    """A parsed registry reference. ``tag`` is ``None`` only when a digest is given."""

    domain: str  # canonical: docker.io, ghcr.io, localhost:5000, [::1]:5000
    path: str  # library/ubuntu, org/app
    tag: str | None
    digest: str | None

    @property
    def host(self) -> str:
        """``host[:port]`` the API lives on (Docker Hub's differs from its name)."""
        return DOCKER_HUB_API if self.domain == DOCKER_HUB else self.domain

    @property
    def hostname(self) -> str:
        """The host without port or IPv6 brackets."""
        host = self.host
        if host.startswith("["):
            return host[1:host.index("]")]
        return host.rsplit(":", 1)[0] if ":" in host else host

    @property
    def scope(self) -> str:
        """Token scope for pulling (always the normalised path, registry.md §1.5)."""
        return f"repository:{self.path}:pull"

    @property
    def name(self) -> str:
        return f"{self.domain}/{self.path}"

    @property
    def pull_ref(self) -> str:
        """What to ask the registry for: the digest if given, else the tag."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text

    def is_loopback(self) -> bool:
        return is_loopback_host(self.hostname)


def is_loopback_host(hostname: str) -> bool:
    """``localhost``, ``*.localhost``, 127.0.0.0/8 and ::1 — the only hosts spoken to over
    plain HTTP without ``--no-tls-verify``."""
    name = hostname.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _bad(text: str, why: str, hint: str | None = None) -> InvalidReference:
    return InvalidReference(
        f"invalid image reference {text!r}: {why}",
        hint=hint or "use [REGISTRY/]REPOSITORY[:TAG][@DIGEST], e.g. debian:12-slim", where=text,
    )


def check_digest(digest: str, text: str) -> str:
    if not DIGEST_RE.match(digest):
        raise _bad(text, f"malformed digest {digest!r}")
    algo, _, encoded = digest.partition(":")
    if encoded != encoded.lower():
        raise _bad(text, "digest hex must be lowercase")
    want = KNOWN_DIGESTS.get(algo)
    if want is not None and len(encoded) != want:
        raise _bad(text, f"{algo} digest must have {want} hex characters, not {len(encoded)}")
    return digest


def parse(text: str) -> RegistryRef:
    """Parse and normalise a registry reference (``docker://`` already stripped)."""
    ref = text.strip()
    if not ref:
        raise _bad(text, "empty")
    if _HEX64.match(ref):
        raise _bad(text, "a bare 64-hex string looks like an image ID",
                   hint="pull by digest with REPOSITORY@sha256:…")
    name, digest = ref, None
    if "@" in ref:
        name, _, digest = ref.partition("@")
        check_digest(digest, text)
    tag = None
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1:]
        if not TAG_RE.match(tag):
            raise _bad(text, f"invalid tag {tag!r} (letters, digits, _ . -; at most 128; "
                             "not starting with . or -)")
    domain, path = _split_domain(name, text)
    if not PATH_RE.match(path):
        why = ("repository name must be lowercase" if path.lower() != path
               else f"invalid repository path {path!r}")
        raise _bad(text, why)
    if len(path) > MAX_PATH:
        raise _bad(text, f"repository path longer than {MAX_PATH} characters")
    if tag is None and digest is None:
        tag = "latest"
    return RegistryRef(domain, path, tag, digest)


def _split_domain(name: str, text: str) -> tuple[str, str]:
    """distribution/reference ``splitDockerDomain``."""
    first, sep, rest = name.partition("/")
    if sep and (first == "localhost" or "." in first or ":" in first or first != first.lower()):
        if not DOMAIN_RE.match(first):
            raise _bad(text, f"invalid registry host {first!r}")
        domain, path = first, rest
    else:
        domain, path = DOCKER_HUB, name
    if domain == "index.docker.io":
        domain = DOCKER_HUB
    if domain == DOCKER_HUB and "/" not in path:
        path = "library/" + path
    return domain, path
