"""Our own CycloneDX SBOM (``inspector export --format cyclonedx``) with a
``vulnerabilities`` array added is read back as a report of that image; through
``syft convert`` (which keeps the components and the image digest but not the
vulnerabilities) the array is added again and joins by syft's purls."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from inspector.vulns import load_report, overlay
from tests.tools import require_tool
from tests.vulns.conftest import FIXTURES, assert_report_error

STATIC = "sample:distroless-static"
SYFT = Path(sys.executable).parent / "syft"  # installed into the venv beside python


def _sbom(run, tmp_path: Path) -> dict:
    out = tmp_path / "sbom.cdx.json"
    r = run("export", STATIC, "--format", "cyclonedx", "-o", str(out))
    assert r.code == 0, r.err
    return json.loads(out.read_text())


def _with_vulns(sbom: dict, names: dict[str, str]) -> dict:
    """``names``: package name → severity; one vulnerability each, on its component."""
    refs = {c["name"]: c["bom-ref"] for c in sbom["components"]}
    sbom["vulnerabilities"] = [
        {"bom-ref": f"v{i}", "id": f"CVE-2099-{i:04d}", "ratings": [{"severity": sev}],
         "affects": [{"ref": refs[name]}]}
        for i, (name, sev) in enumerate(names.items())]
    return sbom


FINDINGS = {"tzdata": "high", "ca-certificates": "critical", "netbase": "low"}


def test_own_sbom_round_trip(run, tmp_path, samples):
    sbom = _with_vulns(_sbom(run, tmp_path), FINDINGS)
    path = tmp_path / "scanned.cdx.json"
    path.write_text(json.dumps(sbom))
    ov = overlay(load_report(str(path)), samples["distroless-static"])
    assert ov.unmatched == 0
    assert {ov.name_of(x): x.finding.severity for x in ov.landed} == FINDINGS
    r = run("export", STATIC, "--vulns", str(path))
    assert r.code == 0, r.err
    totals = json.loads(r.out)["vulnerabilities"]["totals"]
    assert (totals["critical"], totals["high"], totals["low"]) == (1, 1, 1)


def test_own_sbom_of_another_image_refused(run, tmp_path):
    sbom = _with_vulns(_sbom(run, tmp_path), FINDINGS)
    path = tmp_path / "scanned.cdx.json"
    path.write_text(json.dumps(sbom))
    r = run("export", "sample:debian-12-slim", "--vulns", str(path))
    assert_report_error(r, str(path))


def test_through_syft_convert(run, tmp_path, samples):
    syft = str(SYFT) if SYFT.exists() else require_tool("syft")
    ours = tmp_path / "ours.cdx.json"
    ours.write_text(json.dumps(_with_vulns(_sbom(run, tmp_path), FINDINGS)))
    converted = tmp_path / "syft.cdx.json"
    env = {**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"}
    subprocess.run([syft, "convert", str(ours), "-o", f"cyclonedx-json={converted}"],
                   check=True, capture_output=True, env=env, timeout=120)
    doc = json.loads(converted.read_text())
    # syft keeps the packages and the image, drops the vulnerabilities: not a report
    r = run("export", STATIC, "--vulns", str(converted))
    assert_report_error(r, "vulnerabilities")
    # scanned again (the array added to syft's document): joins by syft's purls, whose
    # bom-refs are syft's own
    assert all(c["bom-ref"] != c.get("purl") for c in doc["components"] if c.get("purl"))
    converted.write_text(json.dumps(_with_vulns(doc, FINDINGS)))
    ov = overlay(load_report(str(converted)), samples["distroless-static"])
    assert ov.unmatched == 0
    assert {ov.name_of(x): x.finding.severity for x in ov.landed} == FINDINGS


def test_grype_on_our_sbom(run, tmp_path, samples):
    """``grype sbom:OUR.cdx.json`` describes the image as syft decodes our SBOM (name and
    manifest digest, no layers): that source, taken from syft itself, is accepted for the
    image and refused for another."""
    syft = str(SYFT) if SYFT.exists() else require_tool("syft")
    ours = tmp_path / "ours.cdx.json"
    ours.write_text(json.dumps(_sbom(run, tmp_path)))
    env = {**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"}
    decoded = json.loads(subprocess.run(
        [syft, "convert", str(ours), "-o", "syft-json"], check=True, capture_output=True,
        env=env, timeout=120).stdout)
    report = json.loads((FIXTURES / "grype-distroless-static.json").read_text())
    report["source"] = {"type": decoded["source"]["type"], "target": decoded["source"]["metadata"]}
    path = tmp_path / "grype.json"
    path.write_text(json.dumps(report))
    assert overlay(load_report(str(path)), samples["distroless-static"]).counts.total == 0
    r = run("export", "sample:debian-12-slim", "--vulns", str(path))
    assert_report_error(r, str(path))
