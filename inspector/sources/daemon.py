"""``docker-daemon:NAME[:TAG]`` / ``docker-daemon:ID``: images that live only in a local
Docker or podman engine, read through the Engine API with the ``docker`` SDK.

Which engine (``locate_engine``):
- default: ``DOCKER_HOST`` (+ ``DOCKER_TLS_VERIFY``/``DOCKER_CERT_PATH``), else the current
  docker context (``DOCKER_CONTEXT`` or ``currentContext`` in ``~/.docker/config.json``),
  else ``unix:///var/run/docker.sock`` — exactly what the SDK's ``from_env`` does;
- ``options.engine == "podman"`` (``--source podman``): ``CONTAINER_HOST`` (podman's own
  variable), else the rootless ``$XDG_RUNTIME_DIR/podman/podman.sock`` when not root, else
  the rootful ``/run/podman/podman.sock``.

Reading (cold): ``inspect_image`` (the Id, ``RootFS.Layers`` = diff_ids), then ``docker
save`` (``GET /images/{name}/get``) streamed into a temporary file under
``<cache>/tmp`` and read in place by ``docker_archive`` (removed by ``Image.close``). The
spool is forced by the format, not chosen: every flavour puts ``manifest.json`` — the
only way to tell which file is which layer — after the layers (podman/c/image write layer
tars, then the config, then ``manifest.json``; moby tars its OCI layout in name order:
``blobs/`` < ``index.json`` < ``manifest.json``), so nothing can be indexed until the end.

Reading (warm): the Engine API never hands out the raw config — ``/images/{name}/json``
is a re-serialised summary (no history, different keys), so the config cannot be rebuilt
byte-exactly, and the manifest digest and layer blob digests of a ``docker save`` do not
exist anywhere else. So after a cold open the image's *skeleton* (exact manifest and
config bytes, layer descriptors) is kept as an engine record (``sources.engine_record``),
keyed by the engine's image Id. The Id is content-addressed (the config digest for podman and Docker's
graph-driver store, the manifest/index digest for the containerd store), so the same Id
means the same bytes. A second open whose Id has a skeleton that agrees with
``RootFS.Layers``, and whose every diff_id is in the layer-index cache (the caller's
``indexed`` predicate, ``analysis.open_image``'s: sources do not import the index), calls only
``inspect_image``: no ``docker save``. Its layers' openers run ``docker save`` lazily (once)
if anything ever asks for layer bytes (say a cache entry turned out corrupt), so the
image is always complete.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from inspector import cache
from inspector.errors import Cancelled, EngineError, ImageNotFound, InspectorError, PlatformNotFound
from inspector.oci.platform import DEFAULT_PLATFORM, Platform
from inspector.options import Options
from inspector.sources import engine_record
from inspector.sources.archive import TarStore
from inspector.sources.base import Image, Layer
from inspector.sources.docker_archive import open_docker_store
from inspector.visible import visible

log = logging.getLogger(__name__)

#: seconds an engine may stay silent during a call (Docker ≤24 builds the whole save in a
#: temp dir before sending the first byte)
ENGINE_TIMEOUT = 300
#: seconds for the quick "is it in the local engine?" look-up behind a registry error
HINT_TIMEOUT = 2
#: bytes per chunk read from the save stream
SAVE_CHUNK = 1 << 20
DOCKER_DEFAULT_HOST = "unix:///var/run/docker.sock"
PODMAN_ROOTFUL_SOCKET = "/run/podman/podman.sock"
#: Engine API version that accepts ``platform`` on ``/images/{name}/get``
PLATFORM_SAVE_API = (1, 48)


@dataclass(frozen=True)
class Engine:
    label: str  # "Docker" | "podman", for messages
    host: str  # the SDK's base_url: unix:///…, tcp://…, ssh://…
    tls: Any = None

    @property
    def socket(self) -> str | None:
        return self.host[len("unix://"):] if self.host.startswith("unix://") else None


def _podman_rootless(env) -> str | None:
    xdg = env.get("XDG_RUNTIME_DIR")
    return f"{xdg}/podman/podman.sock" if xdg else None


def locate_engine(options: Options, environ=None) -> Engine:
    """The engine ``options`` selects (see the module docstring)."""
    env = os.environ if environ is None else environ
    if options.engine == "podman":
        host = env.get("CONTAINER_HOST")
        if not host:
            rootless = _podman_rootless(env) or ""
            use_rootless = rootless and os.geteuid() != 0 and (
                os.path.exists(rootless) or not os.path.exists(PODMAN_ROOTFUL_SOCKET))
            host = "unix://" + (rootless if use_rootless else PODMAN_ROOTFUL_SOCKET)
        return Engine("podman", host)
    import docker
    import docker.utils
    from docker.context import ContextAPI

    try:
        params = docker.utils.kwargs_from_env(environment=env)
        if "base_url" not in params:
            params.update(ContextAPI.kwargs_from_context(environment=env))
    except docker.errors.DockerException as exc:
        raise EngineError(f"cannot configure the Docker client: {exc}",
                          hint="check DOCKER_HOST, DOCKER_CONTEXT and DOCKER_CERT_PATH") from exc
    return Engine("Docker", params.get("base_url") or DOCKER_DEFAULT_HOST, params.get("tls"))


def _not_running_hint(engine: Engine) -> str:
    if engine.label == "podman":
        return ("start it: `systemctl --user start podman.socket` (rootless) or `systemctl start "
                "podman.socket`, or point CONTAINER_HOST at its socket")
    podman = [s for s in (PODMAN_ROOTFUL_SOCKET, _podman_rootless(os.environ)) if s and os.path.exists(s)]
    extra = "; a podman socket exists: use --source podman" if podman else ""
    return "start Docker, or point DOCKER_HOST / DOCKER_CONTEXT at a running engine" + extra


def _permission_hint(engine: Engine) -> str:
    if engine.label == "podman":
        return "use your own rootless socket (--source podman as your user) or run as root"
    return "add your user to the docker group and log in again, or use rootless podman (--source podman)"


def engine_error(exc: BaseException, engine: Engine) -> EngineError:
    """An SDK/requests/OS failure as one line naming the engine and what to do."""
    chain: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and len(chain) < 10:
        chain.append(e)
        e = e.__cause__ or e.__context__
    text = " ".join(str(e) for e in chain)
    if any(isinstance(e, PermissionError) for e in chain) or "Permission denied" in text:
        return EngineError(f"permission denied on the {engine.label} engine socket {engine.host}",
                           hint=_permission_hint(engine))
    if (any(isinstance(e, (FileNotFoundError, ConnectionRefusedError)) for e in chain)
            or "No such file" in text or "Connection refused" in text):
        return EngineError(f"the {engine.label} engine is not running at {engine.host}",
                           hint=_not_running_hint(engine))
    reason = (getattr(exc, "explanation", None) or str(exc)).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return EngineError(f"cannot talk to the {engine.label} engine at {engine.host}: {reason}",
                       hint="check that the engine is healthy (docker info / podman info)")


def connect(engine: Engine, *, timeout: float = ENGINE_TIMEOUT):
    """A ``docker.DockerClient`` for ``engine``, API version negotiated; ``EngineError``
    when it cannot be reached."""
    import docker

    sock = engine.socket
    if sock is not None:
        if not os.path.exists(sock):
            raise EngineError(f"the {engine.label} engine is not running at {engine.host} (no such socket)",
                              hint=_not_running_hint(engine))
        if not os.access(sock, os.R_OK | os.W_OK):
            raise EngineError(f"permission denied on the {engine.label} engine socket {sock}",
                              hint=_permission_hint(engine))
    try:
        return docker.DockerClient(base_url=engine.host, tls=engine.tls, version="auto",
                                   timeout=timeout)  # type: ignore[arg-type]  # a float works
    except docker.errors.DockerException as exc:
        raise engine_error(exc, engine) from exc


def _cli(engine: Engine) -> str:
    return "podman" if engine.label == "podman" else "docker"


def inspect(client, engine: Engine, name: str, *, reference: str) -> dict:
    import docker
    import requests

    try:
        return client.api.inspect_image(name)
    except docker.errors.NotFound as exc:
        raise ImageNotFound(f"{reference}: no image {name!r} in the {engine.label} engine at {engine.host}",
                            hint=f"`{_cli(engine)} images` lists what it has; build or pull it first") from exc
    except (docker.errors.DockerException, requests.RequestException, OSError) as exc:
        raise engine_error(exc, engine) from exc


def open_daemon(name: str, options: Options, *, reference: str,
                indexed: Callable[[str], bool] | None = None) -> Image:
    """The image ``name`` (``NAME[:TAG]``, ``NAME@DIGEST`` or an image ID) from the local
    engine. Layers are base-first; ``Image.close`` removes the spooled save and closes the
    connection. ``indexed(diff_id)``: whether a layer's index is cached (without it, or
    when one is not, the image is read with ``docker save``)."""
    engine = locate_engine(options)
    client = connect(engine)
    try:
        info = inspect(client, engine, name, reference=reference)
        image = None if indexed is None else _warm(client, engine, name, info, options, indexed,
                                                   reference=reference)
        if image is None:
            image = _save(client, engine, name, info, options, reference=reference)
            engine_record.store(options, info, image)
            store_close = image.closer
            image.closer = lambda: _close_all(store_close, client.close)
        return image
    except BaseException:
        client.close()
        raise


def _close_all(*closers) -> None:
    for close in closers:
        if close:
            try:
                close()
            except Exception:  # closing is best effort; the first failure must not hide the rest
                log.debug("close failed", exc_info=True)


# --- cold: docker save, spooled ------------------------------------------------------------

def _save_stream(client, engine: Engine, name: str, options: Options):
    """The save stream's chunk iterator; ``platform`` is passed when the engine takes it."""
    version = tuple(int(p) for p in str(client.api.api_version).split(".")[:2] if p.isdigit())
    if options.platform != DEFAULT_PLATFORM and version >= PLATFORM_SAVE_API:
        p = options.platform
        spec = {"os": p.os, "architecture": p.architecture, **({"variant": p.variant} if p.variant else {})}
        api = client.api
        res = api._get(api._url("/images/{0}/get", name), params={"platform": json.dumps(spec)}, stream=True)
        api._raise_for_status(res)
        return api._stream_raw_result(res, SAVE_CHUNK, False)
    return client.api.get_image(name, chunk_size=SAVE_CHUNK)


