"""Shapes of the JSON documents we read, checked once where the JSON is parsed.

One validator per document type: ``index`` (OCI index / Docker manifest list),
``manifest`` (OCI / Docker schema2 image manifest), ``config`` (image config),
``layout_file`` (``oci-layout``) and ``docker_manifest_json`` (``docker save``'s
``manifest.json``). Each returns the document unchanged or raises ``FormatError`` naming
the document (``where``) and the offending field (``field``, e.g. ``layers[2].digest``), so
code after the boundary can index fields without ``isinstance`` checks of its own.

Only fields we read are checked, and optional ones only when present (``null`` counts as
absent only where real tools write it: a config's ``config`` and a history entry's
fields). Digests must be ``sha256:<64 hex>`` or ``sha512:<128 hex>`` — the algorithms we
can verify (image-spec descriptor.md §Digests).
"""

from __future__ import annotations

import json
import re
from typing import Any

from inspector.errors import FormatError

DIGEST = re.compile(r"^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$")
#: sizes beyond this are not plausible blobs (and would overflow our int64 arrays)
MAX_SIZE = (1 << 63) - 1

_NAMES = {dict: "an object", list: "a list", str: "a string", int: "an integer", bool: "a boolean"}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return _NAMES.get(type(value), type(value).__name__)


class _Doc:
    """One document being checked: raises errors that name it and the field."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, field: str, problem: str, hint: str | None = None) -> FormatError:
        return FormatError(f"{self.where}: {field} {problem}",
                           hint=hint or "the image is malformed; re-export or rebuild it",
                           where=self.where, field=field)

    def want(self, value: Any, typ: type, field: str) -> Any:
        ok = isinstance(value, typ) and not (typ is int and isinstance(value, bool))
        if not ok:
            raise self.fail(field, f"must be {_NAMES[typ]}, not {_kind(value)}")
        return value

    def optional(self, obj: dict, key: str, typ: type, field: str) -> Any:
        if key in obj:
            return self.want(obj[key], typ, f"{field}{key}")
        return None

    def str_map(self, obj: dict, key: str, field: str) -> None:
        """``annotations``/``labels``: an object of strings."""
        value = self.optional(obj, key, dict, field)
        for k, v in (value or {}).items():
            self.want(v, str, f"{field}{key}.{k}")

    def digest(self, value: Any, field: str) -> str:
        self.want(value, str, field)
        if not DIGEST.match(value):
            shown = value if len(value) <= 80 else value[:77] + "..."
            raise self.fail(field, f"is not a valid sha256/sha512 digest: {shown!r}",
                            hint="digests are sha256:<64 hex> or sha512:<128 hex>")
        return value

    def size(self, value: Any, field: str) -> int:
        self.want(value, int, field)
        if not 0 <= value <= MAX_SIZE:
            raise self.fail(field, f"is out of range ({value})")
        return value

    def descriptor(self, value: Any, field: str) -> dict:
        """image-spec descriptor.md: ``digest`` and ``size`` are required."""
        desc = self.want(value, dict, field)
        self.optional(desc, "mediaType", str, field + ".")
        if "digest" not in desc:
            raise self.fail(field + ".digest", "is missing")
        self.digest(desc["digest"], field + ".digest")
        if "size" not in desc:
            raise self.fail(field + ".size", "is missing")
        self.size(desc["size"], field + ".size")
        self.optional(desc, "data", str, field + ".")
        self.optional(desc, "artifactType", str, field + ".")
        for i, url in enumerate(self.optional(desc, "urls", list, field + ".") or []):
            self.want(url, str, f"{field}.urls[{i}]")
        self.str_map(desc, "annotations", field + ".")
        if "platform" in desc:
            self.platform(desc["platform"], field + ".platform")
        return desc

    def platform(self, value: Any, field: str) -> None:
        platform = self.want(value, dict, field)
        for key in ("os", "architecture"):
            if key not in platform:
                raise self.fail(f"{field}.{key}", "is missing")
            self.want(platform[key], str, f"{field}.{key}")
        self.optional(platform, "variant", str, field + ".")
        self.optional(platform, "os.version", str, field + ".")
        for i, feature in enumerate(self.optional(platform, "os.features", list, field + ".") or []):
            self.want(feature, str, f"{field}.os.features[{i}]")


def loads(data: bytes, *, where: str) -> Any:
    """Parse JSON bytes; any decoding trouble becomes ``FormatError``."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise FormatError(f"{where}: malformed JSON ({exc})",
                          hint="the file is corrupt; re-export the image", where=where) from exc


def _object(doc: Any, where: str) -> dict:
    if not isinstance(doc, dict):
        raise FormatError(f"{where}: expected a JSON object, got {_kind(doc)}",
                          hint="the file is corrupt or not an image document", where=where)
    return doc


def index(doc: Any, *, where: str) -> dict:
    """An OCI image index or Docker manifest list (also ``index.json`` of a layout)."""
    d = _Doc(where)
    doc = _object(doc, where)
    d.optional(doc, "schemaVersion", int, "")
    d.optional(doc, "mediaType", str, "")
    if "manifests" not in doc:
        raise d.fail("manifests", "is missing")
    for i, entry in enumerate(d.want(doc["manifests"], list, "manifests")):
        d.descriptor(entry, f"manifests[{i}]")
    d.str_map(doc, "annotations", "")
    return doc


