"""One registry, one repository: transport, authentication, retries (registry.md §2, §6, §8).

Thread-safe: each thread gets its own ``requests.Session`` (sessions are not safe to share
across threads); tokens live in a dict guarded by a lock, one token per scope. Credentials
are attached by ``auth.RegistryAuth`` (registry host only; ``.netrc`` cannot override it;
requests strips it on cross-host redirects).
"""

from __future__ import annotations

import json
import random
import threading
import time
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
import urllib3

from inspector.errors import AuthError, Cancelled, RateLimited, TransportError
from inspector.options import Options
from inspector.sources.registry import credentials as creds_mod
from inspector.sources.registry.auth import (
    MAX_TOKEN_BODY,
    Challenge,
    RegistryAuth,
    Token,
    basic_header,
    check_realm,
    parse_challenges,
    parse_token_response,
    pick_challenge,
)
from inspector.sources.registry.helpers import HelperThreads
from inspector.sources.registry.pace import paced_session, read_body
from inspector.sources.registry.reference import RegistryRef, is_loopback_host

#: requests has no timeout by default: connect and read (idle) timeouts are both
#: ``Options.timeout`` (``--timeout``); a response head must be complete within it and
#: bodies keep a minimum rate (``pace``)
#: attempts for 5xx/408/connection errors; backoff doubles from BACKOFF_SECONDS
MAX_ATTEMPTS = 4
BACKOFF_SECONDS = 0.5
#: 429: wait at most this long per Retry-After, and at most this many times; a longer
#: Retry-After fails at once (Docker Hub's window is hours)
MAX_RETRY_AFTER_SECONDS = 30
MAX_RATE_LIMIT_WAITS = 3
RETRY_STATUSES = frozenset({408, 500, 502, 503, 504, 522})
USER_AGENT = "inspector (+requests)"
#: cap on error bodies we read to find an error code
MAX_ERROR_BODY = 1 << 20


def _sleep(seconds: float, cancel: threading.Event) -> None:
    if cancel.wait(seconds):
        raise Cancelled()


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def error_codes(resp: requests.Response, *, window: float = 30.0) -> list[str]:
    """The distribution error codes in a response body (``NAME_UNKNOWN``, …); none when
    the body is unreadable, too slow (``window``: see ``pace``) or not the usual JSON."""
    try:
        body = (read_body(resp, MAX_ERROR_BODY, window=window, what="error body")
                if resp.raw else resp.content)
        doc = json.loads(body)
        return [str(e.get("code", "")) for e in doc.get("errors") or [] if isinstance(e, dict)]
    except (ValueError, AttributeError, TypeError, OSError, requests.RequestException,
            TransportError, RecursionError):
        return []


