"""Real servers for the registry tests, all on loopback:

- ``RegistryProcess``: the CNCF distribution registry (``docker-registry serve``), any auth;
- ``TokenServer``: a token service issuing real JWTs (RS256, ``x5c`` chain to a test CA),
  the Bearer flow Docker Hub and gcr.io use (distribution ``registry/auth/token``);
- ``static_registry.StaticRegistry`` (its own module): documents the real registry would
  refuse to store;
- ``FaultProxy``: forwards to a registry and injects faults (cut connections, statuses,
  corrupted bytes, redirects, redirect loops, ignored Range, headers then a stalled body,
  a body or a status line and headers trickled a byte at a time, rewritten ``Link``
  headers), recording every request's headers.
"""

from __future__ import annotations

import base64
import datetime
import http.client
import json
import os
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from tests.locks import listens

#: how long a server may take to accept connections before the fixture fails
START_TIMEOUT_SECONDS = 20


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class PortTaken(RuntimeError):
    """The server could not bind its port: another process took it after ``free_port``."""


def wait_for_port(host: str, port: int, proc: subprocess.Popen | None = None) -> None:
    """Poll until ``host:port`` accepts a connection (the server is up) and, given the
    server's ``proc``, until that process is the one listening there (``locks.listens``:
    in a parallel run another worker's server may hold a port picked free just before)."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            err = proc.stderr.read().decode()[-2000:] if proc.stderr else ""
            kind = PortTaken if "address already in use" in err else RuntimeError
            raise kind(f"server exited with {proc.returncode}: {err}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                if proc is None or listens(proc.pid, port):
                    return
        except OSError:
            pass
        time.sleep(0.05)  # polling a condition, not synchronising on time
    raise RuntimeError(f"nothing listening on {host}:{port} after {START_TIMEOUT_SECONDS}s")


class RegistryProcess:
    """``docker-registry serve`` with a generated config; ``auth``/``tls`` are config dicts."""

    def __init__(self, workdir: Path, storage: Path, *, auth: dict | None = None,
                 tls: dict | None = None) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        for attempt in range(3):  # a port lost to another process is picked again
            self.port = free_port()
            config = {"version": 0.1, "log": {"level": "error", "accesslog": {"disabled": True}},
                      "storage": {"filesystem": {"rootdirectory": str(storage)}},
                      "http": {"addr": f"127.0.0.1:{self.port}", "secret": uuid.uuid4().hex}}
            if tls:
                config["http"]["tls"] = tls
            if auth:
                config["auth"] = auth
            path = workdir / "config.yml"
            path.write_text(json.dumps(config))  # JSON is YAML
            self.proc = subprocess.Popen(["docker-registry", "serve", str(path)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                wait_for_port("127.0.0.1", self.port, self.proc)
                break
            except PortTaken:
                if attempt == 2:
                    raise
        # drain its stderr: a full pipe (64 kB of warnings after a few dozen pushes) would
        # block the registry mid-request
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()
        self.host = f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class _Server(ThreadingHTTPServer):
    daemon_threads = True


def _serve(handler_cls, host: str, state) -> tuple[_Server, int]:
    handler = type("Handler", (handler_cls,), {"state": state})
    server = _Server((host, 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


# --- token service -------------------------------------------------------------------------

def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class TokenState:
    signer_key: object  # cryptography RSA private key
    chain: list[str]  # x5c: base64 DER, leaf first
    issuer: str = "test-issuer"
    users: dict[str, str] = field(default_factory=lambda: {"alice": "wonderland"})
    response_key: str = "token"  # "token" | "access_token" | "both"
    expires_in: int | None = 300
    requests: list[dict] = field(default_factory=list)

    def jwt(self, service: str, subject: str, access: list[dict]) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": self.chain}
        claims = {"iss": self.issuer, "sub": subject, "aud": service, "exp": now + 600,
                  "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        sig = self.signer_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(sig)}"


class _TokenHandler(BaseHTTPRequestHandler):
    state: TokenState

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        query = parse_qsl(urlsplit(self.path).query)
        service = next((v for k, v in query if k == "service"), "")
        scopes = [v for k, v in query if k == "scope"]
        subject = ""
        auth = self.headers.get("Authorization", "")
        self.state.requests.append({"scopes": scopes, "service": service, "authorization": auth})
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            if self.state.users.get(user) != password:
                self._reply(401, {"details": "bad credentials"})
                return
            subject = user
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            allowed = actions.split(",") if subject else [a for a in actions.split(",") if a == "pull"]
            access.append({"type": kind, "name": name, "actions": allowed})
        token = self.state.jwt(service, subject, access)
        body: dict = {}
        if self.state.response_key in ("token", "both"):
            body["token"] = token
        if self.state.response_key in ("access_token", "both"):
            body["access_token"] = token
        if self.state.expires_in is not None:
            body["expires_in"] = self.state.expires_in
        body["issued_at"] = datetime.datetime.now(datetime.UTC).isoformat()
        self._reply(200, body)

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class TokenServer:
    """Signs with the leaf of a trustme RSA CA; the registry trusts ``root_pem``."""

    def __init__(self, workdir: Path) -> None:
        import trustme

        ca = trustme.CA(key_type=trustme.KeyType.RSA)
        leaf = ca.issue_cert("token-signer.test", key_type=trustme.KeyType.RSA)
        key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), password=None)
        cert = x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes())
        chain = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
        workdir.mkdir(parents=True, exist_ok=True)
        self.root_pem = workdir / "token-root.pem"
        ca.cert_pem.write_to_path(str(self.root_pem))
        self.state = TokenState(key, chain)
        self.server, self.port = _serve(_TokenHandler, "127.0.0.1", self.state)
        self.realm = f"http://127.0.0.1:{self.port}/token"

    def stop(self) -> None:
        self.server.shutdown()


# --- fault-injecting proxy -----------------------------------------------------------------

@dataclass
class Faults:
    cut_blob: dict[str, int] = field(default_factory=dict)  # digest → bytes sent before cutting (once)
    corrupt_blob: set[str] = field(default_factory=set)  # digest → flip one byte (always)
    status_once: list[tuple[str, int, dict]] = field(default_factory=list)  # (path part, status, headers)
    status_always: list[tuple[str, int]] = field(default_factory=list)
    redirect_blobs_to: str | None = None  # base URL that serves the same blobs
    ignore_range: bool = False
    #: blob digests whose *ranged* answers (206) have one byte flipped
    corrupt_ranges: set[str] = field(default_factory=set)
    redirect_loop: set[str] = field(default_factory=set)  # path parts answered 302 → themselves
    #: path parts whose answer is headers then this many body bytes, then silence (until
    #: the client hangs up or the proxy is reset)
    stall_after: dict[str, int] = field(default_factory=dict)
    #: path parts whose body is sent one byte every this many seconds
    trickle: dict[str, float] = field(default_factory=dict)
    #: path parts answered with nothing at all: the connection stays open, silent
    silent: set[str] = field(default_factory=set)
    #: path parts whose status line and headers are sent one byte every this many seconds
    trickle_head: dict[str, float] = field(default_factory=dict)
    #: path parts whose answer carries ``Link: <f(request path)>; rel="next"`` instead of
    #: the registry's own (pagination loops and escapes)
    link: dict[str, Callable[[str], str]] = field(default_factory=dict)
    #: path part → another: that answer waits (at most ``HOLD`` seconds) until a request
    #: whose path holds the other part has arrived; its record's ``held`` says whether one
    #: did (what a client sends while it waits for an answer)
    hold: dict[str, str] = field(default_factory=dict)
    #: path part → a count: that answer waits (at most ``HOLD`` seconds) until that many
    #: connections were opened to the proxy (since its reset); ``held`` says whether they were
    hold_connections: dict[str, int] = field(default_factory=dict)


#: the longest a ``Faults.hold`` answer waits
HOLD = 5.0


@dataclass
class ProxyState:
    backend: str  # host:port of a plain-HTTP registry
    faults: Faults = field(default_factory=Faults)
    requests: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: set on reset/stop: stalled and trickling handlers give up
    release: threading.Event = field(default_factory=threading.Event)
    #: the client port of each connection opened, in order (a request's record has its
    #: ``port``)
    connections: list[int] = field(default_factory=list)
    #: notified on each request's arrival and each connection (``Faults.hold``)
    arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.arrived = threading.Condition(self.lock)


class _ProxyHandler(BaseHTTPRequestHandler):
    state: ProxyState
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        with self.state.lock:
            self.state.connections.append(self.client_address[1])
            self.state.arrived.notify_all()

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_GET(self) -> None:
        self._handle("GET")

    def _handle(self, method: str) -> None:
        st, faults = self.state, self.state.faults
        headers = {k: v for k, v in self.headers.items()}
        record = {"method": method, "path": self.path, "headers": headers, "sent": 0,
                  "port": self.client_address[1]}
        with st.lock:
            st.requests.append(record)
            st.arrived.notify_all()
            other = next((o for part, o in faults.hold.items() if part in self.path), None)
            if other is not None:
                record["held"] = st.arrived.wait_for(
                    lambda: any(other in r["path"] for r in st.requests), HOLD)
            count = next((n for part, n in faults.hold_connections.items()
                          if part in self.path), None)
            if count is not None:
                record["held"] = st.arrived.wait_for(lambda: len(st.connections) >= count,
                                                     HOLD)
            for i, (part, status, extra) in enumerate(faults.status_once):
                if part in self.path:
                    del faults.status_once[i]
                    return self._reply(status, extra)
            for part, status in faults.status_always:
                if part in self.path:
                    return self._reply(status, {})
            for part in faults.redirect_loop:
                if part in self.path:
                    return self._reply(302, {"Location": self.path})
            silent = any(part in self.path for part in faults.silent)
        if silent:
            self.close_connection = True
            st.release.wait(60)  # bounded, so a broken test cannot hang the session
            return
        digest = self.path.rsplit("/", 1)[-1] if "/blobs/" in self.path else None
        if digest and faults.redirect_blobs_to and method == "GET":
            return self._reply(307, {"Location": faults.redirect_blobs_to + self.path})
        forward = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection")}
        if faults.ignore_range:
            forward.pop("Range", None)
        conn = http.client.HTTPConnection(st.backend, timeout=30)
        conn.request(method, self.path, headers=forward)
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        record["sent"] = 0 if method == "HEAD" else len(body)  # the body bytes relayed
        cut = None
        with st.lock:
            link = next((f for part, f in faults.link.items() if part in self.path), None)
            head_pause = next((t for part, t in faults.trickle_head.items() if part in self.path),
                              None)
            if digest in faults.corrupt_blob and body and resp.status in (200, 206):
                body = bytes([body[0] ^ 0xFF]) + body[1:]
            if digest in faults.corrupt_ranges and body and resp.status == 206:
                body = body[:-3] + bytes([body[-3] ^ 0xFF]) + body[-2:]
            if digest in faults.cut_blob and resp.status == 200 and method == "GET":
                cut = faults.cut_blob.pop(digest)
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "date", "server") and not (
                    link and k.lower() == "link"):
                self.send_header(k, v)
        if link:
            self.send_header("Link", f'<{link(self.path)}>; rel="next"')
        if "Content-Length" not in resp.headers:
            self.send_header("Content-Length", str(len(body)))
        if head_pause is not None:
            return self._trickle_head(head_pause, b"" if method == "HEAD" else body)
        self.end_headers()
        if method == "HEAD":
            return
        slow = self._slow_body(body)
        if slow:
            return
        if cut is not None:
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)

    def _slow_body(self, body: bytes) -> bool:
        """Serve the stall/trickle faults; True when one applied."""
        faults, release = self.state.faults, self.state.release
        stall = next((n for part, n in faults.stall_after.items() if part in self.path), None)
        pause = next((t for part, t in faults.trickle.items() if part in self.path), None)
        if stall is None and pause is None:
            return False
        self.close_connection = True
        try:
            if stall is not None:
                self.wfile.write(body[:stall])
                self.wfile.flush()
                release.wait(60)  # bounded, so a broken test cannot hang the session
                return True
            for i in range(len(body)):
                if release.wait(pause):
                    break
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
        except OSError:  # the client gave up: that is the point
            pass
        return True

    def _trickle_head(self, pause: float, body: bytes) -> None:
        """Send the buffered status line and headers one byte every ``pause`` seconds,
        then ``body`` at once (if the client is still there)."""
        head = b"".join(self._headers_buffer) + b"\r\n"
        self._headers_buffer = []
        self.close_connection = True
        release = self.state.release
        try:
            for i in range(len(head)):
                if release.wait(pause):
                    break
                self.wfile.write(head[i:i + 1])
                self.wfile.flush()
            else:
                self.wfile.write(body)
        except OSError:  # the client gave up: that is the point
            pass

    def _reply(self, status: int, headers: dict) -> None:
        body = json.dumps({"errors": [{"code": "INJECTED", "message": "fault"}]}).encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class FaultProxy:
    def __init__(self, backend: str, *, host: str = "127.0.0.1") -> None:
        self.state = ProxyState(backend)
        self.server, self.port = _serve(_ProxyHandler, host, self.state)
        self.host = f"{host}:{self.port}"

    @property
    def faults(self) -> Faults:
        return self.state.faults

    def reset(self) -> None:
        with self.state.lock:
            self.state.release.set()  # free handlers still stalling for the last test
            self.state.release = threading.Event()
            self.state.faults = Faults()
            self.state.requests.clear()
            self.state.connections.clear()

    def requests_to(self, part: str, method: str = "GET") -> list[dict]:
        return [r for r in self.state.requests if part in r["path"] and r["method"] == method]

    def stop(self) -> None:
        self.state.release.set()
        self.server.shutdown()


def make_htpasswd(path: Path, users: dict[str, str]) -> Path:
    """bcrypt htpasswd (the only hash distribution accepts) via glibc's crypt(3)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
    lines = [f"{u}:{crypt.crypt(p, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 4))}" for u, p in users.items()]
    path.write_text("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    return path
