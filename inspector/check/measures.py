"""What each rule measures in one analysed image: ``measure(rule, analysis, vulns)`` →
``Measured`` (failed, the figure, the message, the offending paths). The rules table
(``rules.py``) names one of these per key. Every figure comes from the ``Analysis`` (and so
from the analysis cache on a warm run: a check re-reads no layer).

dive's rules mean what they mean in dive (``command/ci/rules.go``, ``image/analysis.go``):
fail when ``efficiency < lowestEfficiency``, ``wasted > highestWastedBytes``,
``wasted / user bytes > highestUserWastedPercent`` (strict comparisons), where wasted counts
every copy of a path written by 2+ layers and user bytes are the file bytes of every layer
but the first.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from inspector.analysis import Analysis
    from inspector.check.config import Rule
    from inspector.globmatch import GlobSet


class Measured(NamedTuple):
    failed: bool
    measured: object  # the figure compared (bytes, a count, a ratio, the user)
    message: str
    offending: list[str]  # every offending path or item (the verdict shows the first few)


def path_globs(patterns: list[str]) -> GlobSet:
    """The matcher of ``forbid_paths``: ``*``, ``?`` and ``[…]`` stay within a path segment,
    ``**`` spans segments; a pattern not starting with ``/`` matches at any depth. Linear
    in the path (``inspector.globmatch``): no pattern can make it backtrack."""
    from inspector.globmatch import GlobSet

    return GlobSet(patterns, pathname=True, anywhere=True)


def forbid_categories(rule: Rule, a: Analysis, vulns: Any) -> Measured:
    totals = a.classification.totals
    hits = [(c, totals[c]) for c in rule.names if c in totals and totals[c].files]
    paths = [f"{p} ({c})" for c, t in hits for p in t.paths]
    n = sum(t.files for _, t in hits)
    what = ", ".join(f"{c} {t.files}" for c, t in hits)
    return Measured(bool(n), n, f"{n} file(s) in forbidden categories" + (f": {what}" if what else ""),
                    paths)


def forbid_paths(rule: Rule, a: Analysis, vulns: Any) -> Measured:
    paths = path_globs(rule.names).filter_paths(a.fs.sorted_paths())
    return Measured(bool(paths), len(paths), f"{len(paths)} path(s) match a forbidden glob", paths)


def forbid_packages(rule: Rule, a: Analysis, vulns: Any) -> Measured:
    from inspector.globmatch import GlobSet

    globs = GlobSet(rule.names)  # fnmatch's syntax, without its backtracking
    pkgs = [p for p in a.catalog.packages if globs.match(p.name)]
    shown = [f"{p.name} {p.version} ({p.type})" for p in pkgs]
    return Measured(bool(pkgs), len(pkgs), f"{len(pkgs)} forbidden package(s)", shown)


def _limit(what: str, unit: str, measured: int, rule: Rule) -> Measured:
    limit = rule.limit
    return Measured(measured > limit, measured, f"{what}: {measured} {unit} (limit {limit})", [])


def max_size(rule: Rule, a: Analysis, vulns: Any) -> Measured:
    return _limit("compressed size", "bytes", a.compressed_size, rule)


def max_files_size(rule: Rule, a: Analysis, vulns: Any) -> Measured:
    return _limit("bytes of files", "bytes", a.fs.file_bytes, rule)


def max_files(rule: Rule, a: Analysis, vulns: Any) -> Measured:
    return _limit("non-directory entries", "files", a.classification.count(), rule)


def _found(paths: list[str], label: str) -> Measured:
    paths = sorted(set(paths))
    return Measured(bool(paths), len(paths), f"{len(paths)} {label}", paths)


def forbid_setuid(rule: Rule, a: Analysis, vulns: Any) -> Measured:
    f = a.classification.findings
    return _found([*f.setuid, *f.setgid], "setuid/setgid file(s)")


def forbid_world_writable(rule: Rule, a: Analysis, vulns: Any) -> Measured:
    return _found(a.classification.findings.world_writable, "world-writable entr(ies)")


def forbid_login_users(rule: Rule, a: Analysis, vulns: Any) -> Measured:
    return _found(a.classification.findings.login_users, "login user(s) with a shell")


def require_nonroot_user(rule: Rule, a: Analysis, vulns: Any) -> Measured:
    """The configured ``User`` does not run as uid 0: the compare report's rule
    (``compare.security.runs_as``)."""
    from inspector.compare.security import runs_as

    who = runs_as(a)
    user = who.user or "(unset: root)"
    return Measured(who.root, user,
                    f"config User {user!r} " + ("runs as root" if who.root else "is not root"), [])


def max_vulns(rule: Rule, a: Analysis, vulns: Any) -> Measured:
    """The scanner report's findings per severity named, against the limits; the scanner
    and its database time in the message (the counts are the report's). ``vulns`` is the
    image's ``inspector.vulns.Overlay`` (``--vulns``)."""
    if vulns is None:
        return Measured(True, None, "no scanner report for this image (give --vulns FILE)", [])
    limits: dict = rule.value  # type: ignore[assignment]
    counts = vulns.counts.by_severity
    over = {name for name, limit in limits.items() if counts[name] > limit}
    what = ", ".join(f"{name} {counts[name]} (max {limit})" for name, limit in limits.items())
    found = [f"{x.finding.id} ({x.finding.severity}) in {vulns.name_of(x)}"
             for x in vulns.landed if x.finding.severity in over]
    return Measured(bool(over), {name: counts[name] for name in limits},
                    f"vulnerabilities: {what}; {vulns.scanner.describe()}", found)


def dive_figures(a: Analysis) -> tuple[float, int, float]:
    """(efficiency, wasted bytes, wasted / user bytes) as dive computes them."""
    eff = a.efficiency
    user = sum(sum(index.sizes) for index in a.layers[1:])
    if user:
        percent = eff.wasted_bytes / user
    else:  # dive divides by zero: NaN (passes every threshold), or +Inf
        percent = math.inf if eff.wasted_bytes else math.nan
    return eff.score, eff.wasted_bytes, percent


def lowest_efficiency(rule: Rule, a: Analysis, vulns: Any) -> Measured:
    efficiency = dive_figures(a)[0]
    value = rule.limit
    return Measured(value > efficiency, efficiency,
                    f"efficiency {efficiency:.4f} (lowest {value})", [])


def highest_wasted_bytes(rule: Rule, a: Analysis, vulns: Any) -> Measured:
    wasted = dive_figures(a)[1]
    value = rule.limit
    top = [p for p, _, _ in a.efficiency.inefficient]
    return Measured(wasted > value, wasted, f"wasted bytes {wasted} (highest {value})", top)


def highest_user_wasted_percent(rule: Rule, a: Analysis, vulns: Any) -> Measured:
    percent = dive_figures(a)[2]
    value = rule.limit
    ratio = 0.0 if math.isnan(percent) else percent
    top = [p for p, _, _ in a.efficiency.inefficient]
    return Measured(percent > value, ratio, f"user wasted ratio {ratio:.4f} (highest {value})", top)
