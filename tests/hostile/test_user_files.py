"""Hostile files a user names (issue 23 item 7): the rules file (``--rules`` of check and
audit, ``INSPECTOR_RULES``, ``rules =`` in config.toml), ``config.toml`` itself and
``audit --from``. Each case × each entry point runs the real CLI in a child process with
an address-space limit and a timeout, so a regression (reading /dev/zero into memory, a
FIFO that blocks, a billion-laughs expansion, a backtracking glob) fails here instead of
taking CI down. The contract: exit 2, exactly one line on stderr naming the file (and the
line and key where there is one), no traceback, never the last-resort handler."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: address space a child may use (the CLI needs ~300 MB; /dev/zero or the laughs need GBs)
MEMORY = 1 << 31
#: a guard, not a speed check: every case finishes in about a second
TIMEOUT = 120
#: a user that does not exist, for ``~user/`` paths
NOUSER = "~inspector-no-such-user-7f3a"
#: an image that is never opened: every failure here comes before it
NOWHERE = "oci:/nowhere:t"

LAUGHS = "".join(f"{a}: &{a} [{', '.join([f'*{p}'] * 9 if p else ['lol'] * 9)}]\n"
                 for p, a in zip([None, *"abcdefgh"], "abcdefghi", strict=True)) + "rules:\n  lowestEfficiency: *i\n"


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def cli(args: list[str], env: dict[str, str], tmp: Path) -> subprocess.CompletedProcess:
    """``inspector ARGS`` in a child limited to ``MEMORY`` and ``TIMEOUT``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("INSPECTOR_")}
    base.update({"XDG_CONFIG_HOME": str(tmp / "xdg"), "PYTHONPATH": str(ROOT), **env})
    return subprocess.run([sys.executable, "-m", "inspector", *args], capture_output=True,
                          text=True, cwd=tmp, env=base, timeout=TIMEOUT, preexec_fn=_limit)


def assert_one_line(proc: subprocess.CompletedProcess, *naming: str, code: int = 2) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "please report this" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert len(lines) == 1, lines
    for word in naming:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def _write(path: Path, content: str | bytes | None) -> str:
    """Make the hostile file at ``path``; its name as given to the CLI."""
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    return str(path)


# (name, how to make the file: text/bytes, or a special: zero, fifo, nouser, sparse;
#  what the line names besides the file)
RULES_CASES = [
    ("dev-zero", "zero", ["character device"]),
    ("fifo", "fifo", ["FIFO"]),
    ("too-large", "sparse", ["larger than"]),
    ("binary", b"\x7fELF\x02\x01\x01\x00\x00" + bytes(range(256)) * 8, ["line 1", "binary"]),
    ("not-utf8", "[rules]\nforbid_paths = [\"\xff\"]\n".encode("latin-1"), ["line 2", "UTF-8"]),
    ("nouser", "nouser", [NOUSER[1:]]),
    ("billion-laughs.yaml", LAUGHS, ["line 1", "a: ", "aliases"]),
    ("size-400-digits", f'[rules]\nmax_size = "{"9" * 400}"\n', ["line 2", "max_size", "too large"]),
    ("int-400-digits", f"[rules]\nmax_files = {'9' * 400}\n", ["line 2", "max_files", "too large"]),
    ("number-5000-digits", f"[rules]\n\nmax_files = {'1' * 5000}\n", ["line 3", "max_files", "4300"]),
    ("yaml-5000-digits.yaml", f"rules:\n  highestWastedBytes: {'1' * 5000}\n",
     ["line 2", "highestWastedBytes", "4300"]),
    ("string-5000-digits", f'[rules]\nmax_files = "{"1" * 5000}"\n', ["line 2", "max_files"]),
    ("dive-ratio-huge", f"[rules]\nlowestEfficiency = {'9' * 400}.0\n", ["line 2", "lowestEfficiency"]),
    ("dive-ratio-nan", "[rules]\nhighestUserWastedPercent = nan\n", ["line 2", "highestUserWastedPercent"]),
    ("dive-value-a-list.yaml", "rules:\n  lowestEfficiency: [1, [2, [3]]]\n", ["line 2", "lowestEfficiency"]),
    ("nesting-50k", "[rules]\nforbid_paths = " + "[" * 50_000 + "]" * 50_000 + "\n",
     ["line 2", "forbid_paths", "nested"]),
    ("nesting-50k.yaml", "rules:\n  lowestEfficiency: " + "[" * 50_000 + "]" * 50_000 + "\n",
     ["line 2", "lowestEfficiency", "nested"]),
    ("nesting-tables", "[rules]\nmax_files = " + "{a=" * 50_000 + "1" + "}" * 50_000 + "\n",
     ["line 2", "max_files", "nested"]),
    ("glob-reversed-range", '[rules]\nforbid_paths = ["/bin/[z-a]"]\n', ["line 2", "forbid_paths", "z-a"]),
    ("package-glob-reversed", '[rules]\n\nforbid_packages = ["lib[9-0]*"]\n',
     ["line 3", "forbid_packages", "9-0"]),
    ("glob-too-long", f'[rules]\nforbid_paths = ["{"*" * 5000}"]\n', ["line 2", "forbid_paths", "longer"]),
]


