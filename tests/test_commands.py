"""The command registry (issue 29 item 3): a command is a module in ``COMMANDS``; help,
dispatch, the common options, the batch GC switch and shell completion follow from it."""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from inspector import cli
from inspector.commands import COMMANDS
from inspector.commands.context import Context

ROOT = Path(__file__).resolve().parents[1]


def _probe(seen: dict) -> types.ModuleType:
    """A command module as a contributor would write it, registered by the test only."""
    module = types.ModuleType("inspector.commands.probe")
    module.DESCRIPTION = "Probe the registry."
    module.BATCH = True

    def add_arguments(p: argparse.ArgumentParser) -> None:
        p.add_argument("things", nargs="+", metavar="IMAGE")

    def run(args: argparse.Namespace, ctx: Context) -> int:
        seen.update(things=args.things, ctx=ctx, gc=gc.isenabled())
        return 7

    module.add_arguments, module.run = add_arguments, run
    return module


@pytest.fixture
def probe(monkeypatch):
    seen: dict = {}
    monkeypatch.setitem(COMMANDS, "probe", _probe(seen))
    return seen


def test_a_registered_module_is_a_command(probe, tmp_path):
    code = cli.main(["probe", "a", "b", "-q", "--cache-dir", str(tmp_path)])
    assert code == 7
    assert probe["things"] == ["a", "b"]
    ctx = probe["ctx"]
    assert ctx.options.quiet and ctx.options.cache_dir == tmp_path  # the common options
    assert "probe" in ctx.commands and ctx.parser("probe").prog == "inspector probe"
    assert probe["gc"] is False and gc.isenabled()  # BATCH: off for the run, then back on


def test_a_registered_command_is_in_help_and_completion(probe, capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "probe" in capsys.readouterr().out.split("Commands:")[1]
    with pytest.raises(SystemExit):
        cli.main(["probe", "--help"])
    assert "Probe the registry." in capsys.readouterr().out
    assert cli.main(["completion", "bash"]) == 0
    assert "_shtab_inspector_probe_option_strings" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_module_has_the_protocol(name):
    module = COMMANDS[name]
    assert isinstance(module.DESCRIPTION, str) and module.DESCRIPTION
    parser = cli.build_parser(name)
    assert parser.description == module.DESCRIPTION
    dests = {a.dest for a in parser._actions}
    assert {"platform", "cache_dir", "quiet", "timeout"} <= dests  # the common options, once
    assert callable(module.run)


def test_export_loads_no_scanner_or_sbom_code_it_does_not_use(tmp_path):
    """``export`` (JSON, no ``--vulns``) in a fresh interpreter: the scanner overlay, the
    SBOM writers and their purl library stay unloaded (they were ~10 ms of every export)."""
    out = tmp_path / "out.json"
    code = ("import sys; from inspector import cli; "
            f"code = cli.main(['export', 'sample:distroless-static', '-o', {str(out)!r}, '-q', "
            f"'--cache-dir', {str(tmp_path)!r}]); "
            "print(code, sorted(m for m in ('inspector.vulns', 'inspector.sbom', 'packageurl') "
            "if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0", "[]"]
    assert json.loads(out.read_text())["packages"]  # the export itself was written
