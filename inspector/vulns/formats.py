"""grype, trivy and CycloneDX reports → ``Report``. Field meanings are the tools' own Go
types (the de-facto contract; neither tool publishes a schema for its scan output):

* grype ``-o json``: anchore/grype ``grype/presenter/models`` — ``Document{matches,
  source{type, target}, descriptor{name, version, db, timestamp}}``; a match is
  ``{vulnerability{id, severity, fix{versions, state}}, artifact{name, version, type,
  purl, upstreams[{name}], locations[{layerID}]}}``; an image target (syft's
  ``ImageMetadata``) has ``imageID`` (config digest), ``manifestDigest``, ``layers[].digest``
  (stereoscope: the diff_id) and ``repoDigests``. ``descriptor.db`` is ``{status{built}}``
  (grype ≥ 0.88) or ``{built}`` (older).
* trivy ``--format json``: aquasecurity/trivy ``pkg/types`` — ``Report{SchemaVersion,
  Trivy{Version}, CreatedAt, Metadata{ImageID, DiffIDs, RepoDigests}, Results[{Type,
  Vulnerabilities[DetectedVulnerability{VulnerabilityID, PkgName, PkgIdentifier{PURL},
  InstalledVersion, FixedVersion, Status, Severity, Layer{DiffID}}]}]}``. Trivy's JSON
  does not record when its database was built.
* CycloneDX (1.4–1.6) with ``vulnerabilities[{id, ratings[{severity}], affects[{ref}]}]``,
  each ``ref`` a component's ``bom-ref``; the image is ``metadata.component``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from inspector.vulns.model import (
    FIX_STATE_OF_TRIVY,
    FIX_STATES,
    SEVERITY_OF,
    Finding,
    Identity,
    PackageRef,
    Report,
    Scanner,
)
from inspector.vulns.read import Doc

#: the scanners' package types → ours (unknown ones are kept as the scanner spells them)
TYPE_OF = {
    "deb": "deb", "apk": "apk", "rpm": "rpm", "python": "python", "pypi": "python",
    "npm": "npm", "go-module": "go", "golang": "go", "binary": "binary", "generic": "binary",
    # trivy Result.Type: OS families, then language analysers
    "debian": "deb", "ubuntu": "deb", "alpine": "apk", "wolfi": "apk", "chainguard": "apk",
    "redhat": "rpm", "centos": "rpm", "rocky": "rpm", "alma": "rpm", "fedora": "rpm",
    "amazon": "rpm", "oracle": "rpm", "photon": "rpm", "cbl-mariner": "rpm",
    "azurelinux": "rpm", "suse linux enterprise server": "rpm", "opensuse.leap": "rpm",
    "python-pkg": "python", "pip": "python", "pipenv": "python", "poetry": "python",
    "uv": "python", "node-pkg": "npm", "yarn": "npm", "pnpm": "npm", "gobinary": "go",
    "gomod": "go",
}
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
#: CycloneDX components looked at below ``components`` (nested ``components``)
MAX_COMPONENT_DEPTH = 8


def _severity(word: str) -> str:
    return SEVERITY_OF.get(word.strip().lower(), "unknown")


def parse_purl(purl: str) -> tuple[str, str, str, str | None, str | None, str | None]:
    """``(type, name, version, arch, upstream, epoch)`` of a purl in our terms (empty type
    when it is not one); pypi names PEP 503 normalised, npm ``@scope/name``, golang the
    module path (our spellings, ``inspector.sbom``)."""
    if not purl.startswith("pkg:"):
        return "", "", "", None, None, None
    rest = purl[4:].split("#", 1)[0]
    rest, _, query = rest.partition("?")
    quals = {}
    for part in query.split("&") if query else ():
        key, _, value = part.partition("=")
        quals[key.lower()] = unquote(value)
    path, _, version = rest.rpartition("@") if "@" in rest else (rest, "", "")
    kind, _, path = path.partition("/")
    segments = [unquote(s) for s in path.split("/") if s]
    if not segments:
        return "", "", "", None, None, None
    ours = TYPE_OF.get(kind.lower(), kind.lower())
    name = segments[-1]
    if ours == "npm" and len(segments) > 1:
        name = "/".join(segments[-2:])
    elif ours == "go":
        name = "/".join(segments)
    elif ours == "python":
        name = re.sub(r"[-_.]+", "-", name).lower()
    upstream = quals.get("upstream")
    return ours, name, unquote(version), quals.get("arch"), upstream, quals.get("epoch")


def _package(kind: str, name: str, version: str, purl: str, sources: list[str],
             layer: str | None, arch: str | None = None) -> PackageRef:
    ours = TYPE_OF.get(kind.lower(), kind.lower())
    p_type, p_name, p_version, p_arch, upstream, _ = parse_purl(purl) if purl else ("",) * 6
    if upstream:  # ``bash@5.2.15-2`` or ``util-linux``
        sources = [*sources, upstream.split("@", 1)[0]]
    return PackageRef(type=ours or p_type or "", name=name or p_name or "",
                      version=version or p_version or "", arch=arch or p_arch or None,
                      purl=purl or None, sources=tuple(dict.fromkeys(s for s in sources if s)),
                      layer=layer or None)


def _digests(values: list[str]) -> set[str]:
    """``sha256:…`` digests in ``values`` (``repo@sha256:…`` too)."""
    return {m.group() for v in values for m in _DIGEST.finditer(v)}


def grype(doc: dict, path: str) -> Report:
    d = Doc(path, "grype")
    desc = d.obj(doc, "descriptor", "", required=True)
    db = d.obj(desc, "db", "descriptor")
    built = d.get(d.obj(db, "status", "descriptor.db"), "built", str, "descriptor.db.status")
    built = built or d.get(db, "built", str, "descriptor.db")
    scanner = Scanner(d.text(desc, "name", "descriptor") or "grype",
                      d.text(desc, "version", "descriptor"), built or None,
                      d.text(desc, "timestamp", "descriptor") or None, "grype", path)
    source = d.obj(doc, "source", "")
    identity = Identity()
    if d.text(source, "type", "source") == "image":
        target = d.obj(source, "target", "source")
        layers = d.each_obj(d.items(target, "layers", "source.target"), "source.target.layers")
        # null when grype scanned an SBOM (syft decodes only the image's name and digest)
        identity.diff_ids = [d.text(layer, "digest", at, required=True)
                             for at, layer in layers] or None
        identity.manifest_digests = _digests([d.text(target, "manifestDigest", "source.target")])
        identity.config_digests = _digests([d.text(target, "imageID", "source.target")])
        identity.manifest_digests |= _digests(d.strings(
            d.items(target, "repoDigests", "source.target"), "source.target.repoDigests"))
        identity.name = d.text(target, "userInput", "source.target")
    findings = []
    for at, match in d.each_obj(d.items(doc, "matches", "", required=True), "matches"):
        vuln = d.obj(match, "vulnerability", at, required=True)
        art = d.obj(match, "artifact", at, required=True)
        fix = d.obj(vuln, "fix", f"{at}.vulnerability")
        state = d.text(fix, "state", f"{at}.vulnerability.fix")
        ups = d.each_obj(d.items(art, "upstreams", f"{at}.artifact"), f"{at}.artifact.upstreams")
        locs = d.each_obj(d.items(art, "locations", f"{at}.artifact"), f"{at}.artifact.locations")
        layer = next((d.text(loc, "layerID", la) for la, loc in locs if loc.get("layerID")), None)
        meta = art.get("metadata")
        arch = (meta.get("architecture") or meta.get("arch")) if isinstance(meta, dict) else None
        pkg = _package(d.text(art, "type", f"{at}.artifact"),
                       d.text(art, "name", f"{at}.artifact", required=True),
                       d.text(art, "version", f"{at}.artifact"),
                       d.text(art, "purl", f"{at}.artifact"),
                       [d.text(u, "name", ua) for ua, u in ups], layer,
                       arch if isinstance(arch, str) else None)
        findings.append(Finding(
            d.text(vuln, "id", f"{at}.vulnerability", required=True),
            _severity(d.text(vuln, "severity", f"{at}.vulnerability")),
            state if state in FIX_STATES else "unknown",
            tuple(d.strings(d.items(fix, "versions", f"{at}.vulnerability.fix"),
                            f"{at}.vulnerability.fix.versions")), pkg))
    return Report(scanner, identity, findings)


def trivy(doc: dict, path: str) -> Report:
    d = Doc(path, "trivy")
    d.get(doc, "SchemaVersion", int, "", required=True)
    info = d.obj(doc, "Trivy", "")
    scanner = Scanner("trivy", d.text(info, "Version", "Trivy"), None,
                      d.text(doc, "CreatedAt", "") or None, "trivy", path)
    meta = d.obj(doc, "Metadata", "")
    identity = Identity()
    if "DiffIDs" in meta:
        identity.diff_ids = d.strings(d.items(meta, "DiffIDs", "Metadata"), "Metadata.DiffIDs")
    identity.config_digests = _digests([d.text(meta, "ImageID", "Metadata")])
    identity.manifest_digests = _digests(d.strings(d.items(meta, "RepoDigests", "Metadata"),
                                                   "Metadata.RepoDigests"))
    identity.name = d.text(doc, "ArtifactName", "")
    findings = []
    for rat, result in d.each_obj(d.items(doc, "Results", ""), "Results"):
        kind = d.text(result, "Type", rat)
        vulns = d.each_obj(d.items(result, "Vulnerabilities", rat), f"{rat}.Vulnerabilities")
        for at, v in vulns:
            ident = d.obj(v, "PkgIdentifier", at)
            layer = d.obj(v, "Layer", at)
            status = d.text(v, "Status", at)
            fixed = d.text(v, "FixedVersion", at)
            state = FIX_STATE_OF_TRIVY.get(status, "fixed" if fixed else "unknown")
            pkg = _package(kind, d.text(v, "PkgName", at, required=True),
                           d.text(v, "InstalledVersion", at),
                           d.text(ident, "PURL", f"{at}.PkgIdentifier"), [],
                           d.text(layer, "DiffID", f"{at}.Layer"))
            findings.append(Finding(
                d.text(v, "VulnerabilityID", at, required=True),
                _severity(d.text(v, "Severity", at)), state,
                tuple(x.strip() for x in fixed.split(",") if x.strip()), pkg))
    return Report(scanner, identity, findings)


def _strings_in(value: Any, depth: int = 0) -> list[str]:
    """Every string inside ``value`` (bounded depth): where a digest may hide."""
    if isinstance(value, str):
        return [value]
    if depth > MAX_COMPONENT_DEPTH:
        return []
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings_in(v, depth + 1)]
    if isinstance(value, list):
        return [s for v in value for s in _strings_in(v, depth + 1)]
    return []


def _tool(d: Doc, meta: dict) -> tuple[str, str]:
    """(name, version) of the scanner among ``metadata.tools`` (1.4: a list; 1.5+:
    ``{components: […]}``), preferring one that is not inspector (our own SBOM, scanned)."""
    tools = meta.get("tools")
    items = tools.get("components") if isinstance(tools, dict) else tools
    found: list[tuple[str, str]] = []
    for t in items if isinstance(items, list) else []:
        name, version = (t.get("name"), t.get("version")) if isinstance(t, dict) else (0, 0)
        if isinstance(name, str):
            found.append((name, version if isinstance(version, str) else ""))
    others = [t for t in found if t[0] != "inspector"]
    return (others or found or [("unknown scanner", "")])[0]


def cyclonedx(doc: dict, path: str) -> Report:
    d = Doc(path, "CycloneDX")
    meta = d.obj(doc, "metadata", "")
    name, version = _tool(d, meta)
    scanner = Scanner(name, version, None, d.text(meta, "timestamp", "metadata") or None,
                      "cyclonedx", path)
    component = d.obj(meta, "component", "metadata")
    identity = Identity(digests=_digests(_strings_in(component)),
                        name=d.text(component, "name", "metadata.component"))
    refs: dict[str, PackageRef] = {}
    stack = [("components", d.items(doc, "components", ""), 0)]
    while stack:
        where, items, depth = stack.pop()
        for at, comp in d.each_obj(items, where):
            raw = comp.get("properties")
            props = {p["name"]: p.get("value") for p in raw if isinstance(p, dict)
                     and isinstance(p.get("name"), str)} if isinstance(raw, list) else {}
            kind = props.get("syft:package:type") or props.get("inspector:package:type") or ""
            ref = d.text(comp, "bom-ref", at)
            if ref:
                refs[ref] = _package(kind if isinstance(kind, str) else "",
                                     d.text(comp, "name", at), d.text(comp, "version", at),
                                     d.text(comp, "purl", at), [], None)
            if depth < MAX_COMPONENT_DEPTH and comp.get("components"):
                stack.append((f"{at}.components", d.items(comp, "components", at), depth + 1))
    findings = []
    vulns = d.each_obj(d.items(doc, "vulnerabilities", "", required=True), "vulnerabilities")
    for at, v in vulns:
        ratings = d.each_obj(d.items(v, "ratings", at), f"{at}.ratings")
        severity = next((d.text(r, "severity", ra) for ra, r in ratings if r.get("severity")), "")
        vid = d.text(v, "id", at, required=True)
        for aa, affect in d.each_obj(d.items(v, "affects", at), f"{at}.affects"):
            ref = d.text(affect, "ref", aa, required=True)
            pkg = refs.get(ref) or PackageRef("", "", "", purl=ref if ref.startswith("pkg:") else None)
            if not pkg.name and pkg.purl:
                pkg = _package("", "", "", pkg.purl, [], None)
            if not pkg.name:
                pkg = PackageRef("", ref, "")
            findings.append(Finding(vid, _severity(severity), "unknown", (), pkg))
    return Report(scanner, identity, findings)


PARSERS = {"grype": grype, "trivy": trivy, "cyclonedx": cyclonedx}