class _SpoolFailed(Exception):
    """Writing the save to a spool directory failed (full, read-only): try the next one."""

    def __init__(self, exc: OSError) -> None:
        super().__init__(str(exc))
        self.exc = exc


def _save(client, engine: Engine, name: str, info: dict, options: Options, *, reference: str) -> Image:
    where = f"{reference} (docker save from the {engine.label} engine)"
    dirs = cache.spool_dirs(options.resolved_cache_dir() / cache.SPOOL_DIR)
    for n, directory in enumerate(dirs):
        try:
            out, tmp = _spool_save(client, engine, name, info, options, directory, reference=reference)
            break
        except _SpoolFailed as failed:  # the cache is full: the system temp dir, once more
            if n == len(dirs) - 1:
                raise cache.spool_error(directory, failed.exc, where) from failed.exc
            cache.disable(directory.parent, failed.exc)
    store = TarStore(out, where=where, path=str(tmp), cleanup=[str(tmp)])
    image = open_docker_store(store, None, options, reference=reference, source="docker-daemon")
    wanted = options.platform
    if wanted != DEFAULT_PLATFORM and Platform.parse(image.platform) != wanted:
        image.close()
        raise PlatformNotFound(f"{reference}: the {engine.label} engine holds {name} for {image.platform}, "
                               f"not {wanted}", hint=f"pull it with --platform {wanted} first")
    return image


