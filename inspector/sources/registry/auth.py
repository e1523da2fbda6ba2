"""Registry authentication pieces: RFC 7235 challenges, token responses, and the requests
``AuthBase`` that attaches credentials only to the registry host (registry.md §2).

Why an ``AuthBase`` and not ``headers=``: requests lets ``~/.netrc`` override an
``Authorization`` header but never an ``auth=`` object, and it strips ``Authorization``
when a redirect leaves the host (blob storage, CDNs); the host check below makes sure a
token is never attached to any other host either.
"""

from __future__ import annotations

import base64
import ipaddress
import time
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import requests

from inspector.errors import AuthError

#: registries must not issue tokens shorter than this (token.md); clamp and default
MIN_TOKEN_SECONDS = 60
#: refresh a token this many seconds before it expires
TOKEN_SLACK_SECONDS = 10
#: cap on a token endpoint's response body (ggcr 64 KiB, c/image 1 MiB)
MAX_TOKEN_BODY = 1 << 20


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lowercased: bearer, basic, …
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")


_TCHAR = set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def parse_challenges(values: list[str] | str) -> list[Challenge]:
    """All challenges in one or more ``WWW-Authenticate`` values. Auth-param values may be
    tokens or quoted strings with ``\\`` escapes; commas inside quotes stay in the value."""
    if isinstance(values, str):
        values = [values]
    out: list[Challenge] = []
    for value in values:
        out.extend(_parse_one(value))
    return out


def _parse_one(text: str) -> list[Challenge]:
    out: list[Challenge] = []
    i, n = 0, len(text)
    current: Challenge | None = None

    def skip(chars: str) -> None:
        nonlocal i
        while i < n and text[i] in chars:
            i += 1

    def token() -> str:
        nonlocal i
        start = i
        while i < n and text[i] in _TCHAR:
            i += 1
        return text[start:i]

    while i < n:
        skip(" \t,")
        word = token()
        if not word:
            i += 1  # garbage: skip one character
            continue
        skip(" \t")
        if i < n and text[i] == "=" and current is not None and not text[i:].startswith("=="):
            i += 1
            skip(" \t")
            if i < n and text[i] == '"':
                i += 1
                chars: list[str] = []
                while i < n and text[i] != '"':
                    if text[i] == "\\" and i + 1 < n:
                        i += 1
                    chars.append(text[i])
                    i += 1
                i += 1
                value = "".join(chars)
            else:  # lenient: registries send unquoted URLs, which are not RFC tokens
                start = i
                while i < n and text[i] not in ", \t":
                    i += 1
                value = text[start:i]
            current.params[word.lower()] = value
            continue
        # a new challenge: scheme name (maybe followed by a token68 we ignore)
        current = Challenge(word.lower(), {})
        out.append(current)
    return out


def pick_challenge(challenges: list[Challenge]) -> Challenge | None:
    """Bearer before Basic; other schemes (Negotiate, …) are not ours."""
    for scheme in ("bearer", "basic"):
        for c in challenges:
            if c.scheme == scheme:
                return c
    return None


@dataclass
class Token:
    value: str
    expires_at: float  # time.monotonic() seconds

    def fresh(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        return now < self.expires_at - TOKEN_SLACK_SECONDS


def parse_token_response(body: dict, *, where: str, now: float | None = None,
                         wall_now: float | None = None) -> Token:
    """A token endpoint's JSON: ``token`` or ``access_token`` (``token`` wins), ``expires_in``
    defaulting to and clamped at 60 s, counted from ``issued_at`` when it is in the past."""
    if not isinstance(body, dict):
        raise AuthError(f"{where}: token endpoint returned something that is not a JSON object")
    value = body.get("token") or body.get("access_token")
    if not value or not isinstance(value, str):
        raise AuthError(f"{where}: token endpoint returned no token")
    try:
        lifetime = int(body.get("expires_in") or MIN_TOKEN_SECONDS)
    except (TypeError, ValueError, OverflowError):  # "expires_in": 1e999 is infinity
        lifetime = MIN_TOKEN_SECONDS
    lifetime = max(lifetime, MIN_TOKEN_SECONDS)
    now = time.monotonic() if now is None else now
    wall_now = time.time() if wall_now is None else wall_now
    age = 0.0
    issued = body.get("issued_at")
    if isinstance(issued, str):
        try:
            issued_ts = datetime.fromisoformat(issued.replace("Z", "+00:00")).timestamp()
            age = max(0.0, wall_now - issued_ts)  # a future issued_at (clock skew) counts as now
        except ValueError:
            pass
    return Token(value, now + lifetime - age)


def basic_header(username: str, password: str) -> str:
    raw = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def host_key(url: str) -> tuple[str, str, int]:
    """(scheme, hostname, port) with default ports filled in, for same-host checks."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port


class RegistryAuth(requests.auth.AuthBase):
    """Attach ``header`` (an ``Authorization`` value) to requests whose host and port are
    the registry's; nothing to any other host."""

    def __init__(self, base_url: str, header: str | None) -> None:
        _, self.hostname, self.port = host_key(base_url)
        self.header = header

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        _, hostname, port = host_key(request.url or "")
        if (hostname, port) == (self.hostname, self.port):
            if self.header:
                request.headers["Authorization"] = self.header
        return request


def check_realm(realm: str, registry_hostname: str, *, allow_http: bool) -> None:
    """Refuse token realms that could leak credentials or reach internal services:
    non-http(s) schemes, http unless allowed, and private/link-local IP literals unless the
    registry itself is on such an address (registry.md §8.2)."""
    parts = urlsplit(realm)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise AuthError(f"registry {registry_hostname} sent an invalid token realm {realm!r}")
    if parts.scheme == "http" and not allow_http:
        raise AuthError(f"registry {registry_hostname} wants tokens from a plain-HTTP realm "
                        f"{parts.hostname}", hint="refusing to send credentials unencrypted; "
                        "use --no-tls-verify only for a registry you trust")
    if _is_internal(parts.hostname) and not _is_internal(registry_hostname) \
            and parts.hostname != registry_hostname:
        raise AuthError(f"registry {registry_hostname} points its token realm at the internal "
                        f"address {parts.hostname}; refusing")


def _is_internal(hostname: str) -> bool:
    try:
        ip = ipaddress.ip_address(hostname.strip("[]"))
    except ValueError:
        return hostname == "localhost" or hostname.endswith(".localhost")
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
