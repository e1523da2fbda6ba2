"""A ``Report`` laid over an ``Analysis``: is it this image's report, and on which package,
files, category and layer each finding lands.

Join order for a finding's package (the first that finds something wins):

1. its purl, as (type, name, version[, arch]) in our spellings;
2. the report's own (type, name, version[, arch]);
3. the same without a Debian/RPM epoch (``1:2.38.1`` = ``2.38.1``);
4. a Debian source package: a scanner may name the source (``glibc``) rather than the
   binaries (``libc6``, ``libc-bin``); the finding then lands on every binary package
   built from it at that version (our ``Package.upstream``, dpkg's ``Source:``).

The layer is inspector's (the layer whose package record installed it); the scanner's
layer is only a cross-check, counted when it differs (``Overlay.layer_disagreements``).
"""

from __future__ import annotations

from collections import Counter

from inspector.analysis import Analysis
from inspector.catalog.builder import Package
from inspector.errors import ReportError
from inspector.vulns.model import Counts, Finding, Identity, Landed, Overlay, PackageRef, Report

#: layers a mismatch message names before "…"
SHOWN_LAYERS = 3


def _short(digest: str) -> str:
    return digest.split(":")[-1][:12]


def _layers(diff_ids: list[str]) -> str:
    shown = ", ".join(map(_short, diff_ids[:SHOWN_LAYERS]))
    more = len(diff_ids) - SHOWN_LAYERS
    return shown + (f" … ({len(diff_ids)} layers)" if more > 0 else "")


def check_image(report: Report, analysis: Analysis, any_image: bool = False) -> None:
    """Raise ``ReportError`` (one line) unless the report names this image: the same
    layers (diff_ids), manifest digest or config digest (grype ``imageID``, trivy
    ``ImageID``). ``any_image`` skips the check."""
    if any_image:
        return
    ident: Identity = report.identity
    image = analysis.image
    ours = [layer.diff_id for layer in image.layers]
    config = image.config_digest
    if ((ident.diff_ids is not None and ident.diff_ids == ours)
            or image.manifest_digest in ident.manifest_digests | ident.digests
            or config in ident.config_digests | ident.digests):
        return
    path, fmt = report.scanner.file, report.scanner.format
    if ident.empty:
        raise ReportError(f"{path}: this {fmt} report names no image (no layers, manifest "
                          f"digest or image ID), so it cannot be checked against "
                          f"{analysis.reference} (--vulns-any-image overlays it anyway)",
                          where=path)
    theirs = (f"layers {_layers(ident.diff_ids)}" if ident.diff_ids else
              "digest " + ", ".join(sorted(map(_short, ident.manifest_digests
                                                | ident.config_digests | ident.digests))))
    named = f" ({ident.name})" if ident.name else ""
    raise ReportError(f"{path}: this {fmt} report is of another image{named}: {theirs}, not "
                      f"{analysis.reference}'s layers {_layers(ours)} "
                      f"(give this image's report, or --vulns-any-image)", where=path)


def _no_epoch(version: str) -> str:
    head, sep, tail = version.partition(":")
    return tail if sep and head.isdigit() else version


def _source(p: Package) -> tuple[str, str] | None:
    """(source name, source version) of a deb (``bash (5.2.15-2)``, or ``glibc``: the
    binary's version), else None."""
    if p.type != "deb" or not p.upstream:
        return None
    name, _, rest = p.upstream.partition(" (")
    version = rest[:-1] if rest.endswith(")") else p.version
    return name.strip(), version.strip()


