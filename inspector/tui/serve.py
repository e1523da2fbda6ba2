"""``inspector serve``: the TUI in a browser through textual-serve.

The served command is ``python -m inspector`` with the images *and every common option*
(cache, platform, TLS, credentials…), so the browser shows what the terminal would. The
page is textual-serve's own, plus a script that focuses the terminal once it is drawn:
without it the first keys go to the page (and a stray ``a`` opens the add-image prompt).

The websocket drives a process as the user, so ``Guard`` refuses (403) what a web page in
the user's browser could otherwise do: a request whose ``Host`` is not the bound address
(DNS rebinding: a hostile name resolved to 127.0.0.1 makes the page same-origin with us)
and any request, the websocket above all, whose ``Origin`` is another site. A request
without ``Origin`` is served: browsers always send one on a websocket, so it comes from a
program on this machine, which could connect anyway."""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import socket
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from inspector.errors import InspectorError

#: textual-serve's page template, the one file we adapt
TEMPLATE = "app_index.html"

#: focuses xterm.js's input as soon as it exists, and again when the app's first bytes
#: arrive (textual-serve marks the body ``-first-byte``)
FOCUS_SCRIPT = """
<script>
  (function () {
    function focusTerminal() {
      var input = document.querySelector("#terminal textarea, .xterm-helper-textarea");
      if (input) { input.focus(); }
      return input !== null && document.activeElement === input;
    }
    var tries = 0;
    var timer = setInterval(function () {
      tries += 1;
      if ((focusTerminal() && document.body.classList.contains("-first-byte"))
          || tries > 600) { clearInterval(timer); }
    }, 50);
    window.addEventListener("focus", focusTerminal);
  })();
</script>
"""


def forwarded_options(args: argparse.Namespace) -> list[str]:
    """The common options of ``args`` as command-line words for the served command (only
    those that differ from the defaults). ``--source`` is not forwarded: the images are
    already rewritten by it."""
    words: list[str] = []
    if args.platform != "linux/amd64":
        words += ["--platform", args.platform]
    if not args.tls_verify:
        words.append("--no-tls-verify")
    if args.ca_cert is not None:
        words += ["--ca-cert", str(Path(args.ca_cert).resolve())]
    if args.anonymous:
        words.append("--anonymous")
    if args.cache_dir is not None:
        words += ["--cache-dir", str(Path(args.cache_dir).resolve())]
    if args.no_cache:
        words.append("--no-cache")
    if args.quiet:
        words.append("-q")
    return words


def served_command(args: argparse.Namespace, images: list[str]) -> str:
    """The shell command textual-serve runs for each browser session."""
    words = [sys.executable, "-m", "inspector", *forwarded_options(args), "--", *images]
    return " ".join(shlex.quote(w) for w in words)


def focusing_templates(directory: Path) -> Path:
    """textual-serve's page template with ``FOCUS_SCRIPT`` added, written to
    ``directory``; the directory to pass as ``templates_path``."""
    import textual_serve

    page = (Path(textual_serve.__file__).parent / "templates" / TEMPLATE).read_text("utf-8")
    if "</body>" not in page:  # an unexpected page: serve it as it is
        return Path(textual_serve.__file__).parent / "templates"
    (directory / TEMPLATE).write_text(page.replace("</body>", FOCUS_SCRIPT + "</body>", 1),
                                      "utf-8")
    return directory


#: names that reach a loopback address on every machine
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"", "0.0.0.0", "::"})


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _is_loopback(name: str) -> bool:
    return name in LOOPBACK_NAMES or (_is_ip(name) and ipaddress.ip_address(name).is_loopback)


class Guard:
    """Which ``Host`` and ``Origin`` values a server bound to ``host:port`` accepts: the
    bound name; its loopback aliases (``localhost``, ``127.0.0.1``, ``[::1]``) when bound to
    loopback; any IP literal and this machine's names when bound to every interface. The
    port must be the bound one (``0``: any)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host.strip("[]").lower(), port
        self.names = {self.host}
        if _is_loopback(self.host):
            self.names |= LOOPBACK_NAMES
        self.any_ip = self.host in WILDCARDS
        if self.any_ip:
            self.names |= LOOPBACK_NAMES | {socket.gethostname().lower(),
                                            socket.getfqdn().lower()}

    def _accepts(self, name: str | None, port: int | None) -> bool:
        if not name:
            return False
        name = name.lower().rstrip(".")
        if self.port and port != self.port:
            return False
        return name in self.names or (self.any_ip and _is_ip(name))

    def host_ok(self, value: str | None) -> bool:
        """A ``Host`` header (``name[:port]``)."""
        if not value or any(c in value for c in "@/?#\\"):
            return False
        try:
            parts = urlsplit(f"http://{value}")
            # no port: 80, or 443 behind a TLS front (textual-serve's own rule for 443)
            return self._accepts(parts.hostname,
                                 parts.port or (443 if self.port == 443 else 80))
        except ValueError:  # a bad port or bracket
            return False

    def origin_ok(self, value: str) -> bool:
        """An ``Origin`` header (``scheme://name[:port]``; ``null`` never)."""
        try:
            parts = urlsplit(value)
            default = {"http": 80, "https": 443}.get(parts.scheme)
            return (default is not None and not (parts.path or parts.query or parts.fragment)
                    and "@" not in parts.netloc
                    and self._accepts(parts.hostname, parts.port or default))
        except ValueError:
            return False

    def refusal(self, host: str | None, origin: str | None) -> str | None:
        """Why a request with these headers is refused, or ``None``."""
        where = f"{self.host}:{self.port}"
        if not self.host_ok(host):
            return f"refused: Host {host!r} is not this server ({where})"
        if origin is not None and not self.origin_ok(origin):
            return f"refused: a page from {origin!r} may not use this server ({where})"
        return None


def guarded_server(command: str, host: str, port: int, templates: Path):
    """textual-serve's ``Server`` with ``Guard`` in front of every route (its private
    ``_make_app`` builds the aiohttp app; the middleware is added before it starts)."""
    from aiohttp import web
    from textual_serve.server import Server

    guard = Guard(host, port)

    @web.middleware
    async def check(request, handler):
        reason = guard.refusal(request.headers.get("Host"), request.headers.get("Origin"))
        if reason:
            raise web.HTTPForbidden(text=f"inspector serve: {reason}\n")
        return await handler(request)

    class GuardedServer(Server):
        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(check)
            return app

    return GuardedServer(command, host=host, port=port, title="inspector",
                         templates_path=templates)


def serve(args: argparse.Namespace, images: list[str]) -> int:
    """Serve until interrupted; the exit code."""
    try:
        import textual_serve.server  # noqa: F401
    except ImportError as exc:
        raise InspectorError("inspector serve needs textual-serve",
                             hint="pip install 'inspector[serve]'") from exc
    with tempfile.TemporaryDirectory(prefix="inspector-serve-") as tmp:
        server = guarded_server(served_command(args, images), args.host, args.port,
                                focusing_templates(Path(tmp)))
        server.serve()
    return 0
