"""Each format parsed from real reports (the scanners' own test data, README.md beside
the fixtures), and the format told by content, not by the file's name. Expected values
are read from the fixture documents here, field by field, as the tools define them."""

from __future__ import annotations

import json
import shutil

import pytest

from inspector.errors import ReportError
from inspector.vulns import load_report
from inspector.vulns.read import detect
from tests.vulns.conftest import FIXTURES, doc, fixture

GRYPE = ("grype-chainguard-ruby.json", "grype-image-simple.json", "grype-debian-12-slim.json")
TRIVY = ("trivy-debian-buster.json", "trivy-distroless-base.json")


@pytest.mark.parametrize("name", GRYPE)
def test_grype_reports(name):
    raw = doc(name)
    report = load_report(fixture(name))
    assert report.scanner.format == "grype"
    assert report.scanner.version == raw["descriptor"]["version"]
    assert report.scanner.db_built == (raw["descriptor"].get("db") or {}).get("built")
    assert [f.id for f in report.findings] == [m["vulnerability"]["id"] for m in raw["matches"]]
    assert [f.severity for f in report.findings] == [
        m["vulnerability"]["severity"].lower() for m in raw["matches"]]
    assert [f.package.name for f in report.findings] == [
        m["artifact"]["name"] for m in raw["matches"]]
    assert [f.fix_state for f in report.findings] == [
        m["vulnerability"]["fix"]["state"] or "unknown" for m in raw["matches"]]
    assert report.identity.diff_ids == [la["digest"] for la in raw["source"]["target"]["layers"]]
    assert report.identity.config_digests == {raw["source"]["target"]["imageID"]}


def test_grype_layer_and_upstream():
    """grype's artifact ``locations[].layerID`` and ``upstreams[].name`` are kept."""
    raw = doc("grype-chainguard-ruby.json")["matches"][0]["artifact"]
    f = load_report(fixture("grype-chainguard-ruby.json")).findings[0]
    assert f.package.layer == raw["locations"][0]["layerID"]
    assert f.package.sources == tuple(u["name"] for u in raw["upstreams"])
    assert f.package.arch == "aarch64"  # the purl's arch qualifier


@pytest.mark.parametrize("name", TRIVY)
def test_trivy_reports(name):
    raw = doc(name)
    vulns = [v for r in raw["Results"] for v in r.get("Vulnerabilities", [])]
    report = load_report(fixture(name))
    assert report.scanner.format == "trivy"
    assert report.scanner.db_built is None  # trivy's JSON does not record it
    assert report.identity.diff_ids == raw["Metadata"]["DiffIDs"]
    assert report.identity.config_digests == {raw["Metadata"]["ImageID"]}
    assert [(f.id, f.package.name, f.package.version, f.package.layer) for f in report.findings] \
        == [(v["VulnerabilityID"], v["PkgName"], v["InstalledVersion"], v["Layer"]["DiffID"])
            for v in vulns]
    assert [f.severity for f in report.findings] == [v["Severity"].lower() for v in vulns]
    assert all(f.package.type == "deb" for f in report.findings)


TRIVY_STATUS = [  # (name, Status, FixedVersion, expected fix state)
    ("affected", "affected", "", "not-fixed"),
    ("fixed", "fixed", "1.2", "fixed"),
    ("will not fix", "will_not_fix", "", "wont-fix"),
    ("end of life", "end_of_life", "", "wont-fix"),
    ("deferred", "fix_deferred", "", "not-fixed"),
    ("no status, a fixed version", "", "1.2", "fixed"),
    ("no status, nothing", "", "", "unknown"),
]


@pytest.mark.parametrize(("name", "status", "fixed", "expected"), TRIVY_STATUS,
                         ids=[c[0] for c in TRIVY_STATUS])
def test_trivy_status(tmp_path, name, status, fixed, expected):
    raw = doc("trivy-debian-buster.json")
    v = raw["Results"][0]["Vulnerabilities"][0]
    v.pop("Status", None)
    v.pop("FixedVersion", None)
    if status:
        v["Status"] = status
    if fixed:
        v["FixedVersion"] = fixed
    path = tmp_path / "r.json"
    path.write_text(json.dumps(raw))
    assert load_report(str(path)).findings[0].fix_state == expected


def test_cyclonedx_grype():
    """grype's CycloneDX: ``affects[].ref`` → the component (type from syft's property);
    the image digest from ``metadata.component``."""
    raw = doc("grype-cyclonedx-image.json")
    comps = {c["bom-ref"]: c for c in raw["components"]}
    report = load_report(fixture("grype-cyclonedx-image.json"))
    assert report.scanner.name == raw["metadata"]["tools"]["components"][0]["name"]
    expected = [(v["id"], comps[a["ref"]]["name"], comps[a["ref"]]["version"],
                 v["ratings"][0]["severity"]) for v in raw["vulnerabilities"] for a in v["affects"]]
    assert [(f.id, f.package.name, f.package.version, f.severity)
            for f in report.findings] == expected
    assert raw["metadata"]["component"]["version"] in report.identity.digests


DETECT = [  # (name, document, expected format)
    ("grype", {"matches": [], "descriptor": {}}, "grype"),
    ("trivy", {"SchemaVersion": 2, "Results": []}, "trivy"),
    ("trivy, nothing found (no Results)", {"SchemaVersion": 2, "ArtifactName": "x"}, "trivy"),
    ("cyclonedx", {"bomFormat": "CycloneDX", "vulnerabilities": []}, "cyclonedx"),
    ("syft JSON", {"artifacts": [], "descriptor": {"name": "syft"}}, None),
    ("SPDX", {"spdxVersion": "SPDX-2.3"}, None),
    ("a list", [], None),
]


@pytest.mark.parametrize(("name", "value", "expected"), DETECT, ids=[c[0] for c in DETECT])
def test_detect(name, value, expected):
    assert detect(value) == expected


@pytest.mark.parametrize("name", [*GRYPE, *TRIVY, "grype-cyclonedx-image.json"])
def test_detected_by_content_not_name(tmp_path, name):
    """The same report under a name that says nothing is read the same way."""
    copy = tmp_path / "scan.out"
    shutil.copy(FIXTURES / name, copy)
    assert load_report(str(copy)).findings == load_report(fixture(name)).findings


def test_cyclonedx_without_vulnerabilities(tmp_path):
    """An SBOM that lists no vulnerabilities is not a scanner report: one line naming the
    field."""
    path = tmp_path / "sbom.json"
    path.write_text(json.dumps({"bomFormat": "CycloneDX", "components": []}))
    with pytest.raises(ReportError) as err:
        load_report(str(path))
    assert err.value.field == "vulnerabilities"
