"""Rules → verdicts for one analysed image. Every figure comes from the ``Analysis`` (and so
from the analysis cache on a warm run: a check re-reads no layer).

dive's rules mean what they mean in dive (``command/ci/rules.go``, ``image/analysis.go``):
fail when ``efficiency < lowestEfficiency``, ``wasted > highestWastedBytes``,
``wasted / user bytes > highestUserWastedPercent`` (strict comparisons), where wasted counts
every copy of a path written by 2+ layers and user bytes are the file bytes of every layer
but the first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from inspector.analysis import Analysis
from inspector.check.config import Rule, RuleSet
from inspector.globmatch import GlobSet

#: offending paths a verdict lists (the count is always whole)
SHOWN = 10


@dataclass
class Verdict:
    image: str
    rule: str
    status: str  # pass | fail | warn (failed, but the rule is warn-only)
    measured: object  # the figure compared (bytes, a count, a ratio, the user)
    threshold: str  # the rule's value, as configured
    message: str
    offending: list[str] = field(default_factory=list)  # the first SHOWN
    offending_count: int = 0

    def as_json(self) -> dict:
        return {"image": self.image, "rule": self.rule, "status": self.status,
                "measured": self.measured, "threshold": self.threshold,
                "message": self.message, "offending": self.offending,
                "offending_count": self.offending_count}


def path_globs(patterns: list[str]) -> GlobSet:
    """The matcher of ``forbid_paths``: ``*``, ``?`` and ``[…]`` stay within a path segment,
    ``**`` spans segments; a pattern not starting with ``/`` matches at any depth. Linear
    in the path (``inspector.globmatch``): no pattern can make it backtrack."""
    return GlobSet(patterns, pathname=True, anywhere=True)


def _user_is_root(analysis: Analysis) -> tuple[str, bool]:
    """(the configured ``User``, whether it runs as uid 0): the compare report's rule
    (``compare.security.runs_as``)."""
    from inspector.compare.security import runs_as

    who = runs_as(analysis)
    return who.user or "(unset: root)", who.root


def _dive_figures(analysis: Analysis) -> tuple[float, int, float]:
    """(efficiency, wasted bytes, wasted / user bytes) as dive computes them."""
    eff = analysis.efficiency
    user = sum(sum(index.sizes) for index in analysis.layers[1:])
    if user:
        percent = eff.wasted_bytes / user
    else:  # dive divides by zero: NaN (passes every threshold), or +Inf
        percent = math.inf if eff.wasted_bytes else math.nan
    return eff.score, eff.wasted_bytes, percent


def _vulns(rule: Rule, vulns) -> tuple[bool, object, str, list[str]]:
    """``max_vulns``: the report's findings per severity named, against the limits; the
    scanner and its database time in the message (the counts are the report's)."""
    if vulns is None:
        return True, None, "no scanner report for this image (give --vulns FILE)", []
    limits: dict = rule.value  # type: ignore[assignment]
    counts = vulns.counts.by_severity
    over = {name for name, limit in limits.items() if counts[name] > limit}
    what = ", ".join(f"{name} {counts[name]} (max {limit})" for name, limit in limits.items())
    found = [f"{x.finding.id} ({x.finding.severity}) in {vulns.name_of(x)}"
             for x in vulns.landed if x.finding.severity in over]
    return (bool(over), {name: counts[name] for name in limits},
            f"vulnerabilities: {what}; {vulns.scanner.describe()}", found)


def _measure(rule: Rule, a: Analysis, vulns=None) -> tuple[bool, object, str, list[str]]:
    """(failed, measured, message, offending paths) for one rule; ``vulns`` is the image's
    ``inspector.vulns.Overlay`` (``--vulns``), for ``max_vulns``."""
    key = rule.key
    if key == "max_vulns":
        return _vulns(rule, vulns)
    findings = a.classification.findings
    if key == "forbid_categories":
        totals = a.classification.totals
        hits = [(c, totals[c]) for c in rule.names if c in totals and totals[c].files]
        paths = [f"{p} ({c})" for c, t in hits for p in t.paths]
        n = sum(t.files for _, t in hits)
        what = ", ".join(f"{c} {t.files}" for c, t in hits)
        return bool(n), n, f"{n} file(s) in forbidden categories" + (f": {what}" if what else ""), paths
    if key == "forbid_paths":
        paths = path_globs(rule.names).filter_paths(a.fs.sorted_paths())
        return bool(paths), len(paths), f"{len(paths)} path(s) match a forbidden glob", paths
    if key == "forbid_packages":
        globs = GlobSet(rule.names)  # fnmatch's syntax, without its backtracking
        pkgs = [p for p in a.catalog.packages if globs.match(p.name)]
        shown = [f"{p.name} {p.version} ({p.type})" for p in pkgs]
        return bool(pkgs), len(pkgs), f"{len(pkgs)} forbidden package(s)", shown
    if key in ("max_size", "max_files_size", "max_files"):
        measured = {"max_size": a.compressed_size, "max_files_size": a.fs.file_bytes,
                    "max_files": a.classification.count()}[key]
        unit = "files" if key == "max_files" else "bytes"
        what = {"max_size": "compressed size", "max_files_size": "bytes of files",
                "max_files": "non-directory entries"}[key]
        limit = rule.limit
        return measured > limit, measured, f"{what}: {measured} {unit} (limit {limit})", []
    if key in ("forbid_setuid", "forbid_world_writable", "forbid_login_users"):
        names, label = {"forbid_setuid": (("setuid", "setgid"), "setuid/setgid file(s)"),
                        "forbid_world_writable": (("world_writable",), "world-writable entr(ies)"),
                        "forbid_login_users": (("login_users",), "login user(s) with a shell")}[key]
        paths = sorted({p for name in names for p in findings.get(name, [])})
        return bool(paths), len(paths), f"{len(paths)} {label}", paths
    if key == "require_nonroot_user":
        user, root = _user_is_root(a)
        return root, user, f"config User {user!r} " + ("runs as root" if root else "is not root"), []
    efficiency, wasted, percent = _dive_figures(a)
    value = rule.limit
    if key == "lowestEfficiency":
        return value > efficiency, efficiency, f"efficiency {efficiency:.4f} (lowest {value})", []
    if key == "highestWastedBytes":
        top = [p for p, _, _ in a.efficiency.inefficient]
        return wasted > value, wasted, f"wasted bytes {wasted} (highest {value})", top
    ratio = 0.0 if math.isnan(percent) else percent
    top = [p for p, _, _ in a.efficiency.inefficient]
    return percent > value, ratio, f"user wasted ratio {ratio:.4f} (highest {value})", top


def evaluate(analysis: Analysis, rules: RuleSet, vulns=None) -> list[Verdict]:
    """One verdict per rule, in the rule set's order (``vulns``: see ``_measure``)."""
    out = []
    for rule in rules.rules:
        failed, measured, message, offending = _measure(rule, analysis, vulns)
        status = "pass" if not failed else ("warn" if rule.warn_only else "fail")
        out.append(Verdict(analysis.reference, rule.key, status, measured, rule.config, message,
                           offending[:SHOWN] if failed else [], len(offending) if failed else 0))
    return out
