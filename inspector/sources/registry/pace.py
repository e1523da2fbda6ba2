"""Reading response bodies so that a slow or stalled server cannot hold us for ever.

requests' read timeout only bounds the gap between two packets: a server that sends
headers and then nothing is caught by it, but one that trickles a byte every 20 s never
is. ``Pace`` adds a minimum-progress rule: over every ``window`` seconds spent waiting on
the network, at least ``MIN_BYTES_PER_SECOND`` must arrive on average, else ``Stalled``.
Only time spent inside reads counts, so a slow consumer (the indexer) is never mistaken
for a slow server. Reads use ``read1`` (one socket read), so each call returns as soon as
anything arrives and the rule is checked between packets.
"""

from __future__ import annotations

import time

import requests
import urllib3

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


def read_body(resp: requests.Response, limit: int, *, window: float, what: str) -> bytes:
    """The whole (decoded) body, at most ``limit + 1`` bytes so callers can tell it is too
    big; a broken or too slow body is ``TransportError``."""
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
    except Stalled:
        raise
    except BROKEN as exc:
        raise TransportError(f"{what}: the connection broke while reading the response "
                             f"({type(exc).__name__})", hint="check your network and retry",
                             where=what) from exc
    return b"".join(chunks)
