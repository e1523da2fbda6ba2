"""Engine selection, error wording and the registry's "found in the local engine" hint."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from inspector.errors import ImageNotFound
from inspector.options import Options
from inspector.sources import daemon
from inspector.sources.daemon import Engine, engine_error, locate_engine
from inspector.sources.resolve import open_image
from tests.builders import ImageSpec, make_layer, write_docker_archive

LOCATE = [
    # (name, engine option, environment, euid, expected host)
    ("docker-host", None, {"DOCKER_HOST": "tcp://127.0.0.1:2375"}, 1000, "tcp://127.0.0.1:2375"),
    ("docker-default", None, {}, 1000, "unix:///var/run/docker.sock"),
    ("podman-container-host", "podman", {"CONTAINER_HOST": "unix:///x/p.sock", "DOCKER_HOST": "tcp://h:1"}, 0,
     "unix:///x/p.sock"),
    ("podman-root", "podman", {"XDG_RUNTIME_DIR": "/run/user/0"}, 0, "unix:///run/podman/podman.sock"),
    ("podman-rootless", "podman", {"XDG_RUNTIME_DIR": "/run/user/1000"}, 1000,
     "unix:///run/user/1000/podman/podman.sock"),
]


@pytest.mark.parametrize("name,engine,env,euid,host", LOCATE, ids=[c[0] for c in LOCATE])
def test_locate_engine(name, engine, env, euid, host, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))  # no current context from the host
    monkeypatch.setattr(os, "geteuid", lambda: euid)
    monkeypatch.setattr(daemon, "PODMAN_ROOTFUL_SOCKET", "/run/podman/podman.sock")
    assert locate_engine(Options(engine=engine), env).host == host


def test_docker_context_is_honoured(monkeypatch, tmp_path):
    """A docker CLI context (``docker context create``'s on-disk form) names the host."""
    import hashlib

    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    (tmp_path / "config.json").write_text("{}")  # the SDK looks for contexts next to it
    meta = tmp_path / "contexts" / "meta" / hashlib.sha256(b"remote").hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({"Name": "remote", "Metadata": {},
                                                "Endpoints": {"docker": {"Host": "tcp://127.0.0.1:2376",
                                                                         "SkipTLSVerify": False}}}))
    assert locate_engine(Options(), {"DOCKER_CONTEXT": "remote"}).host == "tcp://127.0.0.1:2376"
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "remote"}))
    assert locate_engine(Options(), {}).host == "tcp://127.0.0.1:2376"


def _chained(outer: Exception, inner: BaseException) -> Exception:
    outer.__cause__ = inner
    return outer


DOCKER = Engine("Docker", "unix:///var/run/docker.sock")
PODMAN = Engine("podman", "unix:///run/podman/podman.sock")
ERRORS = [
    # (name, engine, exception as the SDK raises it, words in the message)
    ("permission", DOCKER, _chained(Exception("Error while fetching server API version"),
                                    PermissionError(13, "Permission denied")), ["permission denied", "docker group"]),
    ("permission-text", PODMAN, Exception("('Connection aborted.', PermissionError(13, 'Permission denied'))"),
     ["permission denied", "podman"]),
    ("refused", DOCKER, _chained(Exception("fetching"), ConnectionRefusedError(111, "Connection refused")),
     ["not running", "DOCKER_HOST"]),
    ("no-socket", PODMAN, Exception("('Connection aborted.', FileNotFoundError(2, 'No such file or directory'))"),
     ["not running", "podman.socket"]),
    ("other", DOCKER, Exception("500 Server Error: boom\nsecond line"), ["cannot talk", "boom"]),
]


@pytest.mark.parametrize("name,engine,exc,words", ERRORS, ids=[e[0] for e in ERRORS])
def test_engine_error_wording(name, engine, exc, words):
    message = str(engine_error(exc, engine))
    assert "\n" not in message
    for word in words:
        assert word in message


# --- the registry hint ---------------------------------------------------------------------

class _NoImages(BaseHTTPRequestHandler):
    """A registry that has nothing: ``/v2/`` answers, every manifest is MANIFEST_UNKNOWN."""

    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.path == "/v2/":
            body, status = b"{}", 200
        else:
            body, status = json.dumps({"errors": [{"code": "MANIFEST_UNKNOWN", "message": "unknown"}]}).encode(), 404
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def empty_registry():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NoImages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


HINTS = [
    # (name, reference template, hint expected)
    ("bare-local", "{reg}/hint/app:v1", "found in the local Docker engine: use docker-daemon:{reg}/hint/app:v1"),
    ("bare-absent", "{reg}/hint/absent:v1", None),
    ("docker-transport", "docker://{reg}/hint/app:v1", None),
]


@pytest.mark.parametrize("name,template,hint", HINTS, ids=[h[0] for h in HINTS])
def test_registry_miss_mentions_the_local_engine(name, template, hint, empty_registry, engine_env, options,
                                                 tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    # the engine is there and answers: its 2 s bound (for an engine that hangs) would make
    # the hint depend on how busy the machine is (a parallel run), not on what it knows
    monkeypatch.setattr(daemon, "HINT_TIMEOUT", 60)
    archive = tmp_path / "app.tar"
    write_docker_archive(archive, [ImageSpec([make_layer({"a": b"1"})], ref_name=f"{empty_registry}/hint/app:v1")])
    engine_env.load(archive)
    with pytest.raises(ImageNotFound) as err:
        open_image(template.format(reg=empty_registry), options)
    message = str(err.value)
    assert "\n" not in message
    if hint:
        assert hint.format(reg=empty_registry) in message
    else:
        assert "local" not in message


def test_registry_miss_without_an_engine_is_unchanged(empty_registry, options, tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    monkeypatch.setattr(daemon, "PODMAN_ROOTFUL_SOCKET", str(tmp_path / "none-podman.sock"))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    with pytest.raises(ImageNotFound) as err:
        open_image(f"{empty_registry}/hint/app:v1", options)
    assert "local" not in str(err.value)
