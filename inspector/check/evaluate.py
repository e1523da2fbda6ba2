"""Rules → verdicts for one analysed image: each rule's measure (``rules.RULES``,
``measures.py``) against its configured value, pass, fail or warn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from inspector.analysis import Analysis
from inspector.check.config import RuleSet
from inspector.check.measures import path_globs
from inspector.check.rules import measure

__all__ = ["SHOWN", "Verdict", "evaluate", "path_globs"]

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
    scope: str = "image"  # or "own": only the layers above the base (check/scope.py)

    def as_json(self) -> dict:
        return {"image": self.image, "rule": self.rule, "status": self.status,
                "measured": self.measured, "threshold": self.threshold,
                "message": self.message, "offending": self.offending,
                "offending_count": self.offending_count, "scope": self.scope}


def evaluate(analysis: Analysis, rules: RuleSet, vulns=None, *, base=None,
             detect: bool = True) -> list[Verdict]:
    """One verdict per rule, in the rule set's order (``vulns``: the image's
    ``inspector.vulns.Overlay``, for ``max_vulns``). A rule with ``scope = "own"``
    measures the layers above ``base`` (``provenance.Base``), else above the base detected
    (``provenance.detect_base``) unless not ``detect``."""
    out = []
    own: tuple | None = None
    for rule in rules.rules:
        subject, overlay, where = analysis, vulns, ""
        if rule.scope == "own":
            if own is None:
                from inspector.check.scope import own_view, own_vulns
                from inspector.provenance import detect_base

                found = base if base is not None or not detect else detect_base(analysis)
                view = own_view(analysis, found)
                own = (view, own_vulns(vulns, found))
            subject, overlay = own
            where = f" ({own[0].describe()})"
        failed, measured, message, offending = measure(rule, subject, overlay)
        message += where
        status = "pass" if not failed else ("warn" if rule.warn_only else "fail")
        out.append(Verdict(analysis.reference, rule.key, status, measured, rule.config, message,
                           offending[:SHOWN] if failed else [], len(offending) if failed else 0,
                           rule.scope))
    return out