def manifest(doc: Any, *, where: str) -> dict:
    """An OCI or Docker schema2 image manifest."""
    d = _Doc(where)
    doc = _object(doc, where)
    d.optional(doc, "schemaVersion", int, "")
    d.optional(doc, "mediaType", str, "")
    d.optional(doc, "artifactType", str, "")
    if "config" not in doc:
        raise d.fail("config", "is missing")
    d.descriptor(doc["config"], "config")
    for i, layer in enumerate(d.optional(doc, "layers", list, "") or []):
        d.descriptor(layer, f"layers[{i}]")
    d.str_map(doc, "annotations", "")
    return doc


def config(doc: Any, *, where: str) -> dict:
    """An image config: the fields inspector reads (platform, rootfs, history, config)."""
    d = _Doc(where)
    doc = _object(doc, where)
    for key in ("os", "architecture", "variant", "created", "author"):
        if doc.get(key) is not None:
            d.want(doc[key], str, key)
    rootfs = d.optional(doc, "rootfs", dict, "") or {}
    for i, diff_id in enumerate(d.optional(rootfs, "diff_ids", list, "rootfs.") or []):
        d.digest(diff_id, f"rootfs.diff_ids[{i}]")
    for i, entry in enumerate(d.optional(doc, "history", list, "") or []):
        d.want(entry, dict, f"history[{i}]")
        for key in ("created_by", "comment", "created", "author"):
            if entry.get(key) is not None:
                d.want(entry[key], str, f"history[{i}].{key}")
        if entry.get("empty_layer") is not None:
            d.want(entry["empty_layer"], bool, f"history[{i}].empty_layer")
    if doc.get("config") is not None:
        _run_config(d, d.want(doc["config"], dict, "config"))
    return doc


def _run_config(d: _Doc, cfg: dict) -> None:
    """The ``config`` object (Env, Cmd, Labels, …): what the TUI and reports show."""
    for key in ("Env", "Cmd", "Entrypoint"):
        if cfg.get(key) is not None:
            for i, item in enumerate(d.want(cfg[key], list, f"config.{key}")):
                d.want(item, str, f"config.{key}[{i}]")
    for key in ("User", "WorkingDir", "StopSignal"):
        if cfg.get(key) is not None:
            d.want(cfg[key], str, f"config.{key}")
    if cfg.get("Labels") is not None:
        d.str_map(cfg, "Labels", "config.")
    for key in ("ExposedPorts", "Volumes"):
        if cfg.get(key) is not None:
            d.want(cfg[key], dict, f"config.{key}")


def layout_file(doc: Any, *, where: str) -> dict:
    """``oci-layout``: ``{"imageLayoutVersion": "1.0.0"}``."""
    d = _Doc(where)
    doc = _object(doc, where)
    d.optional(doc, "imageLayoutVersion", str, "")
    return doc


def docker_manifest_json(doc: Any, *, where: str) -> list[dict]:
    """``docker save``'s ``manifest.json``: a list of ``{Config, RepoTags, Layers}``."""
    d = _Doc(where)
    for i, item in enumerate(d.want(doc, list, "top level")):
        d.want(item, dict, f"[{i}]")
        if "Config" not in item:
            raise d.fail(f"[{i}].Config", "is missing")
        d.want(item["Config"], str, f"[{i}].Config")
        if "Layers" not in item:
            raise d.fail(f"[{i}].Layers", "is missing")
        for j, name in enumerate(d.want(item["Layers"], list, f"[{i}].Layers")):
            d.want(name, str, f"[{i}].Layers[{j}]")
        if item.get("RepoTags") is not None:  # docker writes null for untagged images
            for j, tag in enumerate(d.want(item["RepoTags"], list, f"[{i}].RepoTags")):
                d.want(tag, str, f"[{i}].RepoTags[{j}]")
        if item.get("LayerSources") is not None:
            for key, desc in d.want(item["LayerSources"], dict, f"[{i}].LayerSources").items():
                d.descriptor(desc, f"[{i}].LayerSources.{key}")
    return doc


def digest(value: Any, *, where: str, field: str) -> str:
    """A digest outside a document (a header, a command-line reference)."""
    return _Doc(where).digest(value, field)


def parse_manifest(data: bytes, *, where: str) -> tuple[str | None, dict]:
    """Parse a manifest-or-index blob: ``(kind, doc)`` where ``kind`` is its media type
    (declared or sniffed from its shape, ``None`` when ambiguous). An index or image
    manifest is validated as such; other kinds (schema 1, artifacts) are left to the caller
    to refuse by media type."""
    from inspector.oci import media_types as mt

    doc = _object(loads(data, where=where), where)
    _Doc(where).optional(doc, "mediaType", str, "")
    kind = mt.sniff_manifest_type(doc)
    if mt.is_index(kind):
        index(doc, where=where)
    elif mt.is_manifest(kind):
        manifest(doc, where=where)
    return kind, doc


def parse(data: bytes, validator, *, where: str) -> Any:
    """``validator(json.loads(data))`` with every failure a ``FormatError``."""
    return validator(loads(data, where=where), where=where)