class Joiner:
    """The lookup tables of one image's packages."""

    def __init__(self, packages: list[Package]) -> None:
        self.packages = packages
        self.exact: dict[tuple[str, str, str], list[int]] = {}
        self.loose: dict[tuple[str, str, str], list[int]] = {}  # no epoch
        self.any_type: dict[tuple[str, str], list[int]] = {}
        self.sources: dict[tuple[str, str], list[int]] = {}
        for i, p in enumerate(packages):
            self.exact.setdefault((p.type, p.name, p.version), []).append(i)
            self.loose.setdefault((p.type, p.name, _no_epoch(p.version)), []).append(i)
            self.any_type.setdefault((p.name, _no_epoch(p.version)), []).append(i)
            src = _source(p)
            if src is not None:
                for version in {src[1], p.version}:
                    self.sources.setdefault((src[0], _no_epoch(version)), []).append(i)

    def _arch(self, hits: list[int], arch: str | None) -> list[int]:
        if not arch or len(hits) < 2:
            return hits
        same = [i for i in hits if self.packages[i].arch == arch]
        return same or hits

    def find(self, ref: PackageRef) -> tuple[int, ...]:
        from inspector.vulns.formats import parse_purl

        keys = []
        if ref.purl:
            p_type, p_name, p_version, p_arch, _, epoch = parse_purl(ref.purl)
            if p_type:
                if epoch and ":" not in p_version:
                    keys.append((p_type, p_name, f"{epoch}:{p_version}", p_arch))
                keys.append((p_type, p_name, p_version, p_arch))
        keys.append((ref.type, ref.name, ref.version, ref.arch))
        for kind, name, version, arch in keys:
            hits = self.exact.get((kind, name, version))
            if hits:
                return tuple(self._arch(hits, arch)[:1])
        for kind, name, version, arch in keys:
            hits = (self.loose.get((kind, name, _no_epoch(version))) if kind else
                    self.any_type.get((name, _no_epoch(version))))
            if hits:
                return tuple(self._arch(hits, arch)[:1])
        if ref.type in ("deb", ""):
            for name in (ref.name, *ref.sources):
                hits = self.sources.get((name, _no_epoch(ref.version)))
                if hits:
                    return tuple(dict.fromkeys(hits))
        return ()


def _files_by_package(analysis: Analysis, wanted: set[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {i: [] for i in wanted}
    for path, index in analysis.catalog.owners.items():
        if index in out:
            out[index].append(path)
    return out


def package_files(analysis: Analysis, index: int) -> list[str]:
    """The paths of the image that package ``index`` owns, sorted (the TUI's drill-down
    from a vulnerability to files)."""
    return sorted(_files_by_package(analysis, {index})[index])


def _dominant_category(analysis: Analysis, paths: list[str]) -> str | None:
    """The category holding most of these files' bytes (files when no bytes)."""
    weight: Counter[str] = Counter()
    cls, fs = analysis.classification, analysis.fs
    for path in paths:
        name = cls.category_of(path)
        if name is not None:
            weight[name] += 1 + (fs.size(path) or 0)
    return weight.most_common(1)[0][0] if weight else None


def overlay(report: Report, analysis: Analysis, *, any_image: bool = False) -> Overlay:
    """Lay ``report`` over ``analysis`` (after ``check_image``)."""
    check_image(report, analysis, any_image)
    packages = analysis.catalog.packages
    joiner = Joiner(packages)
    layer_of = {layer.diff_id: i for i, layer in enumerate(analysis.image.layers)}
    found: list[tuple[Finding, tuple[int, ...]]] = [
        (f, joiner.find(f.package)) for f in report.findings]
    wanted = {i for _, hits in found for i in hits}
    files = _files_by_package(analysis, wanted)
    category = {i: _dominant_category(analysis, files[i]) for i in wanted}
    counts = Counts()
    landed: list[Landed] = []
    unmatched = disagree = 0
    for finding, hits in found:
        counts.add(finding)
        layer = packages[hits[0]].layer if hits else None
        theirs = layer_of.get(finding.package.layer or "")
        if not hits:
            unmatched += 1
        elif theirs is not None and layer is not None and theirs != layer:
            disagree += 1
        landed.append(Landed(finding, hits, layer, category[hits[0]] if hits else None,
                             theirs if theirs != layer else None))
    return Overlay(report.scanner, landed, counts, unmatched, disagree,
                   {i: packages[i].name for i in wanted}, len(analysis.image.layers))
