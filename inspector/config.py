"""Defaults from one config file and the environment.

Precedence, highest first: a command-line flag, an ``INSPECTOR_*`` environment variable,
``$XDG_CONFIG_HOME/inspector/config.toml`` (``~/.config/inspector/config.toml``), the
built-in default. The file is flat TOML::

    platform  = "linux/arm64"       # INSPECTOR_PLATFORM     --platform
    cache_dir = "/var/cache/insp"   # INSPECTOR_CACHE_DIR    --cache-dir
    cache_max = "10G"               # INSPECTOR_CACHE_MAX    --cache-max (bytes, or K/M/G/T)
    ca_cert   = "/etc/ssl/corp.pem" # INSPECTOR_CA_CERT      --ca-cert
    rules     = "~/rules.toml"      # INSPECTOR_RULES        the default rules file of `check`

An unknown key or a value of the wrong kind is one error line naming the file and the key.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from inspector.errors import InspectorError

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)\s*$", re.IGNORECASE)
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)
_AGE_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class ConfigError(InspectorError):
    """A setting in the config file or the environment cannot be used."""


def parse_size(text: str | int) -> int:
    """``"5G"``, ``"512MiB"``, ``"1.5g"``, ``"0"`` → bytes. K/M/G/T are powers of 1024
    (what ``du -h`` and ``docker`` print); ``ValueError`` for anything else."""
    if isinstance(text, int) and not isinstance(text, bool) and text >= 0:
        return text
    m = _SIZE.match(str(text))
    if not m:
        raise ValueError(f"not a size: {text!r} (e.g. 5G, 500M, 1073741824)")
    return int(float(m.group(1)) * 1024 ** " kmgtp".index(m.group(2).lower() or " "))


def parse_age(text: str) -> float:
    """``"30d"``, ``"12h"``, ``"45m"``, ``"90s"``, ``"2w"`` → seconds."""
    m = _AGE.match(str(text))
    if not m:
        raise ValueError(f"not an age: {text!r} (e.g. 30d, 12h, 45m)")
    return float(m.group(1)) * _AGE_UNITS[m.group(2).lower()]


def _path(value: Any) -> Path:
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a path: {value!r}")
    return Path(value).expanduser()


def _platform(value: Any) -> str:
    from inspector.oci.platform import Platform

    if not isinstance(value, str):
        raise ValueError(f"not a platform: {value!r}")
    Platform.parse(value)  # raises on nonsense
    return value


#: setting → (parser, attribute of the parsed command line it fills)
SETTINGS: dict[str, tuple[Callable[[Any], Any], str]] = {
    "platform": (_platform, "platform"),
    "cache_dir": (_path, "cache_dir"),
    "cache_max": (parse_size, "cache_max"),
    "ca_cert": (_path, "ca_cert"),
    "rules": (_path, "rules"),
}
DEFAULTS = {"platform": "linux/amd64"}


def config_file(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "inspector" / "config.toml"


def _read_file(path: Path) -> dict:
    try:
        f = open(path, "rb")
    except FileNotFoundError:  # the usual case: no config file, and no TOML parser to import
        return {}
    except OSError as exc:
        raise ConfigError(f"config {path}: cannot read it ({exc.strerror})") from exc
    import tomllib  # ~7 ms: only when there is a file to parse

    try:
        with f:
            return tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"config {path}: cannot read it ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {path}: not valid TOML ({exc})",
                          hint="fix the file or remove it") from exc


def load(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings from the environment over the file (flags are applied by ``apply``)."""
    environ = os.environ if environ is None else environ
    path = config_file(environ)
    raw = _read_file(path)
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in SETTINGS:
            raise ConfigError(f"config {path}: unknown key {key!r}",
                              hint="known keys: " + ", ".join(SETTINGS))
        out[key] = _parse(key, value, f"config {path}: {key}")
    for key in SETTINGS:
        name = "INSPECTOR_" + key.upper()
        if environ.get(name):
            out[key] = _parse(key, environ[name], name)
    return out


def _parse(key: str, value: Any, where: str) -> Any:
    try:
        return SETTINGS[key][0](value)
    except (ValueError, TypeError, InspectorError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def apply(args: Any, environ: Mapping[str, str] | None = None) -> None:
    """Fill every setting the command line left unset (``None``) from the environment,
    then the file, then the default."""
    settings = load(environ)
    for key, (_parser, attr) in SETTINGS.items():
        if getattr(args, attr, None) is None:
            setattr(args, attr, settings.get(key, DEFAULTS.get(key)))


def size_arg(text: str) -> int:
    """``parse_size`` for argparse (a bad size is a usage error, exit 2)."""
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def version_text() -> str:
    """``inspector X``, the textual and Python it runs with, and whether the C accelerator
    is on (``off (why)`` when it is not: not built, a stale build, ``INSPECTOR_PURE=1``)."""
    from importlib.metadata import PackageNotFoundError, version

    import inspector
    from inspector.index import tarscan

    try:
        textual = version("textual")
    except PackageNotFoundError:
        textual = "not installed"
    return (f"inspector {inspector.__version__}\n"
            f"textual {textual}, Python {sys.version.split()[0]} ({sys.executable})\n"
            f"accelerator: {tarscan.status()}")


class VersionAction(argparse.Action):
    """``--version``, looked up only when asked (it reads package metadata)."""

    def __init__(self, option_strings, dest, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the versions and exit")

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(version_text())
        parser.exit()