def _spool_save(client, engine: Engine, name: str, info: dict, options: Options, directory: Path, *,
                reference: str) -> tuple[BinaryIO, Path]:
    """``docker save`` into a new temp file under ``directory``, locked while this process
    lives (the sweep of leftovers skips it); returns it, rewound, and its path."""
    import docker
    import requests

    try:
        out, tmp = cache.temp_file(directory, prefix="daemon-save-", suffix=".tar")
    except OSError as exc:
        raise _SpoolFailed(exc) from exc
    progress = _SpoolProgress(f"{reference}: saving from {engine.label}", int(info.get("Size") or 0),
                              enabled=not options.quiet)
    try:
        for chunk in _save_stream(client, engine, name, options):
            if options.cancel.is_set():
                raise Cancelled()
            try:
                out.write(chunk)
            except OSError as exc:
                raise _SpoolFailed(exc) from exc
            progress.add(len(chunk))
        try:
            out.flush()
            out.seek(0)
        except OSError as exc:
            raise _SpoolFailed(exc) from exc
        return out, tmp
    except docker.errors.NotFound as exc:
        cache.discard(out, tmp)
        raise ImageNotFound(f"{reference}: the {engine.label} engine no longer has {name!r}",
                            hint="it was removed while being read; build or pull it again") from exc
    except (docker.errors.DockerException, requests.RequestException) as exc:
        cache.discard(out, tmp)
        raise engine_error(exc, engine) from exc
    except BaseException:
        cache.discard(out, tmp)
        raise
    finally:
        progress.finish()


