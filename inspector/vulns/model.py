"""What a scanner report says, normalised (``Report``), and where each of its findings
lands in an analysed image (``Overlay``). Plain dataclasses; no reading, no rendering.

Severities and fix states are the scanners' own, in one spelling: grype's severities
(``Critical`` … ``Negligible``, ``Unknown``) and fix states (``fixed``, ``not-fixed``,
``wont-fix``, ``unknown``: ``grype/vulnerability/fix.go``); trivy's ``Status`` values
(trivy-db ``pkg/types`` ``Statuses``) map onto those four (``FIX_STATE_OF_TRIVY``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: in report order, worst first
SEVERITIES = ("critical", "high", "medium", "low", "negligible", "unknown")
#: grype's spellings (``grype/vulnerability/fix.go``)
FIX_STATES = ("fixed", "not-fixed", "wont-fix", "unknown")
#: trivy-db ``Status`` → fix state
FIX_STATE_OF_TRIVY = {
    "fixed": "fixed", "affected": "not-fixed", "under_investigation": "not-fixed",
    "fix_deferred": "not-fixed", "will_not_fix": "wont-fix", "end_of_life": "wont-fix",
    "not_affected": "unknown", "unknown": "unknown",
}
#: severity words the formats use (grype ``Negligible``, trivy ``UNKNOWN``, CycloneDX
#: ``info``/``none``) → ours; anything else is ``unknown``
SEVERITY_OF = {"critical": "critical", "high": "high", "medium": "medium",
               "moderate": "medium", "low": "low", "negligible": "negligible",
               "info": "negligible", "none": "negligible", "unknown": "unknown"}


@dataclass(frozen=True)
class Scanner:
    """Who wrote the report: shown wherever its counts are, so nobody takes them for
    live truth. Times are as the report spells them (RFC 3339); None when it has none."""

    name: str
    version: str
    db_built: str | None  # when the vulnerability database was built
    scanned: str | None  # when the scan ran
    format: str  # grype | trivy | cyclonedx
    file: str  # the report's path, as given

    def describe(self) -> str:
        """``grype 0.61.1, database built 2023-05-17T01:32:43Z``."""
        db = (f"database built {self.db_built}" if self.db_built
              else "database time not recorded")
        return f"{self.name} {self.version or '(version not recorded)'}, {db}"

    def as_json(self) -> dict:
        return {"name": self.name, "version": self.version, "db_built": self.db_built,
                "scanned": self.scanned, "format": self.format, "file": self.file}


@dataclass(frozen=True)
class PackageRef:
    """The package a finding is about, as the report names it."""

    type: str  # ours: deb|apk|rpm|python|npm|go|binary, or the scanner's own word
    name: str
    version: str
    arch: str | None = None
    purl: str | None = None
    #: the source package the scanner names (grype ``upstreams``, a purl's ``upstream``)
    sources: tuple[str, ...] = ()
    #: the layer the scanner places it in (a diff_id): a cross-check only
    layer: str | None = None


@dataclass(frozen=True)
class Finding:
    id: str  # CVE-…, GHSA-…
    severity: str  # one of SEVERITIES
    fix_state: str  # one of FIX_STATES
    fixed_in: tuple[str, ...]
    package: PackageRef


@dataclass
class Identity:
    """What the report says about the image it scanned (any part may be missing)."""

    diff_ids: list[str] | None = None
    manifest_digests: set[str] = field(default_factory=set)
    config_digests: set[str] = field(default_factory=set)  # grype imageID, trivy ImageID
    #: digests whose kind the format does not say (CycloneDX ``metadata.component``)
    digests: set[str] = field(default_factory=set)
    name: str = ""  # the reference it names, for messages

    @property
    def empty(self) -> bool:
        return not (self.diff_ids or self.manifest_digests or self.config_digests
                    or self.digests)


@dataclass
class Report:
    scanner: Scanner
    identity: Identity
    findings: list[Finding]


@dataclass(frozen=True)
class Landed:
    """A finding and where it lands in the image: the packages (indexes into the
    catalog; several when the report names a Debian source package), the layer that
    installed the first of them (inspector's attribution) and its dominant category."""

    finding: Finding
    packages: tuple[int, ...]  # empty: unmatched
    layer: int | None = None  # 0-based, base first
    category: str | None = None
    #: the layer the scanner names, when it is not ours (a cross-check)
    scanner_layer: int | None = None

    @property
    def matched(self) -> bool:
        return bool(self.packages)


def _zero(names: tuple[str, ...]) -> dict[str, int]:
    return dict.fromkeys(names, 0)


@dataclass
class Counts:
    total: int = 0
    by_severity: dict[str, int] = field(default_factory=lambda: _zero(SEVERITIES))
    by_fix_state: dict[str, int] = field(default_factory=lambda: _zero(FIX_STATES))

    def add(self, finding: Finding) -> None:
        self.total += 1
        self.by_severity[finding.severity] += 1
        self.by_fix_state[finding.fix_state] += 1

    def brief(self) -> str:
        """``3 critical, 5 high``: the two worst severities, always."""
        return (f"{self.by_severity['critical']:,} critical, "
                f"{self.by_severity['high']:,} high")

    def as_json(self) -> dict:
        return {"total": self.total, **self.by_severity, "fix_state": dict(self.by_fix_state)}


@dataclass
class Overlay:
    """One image's scanner report laid over its analysis."""

    scanner: Scanner
    landed: list[Landed]
    counts: Counts
    #: findings that land on no package of the image (counted in ``counts`` too)
    unmatched: int
    #: findings whose scanner layer differs from inspector's (grype names the layer of
    #: the package database, trivy the first layer holding the package)
    layer_disagreements: int
    #: package names by catalog index (for reports, without the analysis)
    package_names: dict[int, str] = field(default_factory=dict)
    layer_count: int = 0  # the image's layers

    def by_package(self) -> dict[int, list[Landed]]:
        """Catalog index → its findings, in report order."""
        out: dict[int, list[Landed]] = {}
        for item in self.landed:
            for index in item.packages:
                out.setdefault(index, []).append(item)
        return out

    def name_of(self, item: Landed) -> str:
        """The package a finding is about: ours when it landed, else the report's."""
        if item.packages:
            return self.package_names.get(item.packages[0], item.finding.package.name)
        return item.finding.package.name


@dataclass
class PairVulns:
    """Image ``image`` against the first image: findings of the first that this one's
    report lacks (dropped) and the reverse (added), keyed by (id, package type, name)."""

    image: int
    base_total: int
    dropped: Counts
    added: Counts
    dropped_packages: list[str]  # most findings first
    added_packages: list[str]

    def sentence(self, labels: list[str]) -> str:
        """``distroless-static drops 9 of 11 vulnerabilities of debian-12-slim (2
        critical, 3 high), all in packages bash, libc6; adds 0 (0 critical, 0 high).``"""
        dropped = (f"{labels[self.image]} drops {self.dropped.total:,} of "
                   f"{self.base_total:,} vulnerabilities of {labels[0]} "
                   f"({self.dropped.brief()})")
        if self.dropped_packages:
            dropped += f", all in packages {_names(self.dropped_packages)}"
        added = f"adds {self.added.total:,} ({self.added.brief()})"
        if self.added_packages:
            added += f", in packages {_names(self.added_packages)}"
        return f"{dropped}; {added}."


#: package names a sentence lists before "… (N packages)" (the JSON lists them all)
SENTENCE_PACKAGES = 8


def _names(names: list[str]) -> str:
    if len(names) <= SENTENCE_PACKAGES:
        return ", ".join(names)
    return f"{', '.join(names[:SENTENCE_PACKAGES])} … ({len(names):,} packages)"
