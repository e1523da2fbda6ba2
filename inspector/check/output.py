"""Verdicts → text (people), JSON (``inspector.check/v1``), JUnit XML (CI test reporters:
one test case per rule per image) and SARIF 2.1.0 (code-scanning dashboards).

References, messages and offending paths carry strings from images: text and JUnit (read
by people in CI logs; XML 1.0 cannot even hold a control character) show them through
``visible()``, line by line in text and value by value in JUnit; JSON and SARIF keep them
raw, ASCII-escaped (a byte that was not UTF-8 stays a ``\\udcXX`` escape, not a crash)."""

from __future__ import annotations

import json

from inspector.check.evaluate import Verdict
from inspector.visible import visible

SCHEMA = "inspector.check/v1"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_MARK = {"pass": "PASS", "fail": "FAIL", "warn": "WARN"}


def summary(verdicts: list[Verdict]) -> dict[str, int]:
    counts = {"pass": 0, "fail": 0, "warn": 0}
    for v in verdicts:
        counts[v.status] += 1
    return counts


def render_text(images: list[tuple[str, list[Verdict]]], source: str) -> str:
    lines = []
    width = max((len(visible(v.rule)) for _, vs in images for v in vs), default=10)
    for reference, verdicts in images:
        lines.append(reference)
        if not verdicts:
            lines.append("  (no rules)")
        for v in verdicts:
            lines.append(f"  {_MARK[v.status]}  {v.rule:<{width}}  {v.message}")
            for path in v.offending:
                lines.append(f"          {path}")
            if v.offending_count > len(v.offending):
                lines.append(f"          … and {v.offending_count - len(v.offending)} more")
    counts = summary([v for _, vs in images for v in vs])
    verdict = "FAIL" if counts["fail"] else "PASS"
    lines.append(f"result: {verdict} ({counts['fail']} failed, {counts['warn']} warned, "
                 f"{counts['pass']} passed; rules: {source})")
    return "\n".join(map(visible, lines)) + "\n"  # each line holds its strings whole


def render_json(images: list[tuple[str, list[Verdict]]], source: str) -> str:
    counts = summary([v for _, vs in images for v in vs])
    doc = {"schema": SCHEMA, "rules": source, "passed": counts["fail"] == 0, "counts": counts,
           "images": [{"reference": ref, "passed": all(v.status != "fail" for v in vs),
                       "verdicts": [v.as_json() for v in vs]} for ref, vs in images]}
    return json.dumps(doc, indent=2, ensure_ascii=True) + "\n"


def render_junit(images: list[tuple[str, list[Verdict]]]) -> str:
    """JUnit XML as GitLab, Jenkins and GitHub reporters read it: one ``testsuite`` per
    image, one ``testcase`` per rule; a failed rule has a ``failure``, a warn-only one that
    failed passes with the warning in ``system-out``."""
    import xml.etree.ElementTree as ET  # only when --junit is asked for

    root = ET.Element("testsuites", name="inspector check")
    total = failures = 0
    for reference, verdicts in images:
        fails = sum(v.status == "fail" for v in verdicts)
        ref = visible(reference)
        suite = ET.SubElement(root, "testsuite", name=ref, tests=str(len(verdicts)),
                              failures=str(fails), errors="0", skipped="0")
        total, failures = total + len(verdicts), failures + fails
        for v in verdicts:
            rule, message = visible(v.rule), visible(v.message)
            case = ET.SubElement(suite, "testcase", name=rule, classname=f"inspector.check.{ref}")
            body = "\n".join([message, *map(visible, v.offending)])
            if v.status == "fail":
                ET.SubElement(case, "failure", message=message, type=rule).text = body
            elif v.status == "warn":
                ET.SubElement(case, "system-out").text = "warning: " + body
    root.set("tests", str(total))
    root.set("failures", str(failures))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def render_sarif(images: list[tuple[str, list[Verdict]]], source: str) -> str:
    """SARIF 2.1.0: one run, a result per failed or warned rule per image; each offending
    path is a location (a path inside the image, relative to its root)."""
    rules = sorted({v.rule for _, vs in images for v in vs})
    results = []
    for reference, verdicts in images:
        for v in verdicts:
            if v.status == "pass":
                continue
            result: dict[str, object] = {"ruleId": v.rule, "level": "error" if v.status == "fail" else "warning",
                      "message": {"text": f"{reference}: {v.message}"},
                      "properties": {"image": reference, "measured": v.measured}}
            locations = [{"physicalLocation": {"artifactLocation": {
                "uri": path.split(" ", 1)[0].lstrip("/")}}}
                for path in v.offending if path.startswith("/")]
            if locations:
                result["locations"] = locations
            results.append(result)
    doc = {"version": "2.1.0", "$schema": SARIF_SCHEMA, "runs": [{
        "tool": {"driver": {"name": "inspector", "rules": [
            {"id": r, "shortDescription": {"text": r.replace("_", " ")}} for r in rules]}},
        "properties": {"rules": source}, "results": results}]}
    return json.dumps(doc, indent=2, ensure_ascii=True) + "\n"
