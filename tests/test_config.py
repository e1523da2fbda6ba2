"""Everyday conventions: ``--version``, the config file and ``INSPECTOR_*`` variables
(flag > environment > file > default), sizes and ages, and tests that keep out of the
user's cache."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from inspector import config
from inspector.config import ConfigError, parse_age, parse_size

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inspector", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, env=env)


SIZES = [
    ("bytes", "1048576", 1 << 20),
    ("int", 4096, 4096),
    ("kilo", "4k", 4096),
    ("mega", "500M", 500 << 20),
    ("giga-ib", "5GiB", 5 << 30),
    ("giga-b", "2GB", 2 << 30),
    ("fraction", "1.5g", int(1.5 * (1 << 30))),
    ("zero", "0", 0),
    ("spaces", " 10 M ", 10 << 20),
]


@pytest.mark.parametrize("name,text,expected", SIZES, ids=[s[0] for s in SIZES])
def test_parse_size(name, text, expected):
    assert parse_size(text) == expected


BAD_SIZES = [("word", "big"), ("negative", "-1G"), ("unit only", "G"), ("bad unit", "5X"),
             ("bool", True), ("negative int", -5)]


@pytest.mark.parametrize("name,text", BAD_SIZES, ids=[s[0] for s in BAD_SIZES])
def test_parse_size_refuses(name, text):
    with pytest.raises(ValueError):
        parse_size(text)


AGES = [("seconds", "90", 90), ("s", "90s", 90), ("minutes", "45m", 2700), ("hours", "12h", 43200),
        ("days", "30d", 30 * 86400), ("weeks", "2w", 14 * 86400)]


@pytest.mark.parametrize("name,text,expected", AGES, ids=[a[0] for a in AGES])
def test_parse_age(name, text, expected):
    assert parse_age(text) == expected


def _args(**given) -> argparse.Namespace:
    base = {"platform": None, "cache_dir": None, "cache_max": None, "ca_cert": None}
    return argparse.Namespace(**{**base, **given})


def _env(tmp_path: Path, file_text: str | None = None, **variables: str) -> dict:
    if file_text is not None:
        (tmp_path / "xdg" / "inspector").mkdir(parents=True, exist_ok=True)
        (tmp_path / "xdg" / "inspector" / "config.toml").write_text(file_text)
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), **variables}


FILE = 'cache_dir = "/from/file"\ncache_max = "1G"\nplatform = "linux/arm64"\n'
PRECEDENCE = [
    # (name, file, environment, flags, expected (cache_dir, cache_max, platform))
    ("defaults", None, {}, {}, (None, None, "linux/amd64")),
    ("file", FILE, {}, {}, (Path("/from/file"), 1 << 30, "linux/arm64")),
    ("env over file", FILE, {"INSPECTOR_CACHE_DIR": "/from/env", "INSPECTOR_CACHE_MAX": "2G"}, {},
     (Path("/from/env"), 2 << 30, "linux/arm64")),
    ("flag over env", FILE, {"INSPECTOR_CACHE_DIR": "/from/env", "INSPECTOR_PLATFORM": "linux/s390x"},
     {"cache_dir": Path("/from/flag"), "platform": "linux/ppc64le"},
     (Path("/from/flag"), 1 << 30, "linux/ppc64le")),
    ("empty env is unset", FILE, {"INSPECTOR_CACHE_DIR": ""}, {}, (Path("/from/file"), 1 << 30, "linux/arm64")),
]


@pytest.mark.parametrize("name,file,environ,flags,expected", PRECEDENCE, ids=[p[0] for p in PRECEDENCE])
def test_precedence_flag_env_file_default(tmp_path, name, file, environ, flags, expected):
    args = _args(**flags)
    config.apply(args, _env(tmp_path, file, **environ))
    assert (args.cache_dir, args.cache_max, args.platform) == expected


MALFORMED = [
    ("not toml", "cache_max = \n", "not valid TOML"),
    ("unknown key", "cache_size = 5\n", "unknown key 'cache_size'"),
    ("bad size", 'cache_max = "lots"\n', "cache_max"),
    ("bad platform", 'platform = "linux"\n', "platform"),
    ("path not a string", "cache_dir = 5\n", "cache_dir"),
]


@pytest.mark.parametrize("name,text,named", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_file_is_one_error_naming_the_key(tmp_path, name, text, named):
    with pytest.raises(ConfigError) as err:
        config.apply(_args(), _env(tmp_path, text))
    assert named in str(err.value) and "config.toml" in str(err.value)


def test_a_malformed_variable_is_named(tmp_path):
    with pytest.raises(ConfigError, match="INSPECTOR_CACHE_MAX"):
        config.apply(_args(), _env(tmp_path, None, INSPECTOR_CACHE_MAX="huge"))


def test_cli_malformed_config_is_one_line_exit_2(tmp_path):
    env = {**os.environ, **_env(tmp_path, 'cache_max = "lots"\n')}
    proc = run("export", "sample:distroless-static", "--no-cache", env=env)
    assert proc.returncode == 2  # the user's own file: a usage error
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "cache_max" in lines[0] and "config.toml" in lines[0], proc.stderr


def test_cli_cache_dir_from_the_environment_is_used(tmp_path):
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
           "INSPECTOR_CACHE_DIR": str(tmp_path / "envcache")}
    proc = run("export", "sample:distroless-static", "-q", "-o", str(tmp_path / "out.json"), env=env)
    assert proc.returncode == 0, proc.stderr
    assert list((tmp_path / "envcache" / "index").rglob("*.idx"))


def test_version():
    from importlib.metadata import version

    import inspector

    proc = run("--version")
    assert proc.returncode == 0, proc.stderr
    first, second, third = proc.stdout.splitlines()
    assert first == f"inspector {inspector.__version__}"
    assert f"textual {version('textual')}" in second
    assert f"Python {sys.version.split()[0]}" in second
    assert third.startswith("accelerator: ")  # on / off (why): tests/index/test_tarscan_stale.py


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*")] if root.exists() else []


def test_commands_write_nothing_to_the_user_cache_unless_meant(tmp_path):
    """With ``XDG_CACHE_HOME`` at an empty directory, commands given ``--cache-dir`` or
    ``--no-cache`` (as every test does) leave it empty; only a run without either writes
    there, which shows the variable was honoured."""
    xdg = tmp_path / "xdg-cache"
    xdg.mkdir()
    env = {**os.environ, "XDG_CACHE_HOME": str(xdg), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    env.pop("INSPECTOR_CACHE_DIR", None)
    for args in (["--version"], ["samples"], ["completion", "bash"],
                 ["cache", "info", "--cache-dir", str(tmp_path / "c")],
                 ["export", "sample:distroless-static", "-q", "--cache-dir", str(tmp_path / "c")],
                 ["export", "sample:distroless-static", "-q", "--no-cache"]):
        proc = run(*args, env=env)
        assert proc.returncode == 0, (args, proc.stderr)
        assert _files(xdg) == [], args
    proc = run("export", "sample:distroless-static", "-q", env=env)
    assert proc.returncode == 0, proc.stderr
    assert list((xdg / "inspector" / "index").rglob("*.idx"))  # the default cache is XDG's


def test_test_built_roots_stay_out_of_the_user_cache_and_the_clone():
    """The debootstrap roots the tests build live outside inspector's own cache (a prune
    never sees them) and outside the repository (a clean clone, as CI runs, keeps them)."""
    import platformdirs

    from tests.catalog.fsbuild import TEST_ROOTS

    if os.environ.get("INSPECTOR_TEST_ROOTS"):
        pytest.skip("moved on purpose by INSPECTOR_TEST_ROOTS")
    for cache in (Path.home() / ".cache" / "inspector", Path(platformdirs.user_cache_dir("inspector"))):
        assert not TEST_ROOTS.is_relative_to(cache)
    assert not TEST_ROOTS.is_relative_to(ROOT)


#: (name, what changes in the inputs): each must give another root, never the cached one
ROOT_INPUT_CHANGES = [
    ("recipe", {"recipe": 99}),
    ("suite", {"suite": "trixie"}),
    ("extra packages", {"include": ["curl"]}),
    ("mirror", {"mirror": "http://mirror.example/debian"}),
    ("debootstrap version", {"debootstrap": "0.0.1"}),
    ("architecture", {"arch": "arm64"}),
]


@pytest.mark.parametrize(("name", "change"), ROOT_INPUT_CHANGES, ids=[c[0] for c in ROOT_INPUT_CHANGES])
def test_a_test_root_is_keyed_by_its_inputs(name, change):
    from tests.catalog.fsbuild import root_inputs, root_key

    inputs = root_inputs()
    assert root_key(inputs) == root_key(root_inputs())
    assert root_key({**inputs, **change}) != root_key(inputs)


def test_the_tests_default_cache_is_not_the_users():
    """tests/conftest.py: a bare ``Options()`` (and a CLI run without ``--cache-dir``)
    writes into a directory of the test session, never the developer's cache."""
    from inspector.options import Options

    root = Options().resolved_cache_dir()
    assert not root.is_relative_to(Path.home() / ".cache")
    assert root.is_relative_to(Path(os.environ["XDG_CACHE_HOME"]))
