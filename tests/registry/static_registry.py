"""``StaticRegistry``: the read side of the distribution API (``/v2/``, manifests and
blobs by tag or digest, ``Range``) over blobs held in memory, on loopback — for documents
the real registry would refuse to store (hostile manifests and configs). Put
``servers.FaultProxy`` in front of it for transport faults."""

from __future__ import annotations

import json
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from tests.registry.servers import _serve


@dataclass
class StaticState:
    blobs: dict[str, bytes]  # digest → bytes (manifests, configs, layers)
    tags: dict[str, str]  # tag → manifest digest
    types: dict[str, str]  # manifest digest → Content-Type


class _StaticHandler(BaseHTTPRequestHandler):
    state: StaticState
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_HEAD(self) -> None:
        self._handle(head=True)

    def do_GET(self) -> None:
        self._handle(head=False)

    def _handle(self, *, head: bool) -> None:
        path = urlsplit(self.path).path
        if path == "/v2/":
            return self._send(200, b"{}", {"Content-Type": "application/json"}, head)
        kind, _, ref = path.rpartition("/")
        digest = self.state.tags.get(ref, ref)
        body = self.state.blobs.get(digest)
        if body is None or not kind.startswith("/v2/"):
            return self._send(404, json.dumps({"errors": [{"code": "MANIFEST_UNKNOWN"}]}).encode(),
                              {"Content-Type": "application/json"}, head)
        headers = {"Docker-Content-Digest": digest}
        if kind.endswith("/manifests"):
            headers["Content-Type"] = self.state.types.get(digest, "application/vnd.oci.image.manifest.v1+json")
        start = 0
        rng = self.headers.get("Range", "")
        if rng.startswith("bytes=") and rng.endswith("-") and rng[6:-1].isdigit():
            start = int(rng[6:-1])
            headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
        self._send(206 if start else 200, body[start:], headers, head)

    def _send(self, status: int, body: bytes, headers: dict, head: bool) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


class StaticRegistry:
    """Serves ``blobs`` for any repository name; ``tags`` name manifests."""

    def __init__(self, blobs: dict[str, bytes], tags: dict[str, str],
                 types: dict[str, str] | None = None) -> None:
        self.state = StaticState(dict(blobs), dict(tags), dict(types or {}))
        self.server, self.port = _serve(_StaticHandler, "127.0.0.1", self.state)
        self.host = f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