def make(tmp: Path, name: str, content) -> str:
    if content == "zero":
        return "/dev/zero"
    if content == "nouser":
        return f"{NOUSER}/rules.toml"
    path = tmp / (name if "." in name else name + ".toml")
    if content == "fifo":
        os.mkfifo(path)
    elif content == "sparse":
        with open(path, "wb") as f:
            f.truncate(40 << 20)  # 40 MB of holes: no disk, past every cap
    else:
        _write(path, content)
    return str(path)


def _rules_via(entry: str, rules: str, tmp: Path) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that hand ``rules`` to the CLI by ``entry``."""
    cache = ["-q", "--cache-dir", str(tmp / "cache")]
    if entry == "check --rules":
        return ["check", NOWHERE, "--rules", rules, *cache], {}
    if entry == "audit --rules":
        return ["audit", NOWHERE, "--rules", rules, *cache], {}
    if entry == "INSPECTOR_RULES":
        return ["check", NOWHERE, *cache], {"INSPECTOR_RULES": rules}
    config = tmp / "xdg" / "inspector" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f"rules = {rules!r}\n".replace("'", '"'))
    return ["check", NOWHERE, *cache], {}


RULES_ENTRIES = ["check --rules", "audit --rules", "INSPECTOR_RULES", "config.toml rules"]


@pytest.mark.parametrize("entry", RULES_ENTRIES)
@pytest.mark.parametrize(("name", "content", "naming"), RULES_CASES, ids=[c[0] for c in RULES_CASES])
def test_hostile_rules_file(tmp_path, entry, name, content, naming):
    rules = make(tmp_path, name, content)
    args, env = _rules_via(entry, rules, tmp_path)
    proc = cli(args, env, tmp_path)
    shown = rules if content != "nouser" else NOUSER
    assert_one_line(proc, shown, *naming)


# config.toml itself (name, content as for RULES_CASES, what the line names)
CONFIG_CASES = [
    ("dev-zero", "zero", ["character device"]),
    ("fifo", "fifo", ["FIFO"]),
    ("too-large", "sparse", ["larger than"]),
    ("binary", b"platform = 1\n\x00\x01\x02", ["line 2", "binary"]),
    ("size-400-digits", f'cache_max = "{"9" * 400}"\n', ["line 1", "cache_max", "too large"]),
    ("int-400-digits", f"cache_max = {'9' * 400}\n", ["line 1", "cache_max", "not a size"]),
    ("number-5000-digits", f'platform = "linux/amd64"\ncache_max = {"1" * 5000}\n',
     ["line 2", "cache_max", "4300"]),
    ("nesting-20k", "platform = " + "[" * 20_000 + "]" * 20_000 + "\n", ["line 1", "platform", "nested"]),
    ("nesting-50k", "platform = " + "[" * 50_000 + "]" * 50_000 + "\n", ["larger than"]),
    ("nouser-cache-dir", f'\ncache_dir = "{NOUSER}/cache"\n', ["line 2", "cache_dir", NOUSER[1:]]),
    ("nouser-rules", f'rules = "{NOUSER}/r.toml"\n', ["line 1", "rules", NOUSER[1:]]),
    ("value-a-deep-list", "platform = " + "[" * 50 + "]" * 50 + "\n", ["line 1", "platform"]),
    ("unknown-key-escape", '"\\u001b]0;pwned\\u0007" = 1\n', ["unknown key", "\\x1b]0;pwned\\x07"]),
]


@pytest.mark.parametrize(("name", "content", "naming"), CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_hostile_config_file(tmp_path, name, content, naming):
    config = tmp_path / "xdg" / "inspector" / "config.toml"
    config.parent.mkdir(parents=True)
    if content == "zero":
        config.symlink_to("/dev/zero")
    else:
        config.symlink_to(make(tmp_path, name, content))
    proc = cli(["check", NOWHERE, "-q", "--cache-dir", str(tmp_path / "cache")], {}, tmp_path)
    line = assert_one_line(proc, "config.toml", *naming)
    assert "\x1b" not in line


LIST_CASES = [
    ("dev-zero", "zero", ["character device"]),
    ("fifo", "fifo", ["FIFO"]),
    ("too-large", "sparse", ["larger than"]),
    ("binary", b"sample:distroless-static\n\x00\x01", ["line 2", "binary"]),
    ("utf-16", "sample:distroless-static\n".encode("utf-16"), ["line 1", "UTF-8"]),
    ("nouser", "nouser", [NOUSER[1:]]),
]


@pytest.mark.parametrize(("name", "content", "naming"), LIST_CASES, ids=[c[0] for c in LIST_CASES])
def test_hostile_image_list(tmp_path, name, content, naming):
    listed = make(tmp_path, name + ".txt", content)
    proc = cli(["audit", "--from", listed, "-q", "--cache-dir", str(tmp_path / "cache")], {},
               tmp_path)
    assert_one_line(proc, "image list", listed if content != "nouser" else NOUSER, *naming)


def test_a_bom_at_the_start_of_the_list_is_ignored(tmp_path):
    listed = tmp_path / "list.txt"
    listed.write_bytes(b"\xef\xbb\xbfsample:distroless-static\n")
    proc = cli(["audit", "--from", str(listed), "-q", "--workers", "1", "--format", "csv",
                "--cache-dir", str(tmp_path / "cache")], {}, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1].startswith("sample:distroless-static,")


# globs that used to reach the last-resort handler or hang, now ordinary rules
GLOB_RUNS = [
    ("bracket-first-is-literal", '[rules]\nforbid_paths = ["/etc/[]x]"]\n', "pass"),
    ("nested-set-no-warning", '[rules]\nforbid_paths = ["/etc/[[]pas[s]wd"]\n', "pass"),
    # a regex engine tries C(len(path), 30) ways to place the 30 "?" on every long path
    ("backtracking-path-glob", f'[rules]\nforbid_paths = ["/{"**?" * 30}**#"]\n', "pass"),
    ("matches-a-real-path", '[rules]\nforbid_paths = ["/etc/[o]s-releas[!x]"]\n', "fail"),
]


@pytest.mark.parametrize(("name", "toml", "status"), GLOB_RUNS, ids=[c[0] for c in GLOB_RUNS])
def test_odd_globs_run_as_rules(tmp_path, name, toml, status):
    import json

    rules = tmp_path / "rules.toml"
    rules.write_text(toml)
    proc = cli(["check", "sample:distroless-static", "--rules", str(rules), "-q", "--format",
                "json", "--cache-dir", str(tmp_path / "cache")], {}, tmp_path)
    assert proc.stderr == "", proc.stderr  # no FutureWarning, no error
    verdicts = json.loads(proc.stdout)["images"][0]["verdicts"]
    assert [v["status"] for v in verdicts] == [status]


def test_a_bad_tags_glob_fails_before_any_request(tmp_path):
    # port 9 (discard) on loopback: a request would fail with a connection error instead
    proc = cli(["audit", "--catalog", "127.0.0.1:9", "--tags", "v[9-0]*", "-q",
                "--cache-dir", str(tmp_path / "cache")], {}, tmp_path)
    assert_one_line(proc, "--tags", "9-0")
