"""Reading a scanner report safely: a size cap, strict UTF-8 JSON, nesting bounded (the
parser's own recursion limit), the
format told by content, and a typed accessor whose errors name the file and the field.

Every failure is one ``ReportError`` line: ``FILE: FIELD: what is wrong (what to do)``.
"""

from __future__ import annotations

import json
import os
import stat
from typing import Any

from inspector.errors import ReportError

#: the largest report read: a grype or trivy report of a large image, every description
#: included, is a few tens of MB, and parsing JSON takes several times the file in memory
MAX_BYTES = 64 * 1000 * 1000
HINT = "give a grype -o json, trivy --format json or CycloneDX JSON report"


def read_bytes(path: str, limit: int | None = None) -> bytes:
    """The file's bytes; a directory, a device, a FIFO or a file past ``limit`` bytes
    (default ``MAX_BYTES``) is refused (at most ``limit + 1`` bytes are read)."""
    limit = MAX_BYTES if limit is None else limit
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise ReportError(f"{path}: cannot read the scanner report: {exc.strerror}",
                          where=path) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ReportError(f"{path}: not a regular file (a scanner report is a JSON "
                              "file)", where=path)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
    except OSError as exc:
        raise ReportError(f"{path}: cannot read the scanner report: {exc.strerror}",
                          where=path) from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise ReportError(f"{path}: larger than {limit:,} bytes, the most a scanner report "
                          "may be", where=path)
    return data


def _constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def load_json(path: str, data: bytes) -> Any:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReportError(f"{path}: not UTF-8 at byte {exc.start} ({HINT})",
                          where=path) from None
    try:
        return json.loads(text, parse_constant=_constant)
    except RecursionError:  # the C parser's own bound on nesting (about 1,000 deep)
        raise ReportError(f"{path}: nested too deeply to be a scanner report ({HINT})",
                          where=path) from None
    except ValueError as exc:
        where = (f" at line {exc.lineno} column {exc.colno}"
                 if isinstance(exc, json.JSONDecodeError) else "")
        msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise ReportError(f"{path}: not valid JSON{where}: {msg} ({HINT})",
                          where=path) from None


def detect(doc: Any) -> str | None:
    """``grype``, ``trivy`` or ``cyclonedx`` from the document's own keys, or None."""
    if not isinstance(doc, dict):
        return None
    if "matches" in doc and "descriptor" in doc:
        return "grype"
    if "SchemaVersion" in doc and ("Results" in doc or "ArtifactName" in doc):
        return "trivy"
    if doc.get("bomFormat") == "CycloneDX":
        return "cyclonedx"
    return None


class Doc:
    """Typed access to a JSON document with the field path in every error."""

    def __init__(self, path: str, fmt: str) -> None:
        self.path, self.fmt = path, fmt

    def error(self, where: str, message: str) -> ReportError:
        return ReportError(f"{self.path}: {where}: {message} (is it a {self.fmt} JSON "
                           "report as the tool writes it?)", where=self.path, field=where)

    def get(self, obj: Any, key: str, kind: type | tuple[type, ...], where: str,
            *, required: bool = False, default: Any = None) -> Any:
        """``obj[key]`` when it is a ``kind``; missing or null: ``default`` (or an error
        when ``required``); any other type: an error naming ``where.key``."""
        at = f"{where}.{key}" if where else key
        value = obj.get(key) if isinstance(obj, dict) else None
        if value is None:
            if required:
                raise self.error(at, "missing")
            return default
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self.error(at, f"expected {_kind(kind)}, got a boolean")
        if not isinstance(value, kind):
            raise self.error(at, f"expected {_kind(kind)}, got {_name(value)}")
        return value

    def text(self, obj: Any, key: str, where: str, *, required: bool = False) -> str:
        return self.get(obj, key, str, where, required=required, default="")

    def items(self, obj: Any, key: str, where: str, *, required: bool = False) -> list:
        return self.get(obj, key, list, where, required=required, default=[])

    def obj(self, obj: Any, key: str, where: str, *, required: bool = False) -> dict:
        return self.get(obj, key, dict, where, required=required, default={})

    def each_obj(self, values: list, where: str) -> list[tuple[str, dict]]:
        out = []
        for i, value in enumerate(values):
            at = f"{where}[{i}]"
            if not isinstance(value, dict):
                raise self.error(at, f"expected an object, got {_name(value)}")
            out.append((at, value))
        return out

    def strings(self, values: list, where: str) -> list[str]:
        for i, value in enumerate(values):
            if not isinstance(value, str):
                raise self.error(f"{where}[{i}]", f"expected a string, got {_name(value)}")
        return values


def _kind(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(_NAMES.get(k, k.__name__) for k in kinds)


_NAMES = {str: "a string", list: "a list", dict: "an object", int: "a number",
          float: "a number", bool: "a boolean"}


def _name(value: Any) -> str:
    if value is None:
        return "null"
    return _NAMES.get(type(value), type(value).__name__)
