"""``inspector serve``: the TUI in a browser through textual-serve.

The served command is ``python -m inspector`` with the images *and every common option*
(cache, platform, TLS, credentials…), so the browser shows what the terminal would. The
page is textual-serve's own, plus a script that focuses the terminal once it is drawn:
without it the first keys go to the page (and a stray ``a`` opens the add-image prompt)."""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from pathlib import Path

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


def serve(args: argparse.Namespace, images: list[str]) -> int:
    """Serve until interrupted; the exit code."""
    try:
        from textual_serve.server import Server
    except ImportError as exc:
        raise InspectorError("inspector serve needs textual-serve",
                             hint="pip install 'inspector[serve]'") from exc
    with tempfile.TemporaryDirectory(prefix="inspector-serve-") as tmp:
        server = Server(served_command(args, images), host=args.host, port=args.port,
                        title="inspector", templates_path=focusing_templates(Path(tmp)))
        server.serve()
    return 0
