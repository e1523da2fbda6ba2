"""Outside the TUI: ``inspector IMAGE`` without a terminal says so and exits 1, and
``inspector serve`` passes every common option on to the app it serves and focuses the
terminal in the page."""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from inspector import cli
from inspector.tui import serve as serve_mod

NO_TTY = [
    ("one image", ["sample:distroless-static"]),
    ("the demo", []),
    ("compare", ["sample:distroless-static", "sample:hello-distroless"]),
]


@pytest.mark.parametrize(("name", "argv"), NO_TTY, ids=[n for n, _ in NO_TTY])
def test_no_terminal_is_one_line_and_exit_1(name, argv, tmp_path):
    env = {k: v for k, v in __import__("os").environ.items() if k != "TEXTUAL_DRIVER"}
    proc = subprocess.run([sys.executable, "-m", "inspector", "--cache-dir", str(tmp_path),
                           *argv], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=60, env=env)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == ("inspector: no terminal: use `inspector export` or "
                           "`inspector compare`\n")


def parse(argv: list[str]) -> argparse.Namespace:
    return cli.build_parser("serve").parse_args(argv)


FORWARDED = [
    ("nothing extra", [], []),
    ("cache dir", ["--cache-dir", "C"], ["--cache-dir"]),
    ("platform", ["--platform", "linux/arm64"], ["--platform", "linux/arm64"]),
    ("no cache", ["--no-cache"], ["--no-cache"]),
    ("no tls verify", ["--no-tls-verify"], ["--no-tls-verify"]),
    ("ca cert", ["--ca-cert", "ca.pem"], ["--ca-cert"]),
    ("anonymous and quiet", ["--anonymous", "-q"], ["--anonymous", "-q"]),
    ("all of them", ["--cache-dir", "C", "--platform", "linux/arm64/v8", "--no-cache",
                     "--no-tls-verify", "--ca-cert", "ca.pem", "--anonymous"],
     ["--cache-dir", "--platform", "--no-cache", "--no-tls-verify", "--ca-cert",
      "--anonymous"]),
]


@pytest.mark.parametrize(("name", "argv", "words"), FORWARDED, ids=[f[0] for f in FORWARDED])
def test_serve_forwards_every_common_option(name, argv, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = parse([*argv, "--port", "9", "sample:debian-12-slim", "export"])
    command = shlex.split(serve_mod.served_command(args, ["sample:debian-12-slim", "export"]))
    assert command[:3] == [sys.executable, "-m", "inspector"]
    assert all(w in command for w in words)
    assert "--port" not in command and "--host" not in command  # serve's own options
    # the served app parses the same options (paths made absolute: its cwd may differ)
    served = cli.build_parser(None).parse_args(command[3:])
    assert served.images == ["sample:debian-12-slim", "export"]  # "--" keeps a name safe
    want, got = cli._options(args), cli._options(served)
    for field in ("platform", "tls_verify", "anonymous", "no_cache", "quiet"):
        assert getattr(got, field) == getattr(want, field), field
    for field in ("cache_dir", "ca_cert"):
        mine = getattr(want, field)
        assert getattr(got, field) == (None if mine is None else (tmp_path / mine).resolve())


def test_serve_runs_the_forwarding_command_with_a_focusing_page(tmp_path, monkeypatch):
    seen = {}

    class FakeServer:
        def __init__(self, command, host, port, title, templates_path):
            seen.update(command=command, host=host, port=port, page=(
                Path(templates_path) / serve_mod.TEMPLATE).read_text("utf-8"))

        def serve(self):
            seen["served"] = True

    monkeypatch.setattr("textual_serve.server.Server", FakeServer)
    rc = cli.main(["serve", "--port", "8765", "--cache-dir", str(tmp_path), "--no-cache",
                   "sample:hello-distroless"])
    assert rc == 0 and seen["served"] and seen["port"] == 8765
    assert f"--cache-dir {tmp_path}" in seen["command"] and "--no-cache" in seen["command"]
    assert seen["command"].endswith("-- sample:hello-distroless")
    page = seen["page"]
    assert "xterm-helper-textarea" in page and page.index("focusTerminal") < page.index(
        "</body>")
    assert 'id="terminal"' in page  # textual-serve's own page, adapted
