"""Defaults from one config file and the environment.

Precedence, highest first: a command-line flag, an ``INSPECTOR_*`` environment variable,
``$XDG_CONFIG_HOME/inspector/config.toml`` (``~/.config/inspector/config.toml``), the
built-in default. The file is flat TOML::

    platform  = "linux/arm64"       # INSPECTOR_PLATFORM     --platform
    cache_dir = "/var/cache/insp"   # INSPECTOR_CACHE_DIR    --cache-dir
    cache_max = "10G"               # INSPECTOR_CACHE_MAX    --cache-max (bytes, or K/M/G/T)
    ca_cert   = "/etc/ssl/corp.pem" # INSPECTOR_CA_CERT      --ca-cert
    rules     = "~/rules.toml"      # INSPECTOR_RULES        the default rules file of `check`

An unknown key or a value of the wrong kind is one error line naming the file and the key
(exit 2). The file is read as ``inspector.userfile`` reads every file a user names: a
regular file only, at most 64 kB, UTF-8.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from inspector.errors import InputError, InspectorError
from inspector.visible import visible

#: the largest config.toml read (bytes): it holds five short settings
MAX_CONFIG_BYTES = 64 * 1024
#: the largest size a setting takes (bytes)
MAX_SIZE = 2 ** 63 - 1
#: patterns of a size and an age, compiled when one is parsed (``re``'s cache), not at
#: every start-up
_SIZE = r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)\s*$"
_AGE = r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$"
_AGE_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class ConfigError(InputError):
    """A setting in the config file or the environment cannot be used (exit 2)."""


def parse_size(text: str | int) -> int:
    """``"5G"``, ``"512MiB"``, ``"1.5g"``, ``"0"`` → bytes. K/M/G/T are powers of 1024
    (what ``du -h`` and ``docker`` print); ``ValueError`` for anything else."""
    if isinstance(text, int) and not isinstance(text, bool) and 0 <= text <= MAX_SIZE:
        return text
    m = re.match(_SIZE, text, re.IGNORECASE) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"not a size: {_short(text)} (e.g. 5G, 500M, 1073741824)")
    value = float(m.group(1)) * 1024 ** " kmgtp".index(m.group(2).lower() or " ")
    if not value <= MAX_SIZE:  # inf from a 400-digit number, too
        raise ValueError(f"too large: {_short(text)} (at most {MAX_SIZE} bytes)")
    return int(value)


def _short(value: Any) -> str:
    """A wrong value for an error line: at most ~60 characters, control characters visible."""
    import reprlib

    shown = reprlib.Repr()
    shown.maxstring = shown.maxother = shown.maxlong = 60
    shown.maxlist = shown.maxdict = 4
    shown.maxlevel = 2
    return visible(shown.repr(value))


def parse_age(text: str) -> float:
    """``"30d"``, ``"12h"``, ``"45m"``, ``"90s"``, ``"2w"`` → seconds."""
    m = re.match(_AGE, str(text), re.IGNORECASE)
    value = float(m.group(1)) * _AGE_UNITS[m.group(2).lower()] if m else -1.0
    if not 0 <= value < float("inf"):
        raise ValueError(f"not an age: {_short(text)} (e.g. 30d, 12h, 45m)")
    return value


def _path(value: Any) -> Path:
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a path: {_short(value)}")
    try:
        return Path(value).expanduser()
    except RuntimeError:  # ~nouser, or ~ with no home directory
        head = value.split("/", 1)[0]
        raise ValueError(f"cannot expand {_short(head)[1:-1]} in {_short(value)}: "
                         + ("no such user" if head != "~" else "no home directory")) from None


def _platform(value: Any) -> str:
    from inspector.oci.platform import Platform

    if not isinstance(value, str):
        raise ValueError(f"not a platform: {_short(value)}")
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


def _read_file(path: Path) -> tuple[dict, str]:
    """The parsed file and its text (``{}`` and ``""`` when there is none)."""
    if not os.path.lexists(path):  # the usual case: no config file, no TOML parser to import
        return {}, ""
    import tomllib  # ~7 ms: only when there is a file to parse

    from inspector import userfile

    text = userfile.read_text(path, "config", limit=MAX_CONFIG_BYTES, error=ConfigError)
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {path}: not valid TOML ({exc})",
                          hint="fix the file or remove it") from exc
    except (RecursionError, ValueError) as exc:  # nesting past the stack, 4300+ digits
        if isinstance(exc, RecursionError):
            line = userfile.deep_line(text)
            reason = f"nested more than {userfile.MAX_DEPTH} levels deep"
        else:
            line = userfile.long_number_line(text)
            reason = "a number with more than 4300 digits"
        key = userfile.key_at(text, line) if line else None
        at = (f"line {line}: " if line else "") + (f"{visible(key)}: " if key else "")
        raise ConfigError(f"config {path}: {at}not valid TOML: {reason}",
                          hint="fix the file or remove it") from None


def load(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings from the environment over the file (flags are applied by ``apply``)."""
    environ = os.environ if environ is None else environ
    path = config_file(environ)
    raw, text = _read_file(path)
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in SETTINGS:
            raise ConfigError(f"config {path}: {_line(text, key)}unknown key {_short(key)}",
                              hint="known keys: " + ", ".join(SETTINGS))
        out[key] = _parse(key, value, f"config {path}: {_line(text, key)}{key}")
    for key in SETTINGS:
        name = "INSPECTOR_" + key.upper()
        if environ.get(name):
            out[key] = _parse(key, environ[name], name)
    return out


def _line(text: str, key: str) -> str:
    """``"line N: "`` for ``key`` in the config file's text, or ``""``."""
    m = re.search(rf"^[ \t]*[\"']?{re.escape(key)}[\"']?[ \t]*=", text, re.M)
    return f"line {text.count(chr(10), 0, m.start()) + 1}: " if m else ""


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
