"""``inspector cache info|prune|clear``, ``--cache-max`` on a real run, and shell completion
(bash driven for real; zsh and fish checked by their own parsers and driven where they
can be)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.tools import require_tool

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inspector", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, env=env)


def _kinds(stdout: str) -> dict[str, int]:
    """``kind -> entries`` from ``cache info``."""
    rows = {}
    for line in stdout.splitlines()[3:]:
        kind, entries, *_ = line.split()
        rows[kind] = int(entries)
    return rows


@pytest.fixture
def warm_cache(tmp_path) -> Path:
    cache = tmp_path / "cache"
    proc = run("export", "sample:distroless-static", "-q", "--cache-dir", str(cache),
               "-o", str(tmp_path / "out.json"))
    assert proc.returncode == 0, proc.stderr
    return cache


def test_info_shows_path_cap_and_entries_per_kind(warm_cache):
    proc = run("cache", "info", "--cache-dir", str(warm_cache), "--cache-max", "2G")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"cache  {warm_cache}"
    assert lines[1].startswith("cap    2.0 GiB")
    rows = _kinds(proc.stdout)
    indexes = len(list(warm_cache.rglob("*.idx")))
    assert indexes > 0 and rows["index"] == indexes
    # an export stores its files array and its tail (packages, base/own sides)
    assert rows["analysis"] == 1 and rows["export"] == 2 and rows["blobs"] == 0
    assert rows["total"] == sum(v for k, v in rows.items() if k != "total")


def test_prune_older_than_and_max_size(warm_cache):
    from inspector.cache_admin import STAMP

    entries = [p for p in warm_cache.rglob("*") if p.is_file() and p.name != STAMP]
    old = time.time() - 40 * 86400
    os.utime(entries[0], (old, old))
    proc = run("cache", "prune", "--older-than", "30d", "--cache-dir", str(warm_cache))
    assert proc.returncode == 0, proc.stderr
    assert not entries[0].exists() and all(p.exists() for p in entries[1:])
    proc = run("cache", "prune", "--max-size", "0", "--cache-dir", str(warm_cache))
    assert proc.returncode == 0, proc.stderr
    assert [p for p in warm_cache.rglob("*") if p.is_file()] == []


def test_clear_then_info_is_empty(warm_cache):
    assert run("cache", "clear", "--cache-dir", str(warm_cache)).returncode == 0
    rows = _kinds(run("cache", "info", "--cache-dir", str(warm_cache)).stdout)
    assert rows["total"] == 0


USAGE = [
    ("no action", ["cache"], 2, "action"),
    ("unknown action", ["cache", "wipe"], 2, "invalid choice"),
    ("bad size", ["cache", "prune", "--max-size", "lots"], 2, "not a size"),
    ("bad age", ["cache", "prune", "--older-than", "soon"], 2, "not an age"),
    ("size with clear", ["cache", "clear", "--max-size", "1G"], 1, "go with prune"),
    ("bad cap", ["cache", "info", "--cache-max", "x"], 2, "not a size"),
]


@pytest.mark.parametrize("name,args,rc,message", USAGE, ids=[u[0] for u in USAGE])
def test_cache_usage_errors(tmp_path, name, args, rc, message):
    proc = run(*args, "--cache-dir", str(tmp_path / "c"))
    assert proc.returncode == rc
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_cache_max_on_a_run_keeps_the_cache_under_the_cap(tmp_path):
    """A real run with a cap smaller than its entries: what is left fits, and the small
    per-layer indexes are what is kept."""
    cache = tmp_path / "cache"
    proc = run("export", "sample:debian-12-slim", "-q", "--cache-dir", str(cache),
               "-o", str(tmp_path / "a.json"))
    assert proc.returncode == 0, proc.stderr
    sizes = {k: v for k, v in _sizes(cache).items()}
    cap = sizes["index"] + 1024
    assert sizes["export"] + sizes["analysis"] > 1024  # the cap forces an eviction
    proc = run("cache", "info", "--cache-dir", str(cache), "--cache-max", str(cap))
    assert proc.returncode == 0
    proc = run("export", "sample:debian-12-slim", "-q", "--cache-dir", str(cache),
               "--cache-max", str(cap), "-o", str(tmp_path / "b.json"))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "a.json").read_text() == (tmp_path / "b.json").read_text()
    after = _sizes(cache)
    assert after["index"] == sizes["index"]  # every index kept


def _sizes(cache: Path) -> dict[str, int]:
    from inspector import cache_admin

    out: dict[str, int] = {}
    for e in cache_admin.entries(cache):
        out[e.kind] = out.get(e.kind, 0) + e.size
    return {k: out.get(k, 0) for k in cache_admin.KINDS}


#: (name, action, whether the cache directory exists): every line that names the cache
CACHE_LINES = [
    ("info, absent", "info", False),
    ("info, present", "info", True),
    ("prune, absent", "prune", False),
    ("prune, present", "prune", True),
    ("clear, present", "clear", True),
]


@pytest.mark.parametrize(("name", "action", "exists"), CACHE_LINES, ids=[c[0] for c in CACHE_LINES])
def test_a_hostile_cache_path_is_shown_visibly(tmp_path, name, action, exists):
    """The cache path comes from the user's environment (``XDG_CACHE_HOME``): a directory
    name holding escape sequences reaches the terminal through ``visible()``."""
    from tests.hostile.strings import HOSTILE, assert_inert

    strings = [h for h in HOSTILE if h.in_path]
    xdg = tmp_path / ("x-" + "".join(h.raw for h in strings))
    if exists:
        (xdg / "inspector" / "index").mkdir(parents=True)
    env = {**os.environ, "XDG_CACHE_HOME": str(xdg)}
    proc = run("cache", action, env=env)
    assert proc.returncode == 0, proc.stderr
    assert_inert(proc.stdout + proc.stderr, *(h.shown for h in strings))


# --- shell completion ----------------------------------------------------------------------

BASH_DRIVER = r"""
source "$1"
comp() {
  COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}
  local line="${COMP_LINE//:/ : }"   # bash splits at ':' (COMP_WORDBREAKS)
  read -ra COMP_WORDS <<< "$line"
  [[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
  COMPREPLY=()
  _inspector_complete
  printf '%s\n' "${COMPREPLY[*]}"
}
shift
for line in "$@"; do comp "$line"; done
"""


@pytest.fixture(scope="module")
def bash_script(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("completion") / "inspector.bash"
    proc = run("completion", "bash")
    assert proc.returncode == 0, proc.stderr
    path.write_text(proc.stdout)
    return path


def _complete_bash(script: Path, line: str) -> list[str]:
    bash = require_tool("bash")
    proc = subprocess.run([bash, "-c", BASH_DRIVER, "driver", str(script), line],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


BASH_CASES = [
    # (name, line typed, candidates that must be offered, candidates that must not)
    ("command", "inspector ex", ["export"], ["compare"]),
    ("option", "inspector export --fo", ["--format"], ["--files"]),
    ("choices", "inspector compare --format ", ["text", "markdown", "json"], []),
    ("cache actions", "inspector cache ", ["info", "prune", "clear"], []),
    ("shells", "inspector completion ", ["bash", "zsh", "fish"], []),
    ("cache options", "inspector cache prune --m", ["--max-size"], []),
    ("sample names", "inspector sample:distroless-st", ["distroless-static", "distroless-static-debug"],
     ["debian-12-slim"]),
    ("sample after command", "inspector compare sample:debian-12-slim sample:deb", ["debian-12-slim"], []),
    ("transports", "inspector export oci", ["oci:", "oci-archive:"], ["docker-daemon:"]),
]


@pytest.mark.parametrize("name,line,offered,not_offered", BASH_CASES, ids=[c[0] for c in BASH_CASES])
def test_bash_completion(bash_script, name, line, offered, not_offered):
    got = _complete_bash(bash_script, line)
    assert set(offered) <= set(got), got
    assert not set(not_offered) & set(got), got


def test_bash_completes_local_paths_after_a_transport(bash_script, tmp_path):
    (tmp_path / "layout-one").mkdir()
    (tmp_path / "image.tar").write_bytes(b"")
    assert _complete_bash(bash_script, f"inspector export oci:{tmp_path}/lay") == [f"{tmp_path}/layout-one"]
    assert _complete_bash(bash_script, f"inspector docker-archive:{tmp_path}/im") == [f"{tmp_path}/image.tar"]
    assert _complete_bash(bash_script, f"inspector {tmp_path}/im") == [f"{tmp_path}/image.tar"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_parse_and_name_everything(shell, tmp_path):
    exe = require_tool(shell)
    proc = run("completion", shell)
    assert proc.returncode == 0, proc.stderr
    path = tmp_path / f"inspector.{shell}"
    path.write_text(proc.stdout)
    check = subprocess.run([exe, "-n", str(path)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
    for word in ("export", "compare", "cache", "completion", "--cache-max", "--max-size",
                 "sample:distroless-static", "docker-archive:", "__fish_complete_path" if shell == "fish"
                 else "_files"):
        assert word in proc.stdout, word


def test_fish_completes_samples_and_commands(tmp_path):
    fish = require_tool("fish")
    script = tmp_path / "inspector.fish"
    script.write_text(run("completion", "fish").stdout)
    proc = subprocess.run([fish, "--no-config", "-c", f"source {script}; complete -C 'inspector sample:distroless-st'; "
                           "complete -C 'inspector cache '"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    got = [line.split("\t")[0] for line in proc.stdout.splitlines()]
    assert {"sample:distroless-static", "sample:distroless-static-debug", "info", "prune", "clear"} <= set(got), got
