"""Reading a scanner report safely: ``inspector.userfile`` (a regular file, a size cap,
strict UTF-8), JSON with nesting bounded (the parser's own recursion limit), the
format told by content, and a typed accessor whose errors name the file and the field.

Every failure is one ``ReportError`` line: ``FILE: FIELD: what is wrong (what to do)``.
"""

from __future__ import annotations

import json
from typing import Any

from inspector.errors import ReportError

#: the largest report read: a grype or trivy report of a large image, every description
#: included, is a few tens of MB, and parsing JSON takes several times the file in memory
MAX_BYTES = 64 * 1000 * 1000
HINT = "give a grype -o json, trivy --format json or CycloneDX JSON report"


def read_report_text(path: str, limit: int | None = None) -> str:
    """The report's text through the safe user-file reader (``inspector.userfile``: a
    regular file only, ``O_NONBLOCK`` so a FIFO cannot block, at most ``limit`` bytes,
    default ``MAX_BYTES``, strict UTF-8 with a BOM dropped, no NUL byte)."""
    from inspector.userfile import read_text

    return read_text(path, "scanner report", limit=MAX_BYTES if limit is None else limit,
                     error=ReportError)


def _constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def load_json(path: str, text: str) -> Any:
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