class RegistryClient(HelperThreads):
    """Talks to ``ref.host`` about ``ref.path`` only."""

    def __init__(self, ref: RegistryRef, options: Options, *, session_factory=requests.Session) -> None:
        self.ref = ref
        self.options = options
        self.session_factory = session_factory
        self.verify: bool | str = str(options.ca_cert) if options.ca_cert else options.tls_verify
        self.timeout = (options.timeout, options.timeout)  # (connect, idle read), seconds
        self._local = threading.local()
        self._lock = threading.RLock()  # token fetch reads credentials under it
        self._tokens: dict[str, Token] = {}
        self._challenge: Challenge | None = None
        self._base: str | None = None
        self._creds: creds_mod.Credentials | None = None
        self._creds_loaded = False
        self._warmed = None  # HelperThreads: warm()'s queue, until submit() takes it
        self.token_requests = 0  # for tests and diagnostics

    # -- plumbing -------------------------------------------------------------------------
    @property
    def session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = paced_session(self.session_factory())
            s.headers["User-Agent"] = USER_AGENT
            self._local.session = s
        return s

    def credentials(self) -> creds_mod.Credentials | None:
        if not self._creds_loaded:
            with self._lock:
                if not self._creds_loaded:
                    self._creds = None if self.options.anonymous else creds_mod.lookup(self.ref.domain)
                    self._creds_loaded = True
        return self._creds

    @property
    def base(self) -> str:
        if self._base is None:
            with self._lock:
                if self._base is None:
                    self._base = self._ping()
        return self._base

    def url(self, path: str) -> str:
        return f"{self.base}/v2/{self.ref.path}/{path}"

    def _ping(self) -> str:
        """``GET /v2/`` to find the scheme and the auth challenge: https, then plain http for
        loopback registries or with tls_verify off. A loopback registry is first asked once
        over plain http (the connection not retried): most loopback ones speak it (tests,
        local mirrors), and the https attempt costs a TLS context (~50 ms loading the CA
        bundle) and a refused handshake on every open. A TLS one answers it with 400 (or
        hangs up); then the usual order, whose https error is the one reported."""
        plain = self.ref.is_loopback()
        if plain:
            base = f"http://{self.ref.host}"
            try:
                resp = self._send("GET", base + "/v2/", headers={}, auth=None, stream=True,
                                  retry_connect=False)
            except TransportError:
                pass
            else:
                if self._answered(resp):
                    return base
        return self._probe(["https", "http"] if plain or not self.options.tls_verify
                           else ["https"])

    def _answered(self, resp: requests.Response) -> bool:
        """Whether the answer to ``/v2/`` is a registry's (200, or 401 with its challenge,
        kept); the body is drained either way."""
        status = resp.status_code
        if status == 401:
            self._challenge = pick_challenge(self._www_authenticate(resp))
        with resp:
            _drain(resp, self.options.timeout)
        return status in (200, 401)

    def _probe(self, schemes: list[str]) -> str:
        """The first of ``schemes`` that answers ``/v2/``; a later one only after an earlier
        one failed to connect, and only when it answers as a registry."""
        first_error: Exception | None = None
        for scheme in schemes:
            base = f"{scheme}://{self.ref.host}"
            try:
                # streamed, so that its body is read under the pace rule
                resp = self._send("GET", base + "/v2/", headers={}, auth=None, stream=True)
            except TransportError as exc:
                first_error = first_error or exc
                continue
            if not self._answered(resp) and first_error is not None:
                raise first_error  # e.g. http to a TLS port: "400 client sent HTTP to HTTPS"
            return base
        assert first_error is not None
        raise first_error

    @staticmethod
    def _www_authenticate(resp: requests.Response) -> list[Challenge]:
        # urllib3's headers keep repeated fields apart (requests joins them with ", ")
        getlist = getattr(getattr(resp.raw, "headers", None), "getlist", None)
        values = getlist("WWW-Authenticate") if getlist is not None else []
        if not values and resp.headers.get("WWW-Authenticate"):
            values = [resp.headers["WWW-Authenticate"]]
        return parse_challenges(values)

    def _send(self, method: str, url: str, *, headers: dict, auth, stream: bool,
              allow_redirects: bool = True, retry_connect: bool = True) -> requests.Response:
        """One request with retries for connection errors (unless ``retry_connect`` is off)
        and 5xx (not for 401/429)."""
        cancel = self.options.cancel
        host = urlsplit(url).netloc
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if cancel.is_set():
                raise Cancelled()
            try:
                resp = self.session.request(method, url, headers=headers, auth=auth, stream=stream,
                                            timeout=self.timeout, verify=self.verify,
                                            allow_redirects=allow_redirects)
            except requests.exceptions.SSLError as exc:
                raise TransportError(
                    f"TLS verification failed talking to {host}",
                    hint="pass --ca-cert FILE for a private CA, or --no-tls-verify for a registry "
                         "you trust") from exc
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt == MAX_ATTEMPTS or _is_dns_failure(exc) or not retry_connect:
                    raise TransportError(_connection_message(host, exc, attempt),
                                         hint="check the registry name and your network",
                                         where=_redact(url)) from exc
                _sleep(BACKOFF_SECONDS * 2 ** (attempt - 1) * (1 + random.random() / 10), cancel)
                continue
            except requests.TooManyRedirects as exc:
                raise TransportError(f"{host} redirected {method} {_redact(url)} in a loop",
                                     hint="the registry or a proxy is misconfigured",
                                     where=_redact(url)) from exc
            except (requests.RequestException, urllib3.exceptions.HTTPError, ValueError) as exc:
                # anything else requests/urllib3 raise on a hostile answer (bad Location,
                # invalid headers, …) is still a failure talking to the registry
                raise TransportError(f"{host} sent an invalid answer to {method} {_redact(url)} "
                                     f"({type(exc).__name__})", where=_redact(url)) from exc
            if resp.status_code in RETRY_STATUSES and attempt < MAX_ATTEMPTS:
                resp.close()
                _sleep(BACKOFF_SECONDS * 2 ** (attempt - 1) * (1 + random.random() / 10), cancel)
                continue
            if resp.status_code in RETRY_STATUSES:
                resp.close()
                raise TransportError(f"{host} answered HTTP {resp.status_code} to {method} "
                                     f"{_redact(url)} {attempt} times",
                                     hint="the registry is having trouble; try again later",
                                     where=_redact(url), status=resp.status_code)
            return resp
        raise AssertionError("unreachable")

    # -- the request loop -----------------------------------------------------------------
    def request(self, method: str, url: str, *, headers: dict | None = None,
                stream: bool = False, what: str) -> requests.Response:
        """``method url`` with auth (one re-auth per request) and 429 handling. Returns any
        response that is not 401/403/429/5xx; callers map 404 and others."""
        headers = dict(headers or {})
        reauthed = False
        waits = 0
        base = self.base
        while True:
            header = self._auth_header()
            resp = self._send(method, url, headers=headers, auth=RegistryAuth(base, header),
                              stream=stream)
            status = resp.status_code
            if status == 401 and not reauthed:
                self._on_401(resp, sent=header)
                resp.close()
                reauthed = True
                continue
            if status in (401, 403):
                resp.close()
                raise self._denied(status, what)
            if status == 429:
                delay = _retry_after(resp.headers.get("Retry-After"))
                limits = _ratelimit_headers(resp)
                resp.close()
                if waits < MAX_RATE_LIMIT_WAITS and (delay is None or delay <= MAX_RETRY_AFTER_SECONDS):
                    waits += 1
                    _sleep(delay if delay is not None else 2.0 * 2 ** waits, self.options.cancel)
                    continue
                raise RateLimited(
                    f"{self.ref.host} rate-limited {what} (HTTP 429{'; ' + limits if limits else ''})",
                    hint="wait and retry later; logging in (docker login) raises the limit",
                    where=what, status=429)
            return resp

    def _auth_header(self) -> str | None:
        creds = self.credentials()
        if creds and creds.registry_token:
            return f"Bearer {creds.registry_token}"
        challenge = self._challenge
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            if creds and (creds.username or creds.password):
                return basic_header(creds.username, creds.password)
            return None
        token = self._token_for(self.ref.scope)
        return f"Bearer {token.value}" if token else None

    def _on_401(self, resp: requests.Response, *, sent: str | None) -> None:
        challenge = pick_challenge(self._www_authenticate(resp)) or self._challenge
        if challenge is None:
            raise AuthError(f"{self.ref.host} refused {self.ref.name} (HTTP 401) without saying how "
                            "to authenticate")
        with self._lock:
            self._challenge = challenge
            if challenge.scheme == "bearer":
                self._tokens.pop(self.ref.scope, None)
        if challenge.scheme == "basic" and not (self.credentials() or sent):
            raise AuthError(f"{self.ref.host} requires a login to pull {self.ref.name}",
                            hint=f"run docker login {self.ref.domain}")

    def _denied(self, status: int, what: str) -> AuthError:
        creds = self.credentials()
        if creds:
            return AuthError(f"{self.ref.host} denied {what} (HTTP {status}) with the credentials "
                             f"from {creds.source}",
                             hint="check them (docker login), or pass --anonymous for a public image",
                             where=what, status=status)
        return AuthError(f"{self.ref.host} denied {what} (HTTP {status}) to an anonymous client",
                         hint=f"the repository may be private or not exist; "
                              f"run docker login {self.ref.domain} if you have access",
                         where=what, status=status)

    def _token_for(self, scope: str) -> Token | None:
        with self._lock:
            token = self._tokens.get(scope)
            if token is not None and token.fresh():
                return token
            challenge = self._challenge
            if challenge is None or challenge.scheme != "bearer":
                return None
            token = self._fetch_token(challenge, scope)
            self._tokens[scope] = token
            return token

    def _fetch_token(self, challenge: Challenge, scope: str) -> Token:
        realm = challenge.realm
        if not realm:
            raise AuthError(f"{self.ref.host} sent a Bearer challenge without a realm")
        check_realm(realm, self.ref.hostname,
                    allow_http=(self._base or "").startswith("http:") or not self.options.tls_verify
                    or is_loopback_host(urlsplit(realm).hostname or ""))
        scopes = [scope]
        extra = challenge.params.get("scope")
        if extra and extra not in scopes:
            scopes.insert(0, extra)
        params = ([("service", challenge.params["service"])] if "service" in challenge.params else [])
        params += [("scope", s) for s in scopes]
        creds = self.credentials()
        realm_host = urlsplit(realm).netloc
        where = f"token service {realm_host} for {self.ref.name}"
        self.token_requests += 1
        try:
            if creds and creds.identity_token:
                resp = self._oauth_refresh(realm, params, creds)
            else:
                auth = ((creds.username, creds.password) if creds and creds.username else None)
                resp = self.session.get(realm, params=params, auth=auth or _NO_NETRC, timeout=self.timeout,
                                        verify=self.verify, allow_redirects=False, stream=True)
        except requests.exceptions.SSLError as exc:
            raise TransportError(f"TLS verification failed talking to {realm_host}",
                                 hint="pass --ca-cert FILE for a private CA") from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransportError(_connection_message(realm_host, exc, 1), where=realm_host) from exc
        except (requests.RequestException, urllib3.exceptions.HTTPError, ValueError) as exc:
            raise TransportError(f"the {where} sent an invalid answer ({type(exc).__name__})",
                                 where=realm_host) from exc
        with resp:
            if resp.status_code in (401, 403) and creds:
                raise AuthError(f"the {where} rejected the credentials from {creds.source} "
                                f"(HTTP {resp.status_code})",
                                hint="they may be stale: run docker login again, or pass "
                                     "--anonymous to pull a public image without them",
                                where=realm_host, status=resp.status_code)
            if resp.status_code != 200:
                raise AuthError(f"the {where} answered HTTP {resp.status_code}",
                                hint="check the image name and your access to it",
                                where=realm_host, status=resp.status_code)
            body = read_body(resp, MAX_TOKEN_BODY, window=self.options.timeout, what=f"the {where}")
        if len(body) > MAX_TOKEN_BODY:
            raise AuthError(f"the {where} sent an oversized response")
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise AuthError(f"the {where} sent a response that is not JSON", where=realm_host) from exc
        return parse_token_response(doc, where=where)

    def _oauth_refresh(self, realm: str, params: list, creds) -> requests.Response:
        """OAuth2 refresh-token grant (identity tokens); GET with Basic on 404 (oauth.md)."""
        form = {"grant_type": "refresh_token", "refresh_token": creds.identity_token,
                "client_id": "inspector"}
        form.update({k: v for k, v in params if k == "service"})
        form["scope"] = " ".join(v for k, v in params if k == "scope")
        resp = self.session.post(realm, data=form, auth=_NO_NETRC, timeout=self.timeout,
                                 verify=self.verify, allow_redirects=False, stream=True)
        if resp.status_code not in (404, 405):
            return resp
        resp.close()
        return self.session.get(realm, params=params,
                                auth=(creds.username or "<token>", creds.identity_token),
                                timeout=self.timeout, verify=self.verify, allow_redirects=False, stream=True)