class _SpoolProgress:
    """``label  12.3 / 45.6 MB`` on stderr, redrawn at most 10 times a second, only on a
    terminal. ``total`` is the engine's (uncompressed) size estimate; 0 when unknown."""

    def __init__(self, label: str, total: int, *, enabled: bool, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.label, self.total, self.done, self.last = visible(label), total, 0, 0.0

    def add(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and now - self.last >= 0.1:
            self.last = now
            of = f" / {self.total / 1e6:.1f}" if self.total else ""
            self.stream.write(f"\r{self.label[:60]}  {self.done / 1e6:.1f}{of} MB\x1b[K")
            self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self.last:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


# --- warm: the skeleton of a previous save --------------------------------------------------

def _warm(client, engine: Engine, name: str, info: dict, options: Options,
          indexed: Callable[[str], bool], *, reference: str) -> Image | None:
    record = engine_record.load(options, info)
    if record is None:
        return None
    if not all(la["diff_id"] and indexed(la["diff_id"]) for la in record["layers"]):
        return None
    lazy = _LazySave(client, engine, name, info, options, reference)
    layers = [Layer(digest=la["digest"], diff_id=la["diff_id"], media_type=la["media_type"],
                    compressed_size=la["compressed_size"], opener=lazy.opener(i))
              for i, la in enumerate(record["layers"])]
    log.debug("%s: every layer is cached; not calling docker save", reference)
    return Image(reference=reference, source="docker-daemon", manifest_digest=record["manifest_digest"],
                 manifest_bytes=record["manifest"], config_bytes=record["config"], layers=layers,
                 platform=record["platform"], media_type=record["media_type"],
                 annotations=dict(record["annotations"] or {}), closer=lazy.close)


class _LazySave:
    """Runs ``docker save`` the first time a warm image's layer bytes are wanted."""

    def __init__(self, client, engine: Engine, name: str, info: dict, options: Options, reference: str) -> None:
        self.client, self.engine, self.name, self.info = client, engine, name, info
        self.options, self.reference = options, reference
        self.lock = threading.Lock()
        self.image: Image | None = None

    def opener(self, position: int):
        return lambda: self.open_layer(position)

    def open_layer(self, position: int) -> BinaryIO:
        with self.lock:
            if self.image is None:
                self.image = _save(self.client, self.engine, self.name, self.info, self.options,
                                   reference=self.reference)
            image = self.image
        diff_id = self.info["RootFS"]["Layers"][position]
        for layer in image.layers:
            if layer.diff_id == diff_id:
                return layer.open_compressed()
        raise EngineError(f"{self.reference}: the image changed in the {self.engine.label} engine while "
                          f"being read (layer {diff_id} is gone)", hint="run the command again")

    def close(self) -> None:
        _close_all(self.image.close if self.image else None, self.client.close)


# --- the hint behind a registry error --------------------------------------------------------

def local_engine_hint(name: str, options: Options) -> str | None:
    """``"found in the local Docker engine: use docker-daemon:NAME"`` when a local engine
    answers within ``HINT_TIMEOUT`` seconds that it has ``name``; ``None`` otherwise —
    never raises (an absent engine is the common case)."""
    candidates: list[tuple[Engine, str]] = []
    try:
        candidates.append((locate_engine(options), f"use docker-daemon:{name}"))
    except InspectorError:
        pass
    if options.engine != "podman":
        candidates.append((locate_engine(Options(engine="podman")), f"use --source podman {name}"))
    for engine, advice in candidates:
        if engine.socket is not None and not os.path.exists(engine.socket):
            continue
        try:
            client = connect(engine, timeout=HINT_TIMEOUT)
        except Exception:
            continue
        try:
            client.api.inspect_image(name)
        except Exception:
            continue
        finally:
            client.close()
        return f"found in the local {engine.label} engine: {advice}"
    return None
