"""Stored registry credentials, looked up the way docker/cli does (registry.md §2.3).

``$DOCKER_CONFIG/config.json`` (else ``~/.docker/config.json``): ``credHelpers[key]``, else
``credsStore``, else the plaintext ``auths[key]``. Helpers run as
``docker-credential-NAME get`` with the server URL on stdin. Docker Hub's key is
``https://index.docker.io/v1/``; other registries use ``host[:port]`` (legacy keys with a
scheme or path are matched by their host).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from inspector.errors import AuthError

DOCKER_HUB_KEY = "https://index.docker.io/v1/"
#: docker-credential-helpers' message for "nothing stored" (not an error)
NOT_FOUND_MESSAGE = "credentials not found in native keychain"
#: helpers that hang (a locked keychain waiting for a prompt) must not hang us
HELPER_TIMEOUT_SECONDS = 30
#: a helper answering this username returns an identity (refresh) token
TOKEN_USERNAME = "<token>"


@dataclass(frozen=True)
class Credentials:
    username: str = ""
    password: str = ""
    identity_token: str = ""  # OAuth2 refresh token (config `identitytoken`)
    registry_token: str = ""  # sent directly as Bearer (config `registrytoken`)
    source: str = ""  # where they came from, for error messages (never the secret)

    def __repr__(self) -> str:  # never show secrets in tracebacks or logs
        return f"Credentials(username={self.username!r}, source={self.source!r})"


def config_path() -> Path:
    base = os.environ.get("DOCKER_CONFIG")
    return (Path(base) if base else Path.home() / ".docker") / "config.json"


def auth_key(domain: str) -> str:
    """docker/cli ``getAuthConfigKey``."""
    return DOCKER_HUB_KEY if domain in ("docker.io", "index.docker.io") else domain


def _hostname_of_key(key: str) -> str:
    """docker/cli ``ConvertToHostname``: strip scheme and path."""
    if "://" in key:
        key = urlsplit(key).netloc or key
    return key.split("/", 1)[0]


def lookup(domain: str) -> Credentials | None:
    """Credentials for ``domain`` (canonical, e.g. ``docker.io``), or ``None``."""
    path = config_path()
    try:
        config = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise AuthError(f"cannot read docker credentials from {path}: {exc}",
                        hint="fix the file or pass --anonymous") from exc
    if not isinstance(config, dict):
        return None
    key = auth_key(domain)
    try:
        helpers = config.get("credHelpers") or {}
        if isinstance(helpers, dict) and helpers.get(key):
            return run_helper(str(helpers[key]), key)
        store = config.get("credsStore")
        if store:
            return run_helper(str(store), key)
        return _from_auths(config.get("auths") or {}, key, path)
    except (TypeError, AttributeError, ValueError) as exc:  # a field of the wrong shape
        raise AuthError(f"cannot read docker credentials from {path}: unexpected "
                        f"{type(exc).__name__} ({exc})",
                        hint="fix the file or pass --anonymous", where=str(path)) from exc


def _from_auths(auths: dict, key: str, path: Path) -> Credentials | None:
    entry = auths.get(key)
    if entry is None:
        host = _hostname_of_key(key)
        for k, v in auths.items():
            if _hostname_of_key(k) == host or (key == DOCKER_HUB_KEY and
                                               _hostname_of_key(k) in ("docker.io", "index.docker.io")):
                entry = v
                break
    if not isinstance(entry, dict):
        return None
    source = f"{path} (auths[{key!r}])"
    if entry.get("registrytoken"):
        return Credentials(registry_token=entry["registrytoken"], source=source)
    username, password = entry.get("username") or "", entry.get("password") or ""
    if entry.get("auth"):
        try:
            decoded = base64.b64decode(entry["auth"]).decode()
        except (ValueError, UnicodeDecodeError) as exc:
            raise AuthError(f"invalid auth entry for {key} in {path}",
                            hint="run docker login again or pass --anonymous") from exc
        username, sep, password = decoded.partition(":")
        password = password.rstrip("\x00")
        if not sep or not username:
            raise AuthError(f"invalid auth entry for {key} in {path}: no username",
                            hint="run docker login again or pass --anonymous")
    if entry.get("identitytoken"):
        return Credentials(username=username, identity_token=entry["identitytoken"], source=source)
    if not username and not password:
        return None
    return Credentials(username=username, password=password, source=source)


def run_helper(name: str, server_url: str) -> Credentials | None:
    """``docker-credential-NAME get``; ``None`` when it has nothing for this server."""
    if not name or "/" in name or any(c.isspace() for c in name):
        raise AuthError(f"invalid credential helper name {name!r} in {config_path()}")
    program = f"docker-credential-{name}"
    exe = shutil.which(program)
    source = f"credential helper {program} (from {config_path()})"
    if exe is None:
        raise AuthError(f"{source} is not on PATH",
                        hint=f"install {program}, fix {config_path()}, or pass --anonymous")
    try:
        proc = subprocess.run([exe, "get"], input=server_url.encode(), capture_output=True,
                              timeout=HELPER_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AuthError(f"{source} failed: {exc.__class__.__name__}",
                        hint="pass --anonymous to skip stored credentials") from exc
    out = proc.stdout.decode(errors="replace").strip()
    if proc.returncode != 0:
        if NOT_FOUND_MESSAGE in out or NOT_FOUND_MESSAGE in proc.stderr.decode(errors="replace"):
            return None
        raise AuthError(f"{source} exited with status {proc.returncode}",
                        hint="pass --anonymous to skip stored credentials")
    try:
        data = json.loads(out)
        username, secret = str(data.get("Username") or ""), str(data.get("Secret") or "")
    except (ValueError, AttributeError) as exc:
        raise AuthError(f"{source} printed something that is not credentials JSON") from exc
    if username == TOKEN_USERNAME:
        return Credentials(identity_token=secret, source=source)
    if not username and not secret:
        return None
    return Credentials(username=username, password=secret, source=source)