def _drain(resp: requests.Response, window: float) -> None:
    """Read a small body to its end (closing a socket with unread bytes resets the
    connection); one too big, slow or broken is left to the close."""
    try:
        read_body(resp, MAX_ERROR_BODY, window=window, what="the answer to /v2/")
    except TransportError:
        pass


class _NoAuth(requests.auth.AuthBase):
    """An explicit "no credentials", so requests does not consult ``~/.netrc``."""

    def __call__(self, request):
        return request


_NO_NETRC = _NoAuth()


def _redact(url: str) -> str:
    """Drop query strings (signed URLs carry secrets there)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _ratelimit_headers(resp: requests.Response) -> str:
    names = ("ratelimit-limit", "ratelimit-remaining", "docker-ratelimit-source")
    return ", ".join(f"{n}: {resp.headers[n]}" for n in names if n in resp.headers)


def _is_dns_failure(exc: Exception) -> bool:
    text = str(exc)
    return "Name or service not known" in text or "NameResolution" in text or "getaddrinfo" in text


def _connection_message(host: str, exc: Exception, attempts: int) -> str:
    if _is_dns_failure(exc):
        return f"cannot resolve registry host {host}"
    suffix = f" after {attempts} attempts" if attempts > 1 else ""
    kind = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
    return f"{kind} talking to {host}{suffix}"
