"""Reading responses so that a slow or stalled server cannot hold us for ever.

requests' read timeout only bounds the gap between two packets: a server that sends
nothing is caught by it, but one that trickles a byte every 2 s never is. Two rules close
that, both set by ``--timeout`` (``Options.timeout``, the read timeout):

- **the head** (status line and headers) must be complete within the read timeout of the
  request being sent, however it trickles in: ``PacedAdapter`` mounts connections whose
  ``getresponse`` runs under a watchdog that shuts the socket down at the deadline, and the
  read then fails as a timeout (``requests.ReadTimeout``, retried like any other);
- **the body**: ``Pace`` adds a minimum-progress rule: over every ``window`` seconds spent
  waiting on the network, at least ``MIN_BYTES_PER_SECOND`` must arrive on average, else
  ``Stalled``. Only time spent inside reads counts, so a slow consumer (the indexer) is
  never mistaken for a slow server. Reads use ``read1`` (one socket read), so each call
  returns as soon as anything arrives and the rule is checked between packets.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from inspector.errors import TransportError

#: the slowest body we accept, averaged over a window of ``--timeout`` seconds
MIN_BYTES_PER_SECOND = 1024
#: what a broken body read can raise (translated to ``TransportError`` or retried)
BROKEN = (urllib3.exceptions.HTTPError, requests.RequestException, ConnectionError,
          TimeoutError, OSError)


class Stalled(TransportError):
    """The body arrived more slowly than ``MIN_BYTES_PER_SECOND``."""


class Pace:
    def __init__(self, window: float, *, what: str) -> None:
        self.window, self.what = window, what
        self.waited = 0.0  # seconds inside reads in the current window
        self.got = 0  # bytes in the current window

    def read(self, raw, n: int, *, decode_content: bool) -> bytes:
        """At most ``n`` bytes from ``raw`` (a urllib3 response), after one socket read."""
        start = time.monotonic()
        read1 = getattr(raw, "read1", None)
        data = (read1(n, decode_content=decode_content) if read1 is not None
                else raw.read(n, decode_content=decode_content))
        self.waited += time.monotonic() - start
        self.got += len(data)
        if self.waited >= self.window:
            if self.got < MIN_BYTES_PER_SECOND * self.waited:
                raise Stalled(f"{self.what}: the server sent {self.got} bytes in "
                              f"{self.waited:.1f} s (slower than {MIN_BYTES_PER_SECOND} bytes/s)",
                              hint="the registry or network is stalling; retry later or raise "
                                   "--timeout", where=self.what)
            self.waited, self.got = 0.0, 0
        return data


def read_body(resp: requests.Response, limit: int, *, window: float, what: str,
              on_chunk: Callable[[bytes], object] | None = None) -> bytes:
    """The whole (decoded) body, at most ``limit + 1`` bytes so callers can tell it is too
    big; a broken or too slow body is ``TransportError``. ``on_chunk`` sees each piece as
    it arrives (the TOC is parsed while it downloads: ``tocstream``)."""
    pace = Pace(window, what=what)
    chunks: list[bytes] = []
    total = 0
    try:
        while total <= limit:
            chunk = pace.read(resp.raw, min(1 << 16, limit + 1 - total), decode_content=True)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if on_chunk is not None:
                on_chunk(chunk)
    except Stalled:
        raise
    except BROKEN as exc:
        raise TransportError(f"{what}: the connection broke while reading the response "
                             f"({type(exc).__name__})", hint="check your network and retry",
                             where=what) from exc
    return b"".join(chunks)


# -- the head ---------------------------------------------------------------------------------
class _HeadDeadline:
    """Mixed into urllib3's connections: ``getresponse`` (which reads the status line and
    the headers) gets ``self.timeout`` seconds in all. urllib3 sets ``timeout`` to the read
    timeout just before it calls ``getresponse``."""

    timeout: Any
    sock: Any

    def getresponse(self):
        limit = self.timeout
        sock = self.sock
        if not isinstance(limit, (int, float)) or limit <= 0 or not isinstance(
                sock, socket.socket):
            return super().getresponse()
        lock = threading.Lock()
        state = {"done": False, "expired": False}

        def expire() -> None:
            with lock:
                if state["done"]:
                    return
                state["expired"] = True
            try:  # the base class's shutdown: on a TLS socket too, without touching TLS state
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass

        timer = threading.Timer(limit, expire)
        timer.daemon = True
        timer.start()
        try:
            response = super().getresponse()
        except Exception as exc:
            if state["expired"]:
                raise TimeoutError(f"no complete status line and headers within {limit} s") \
                    from exc
            raise
        finally:
            with lock:
                state["done"] = True
            timer.cancel()
        if state["expired"]:  # the deadline won a photo finish: the socket is gone
            response.close()
            raise TimeoutError(f"no complete status line and headers within {limit} s")
        return response


class _HTTPConnection(_HeadDeadline, HTTPConnection):
    pass


class _HTTPSConnection(_HeadDeadline, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class PacedAdapter(HTTPAdapter):
    """requests' adapter with the head deadline on every connection (direct and through
    an HTTP proxy; a SOCKS proxy keeps urllib3's own connections)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = _POOLS
        return manager


def paced_session(session: requests.Session) -> requests.Session:
    """``session`` with ``PacedAdapter`` mounted for http and https."""
    session.mount("https://", PacedAdapter())
    session.mount("http://", PacedAdapter())
    return session
