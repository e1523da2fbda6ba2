"""Helper threads of a registry client: a request run beside the caller's (a layer's TOC
while the config is read: ``RemoteToc.prefetch``), on a connection opened ahead of it.

``RegistryClient`` inherits these; they use its ``session`` (one per thread), ``base``,
``verify``, ``timeout``, ``options`` and ``_lock``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, TypeVar

import requests

if TYPE_CHECKING:
    from inspector.options import Options

T = TypeVar("T")


class HelperThreads:
    """``submit`` and ``warm`` for ``RegistryClient``."""

    options: Options
    verify: bool | str
    timeout: tuple[float, float]
    _lock: threading.RLock
    #: warm()'s thread's task queue, until submit() hands it a task
    _warmed: queue.SimpleQueue[Callable[[], None] | None] | None = None

    @property
    def session(self) -> requests.Session:
        raise NotImplementedError

    @property
    def base(self) -> str:
        raise NotImplementedError

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        """Run ``fn`` on a helper thread, beside the caller's requests (a layer's TOC while
        the config is read: ``RemoteToc.prefetch``): the first after ``warm`` on the
        thread whose connection ``warm`` opened (each thread has its session), the others
        each on a thread of its own. Daemon threads: a request still waiting on a silent
        registry never holds the process's exit."""
        future: Future[T] = Future()

        def task() -> None:
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn())
                except BaseException as exc:  # handed to the future's reader
                    future.set_exception(exc)
        with self._lock:
            warmed, self._warmed = self._warmed, None
        if warmed is not None:
            warmed.put(task)
        else:
            threading.Thread(target=task, name="registry-helper", daemon=True).start()
        return future

    def warm(self) -> None:
        """Open a helper's connection now (TCP, and TLS: no request is sent) while the
        caller's next requests run, so the helper's first request does not wait for a
        handshake: a TOC fetched beside the config then costs no round trip more than the
        config. Best effort: a connection that cannot be opened is opened by the request."""
        base = self.base  # the ping, on the caller's thread

        def connect() -> None:
            try:
                session = self.session
                prepared = requests.Request("GET", f"{base}/v2/").prepare()
                settings = session.merge_environment_settings(prepared.url, {}, None,
                                                              self.verify, None)
                adapter = session.get_adapter(prepared.url or base)
                pool = adapter.get_connection_with_tls_context(  # type: ignore[attr-defined]
                    prepared, settings["verify"], proxies=settings["proxies"],
                    cert=settings["cert"])
                conn = pool._get_conn()
                try:
                    conn.timeout = self.timeout[0]
                    conn.connect()
                except Exception:
                    conn.close()  # the request opens its own
                    raise
                finally:
                    pool._put_conn(conn)
            except Exception:  # noqa: BLE001 - the request will connect itself
                pass
        tasks: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()

        def run() -> None:
            connect()
            try:  # the task submit() hands over (a TOC's, once the manifest is read)
                task = tasks.get(timeout=self.options.timeout)
            except queue.Empty:
                with self._lock:
                    if self._warmed is tasks:  # none came: none will
                        self._warmed = None
                        return
                # submit() (its task) or a later warm() (None) took the queue: it is coming
                task = tasks.get()
            if task is not None:
                task()
        with self._lock:
            earlier, self._warmed = self._warmed, tasks
        if earlier is not None:
            earlier.put(None)  # an earlier warm()'s thread waits no more
        threading.Thread(target=run, name="registry-warm", daemon=True).start()
