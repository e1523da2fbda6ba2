"""npm: ``node_modules/NAME/package.json`` and ``node_modules/@SCOPE/NAME/package.json``.
A package owns the files below its directory, except nested ``node_modules``.
Licences: ``license`` (a string, or the old ``{"type": …}``) or the old ``licenses`` list."""

from __future__ import annotations

import json
from bisect import bisect_left

from inspector.catalog.builder import Builder, OSInfo, Package, Purl, type_of
from inspector.index.merge import MergedFS

#: the package type this cataloger reports (its row in ``registry.CATALOGERS``)
TYPE = type_of(__name__)


def _package_dir(path: str) -> str | None:
    """``…/node_modules/[@scope/]name`` if ``path`` is that directory's package.json."""
    parts = path.split("/")
    if len(parts) >= 4 and parts[-3] == "node_modules" and not parts[-2].startswith("@"):
        return "/".join(parts[:-1])
    if len(parts) >= 5 and parts[-4] == "node_modules" and parts[-3].startswith("@"):
        return "/".join(parts[:-1])
    return None


def licenses(doc: dict) -> list[str]:
    """What ``package.json`` declares (syft ``parse_package_json.go``): strings only."""
    declared = doc.get("license")
    values = declared if isinstance(declared, list) else [declared]
    if declared is None and isinstance(doc.get("licenses"), list):
        values = doc["licenses"]
    found = []
    for value in values:
        if isinstance(value, dict):
            value = value.get("type")
        if isinstance(value, str) and value.strip() and value.strip() not in found:
            found.append(value.strip())
    return found


def urls(doc: dict) -> list[str]:
    """``repository`` (a string or ``{"url": …}``) and ``homepage``, in syft's order."""
    repo = doc.get("repository")
    found = [repo.get("url") if isinstance(repo, dict) else repo, doc.get("homepage")]
    return [u for u in found if isinstance(u, str) and u]


def catalog(fs: MergedFS, out: Builder) -> None:
    paths = None
    for path in fs.captured_paths():
        if not path.endswith("/package.json"):
            continue
        directory = _package_dir(path)
        if directory is None:
            continue
        try:
            doc = json.loads(fs.captured(path) or b"")
        except ValueError as exc:
            out.warn(f"{path}: not JSON ({exc}); package skipped")
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
            out.warn(f"{path}: no \"name\"; package skipped")
            continue
        if paths is None:
            paths = fs.sorted_paths()
        prefix = directory + "/"
        nested = prefix + "node_modules/"
        files = []
        i = bisect_left(paths, prefix)
        while i < len(paths) and paths[i].startswith(prefix):
            if not paths[i].startswith(nested):
                files.append(paths[i])
            i += 1
        version = doc.get("version")
        out.add(Package(type=TYPE, name=doc["name"],
                        version=version if isinstance(version, str) else "",
                        layer=out.layer(path), source_path=path, licenses=licenses(doc),
                        urls=urls(doc)),
                files)


def purl(p: Package, os: OSInfo) -> Purl:
    """``pkg:npm/%40scope/name@VERSION`` (the scope is the namespace)."""
    scope, _, name = p.name.rpartition("/")
    return Purl("npm", scope or None, name, p.version or None, {})
