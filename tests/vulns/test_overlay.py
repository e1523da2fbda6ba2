"""The overlay on the bundled samples: debian-12-slim's grype report and distroless-static's
grype and trivy reports (derived from real reports, fixtures/README.md). Expected figures
are counted here from the report files themselves."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from inspector.errors import ReportError
from inspector.vulns import load_report, overlay, package_files
from tests.vulns.conftest import assert_report_error, doc, fixture

SLIM, STATIC = "sample:debian-12-slim", "sample:distroless-static"
SLIM_GRYPE = fixture("grype-debian-12-slim.json")
STATIC_REPORTS = ("grype-distroless-static.json", "trivy-distroless-static.json")


def _severities(name: str) -> Counter:
    return Counter(m["vulnerability"]["severity"].lower() for m in doc(name)["matches"])


def test_lands_on_packages_files_category_layer(samples):
    """Every finding of the debian report lands on the package the report names, in the
    layer inspector says installed it, with that package's files and category."""
    a = samples["debian-12-slim"]
    ov = overlay(load_report(SLIM_GRYPE), a)
    matches = doc("grype-debian-12-slim.json")["matches"]
    assert ov.unmatched == 0
    assert [a.catalog.packages[x.packages[0]].name for x in ov.landed] == [
        m["artifact"]["name"] for m in matches]
    for item in ov.landed:
        pkg = a.catalog.packages[item.packages[0]]
        assert item.layer == pkg.layer
        files = package_files(a, item.packages[0])
        # a path two packages list is owned by the first (catalog.owners)
        assert 0 < len(files) <= pkg.files
        assert all(a.catalog.owner_name(p) == pkg.name for p in files)
        assert item.category in {a.classification.category_of(p) for p in files}
    assert ov.counts.total == len(matches)
    assert {k: v for k, v in ov.counts.by_severity.items() if v} == dict(
        _severities("grype-debian-12-slim.json"))
    assert ov.counts.by_fix_state["wont-fix"] == sum(
        m["vulnerability"]["fix"]["state"] == "wont-fix" for m in matches)


def test_coreutils_vulnerability_is_in_core_utilities(samples):
    """The category comes from inspector's own classification of the package's files."""
    ov = overlay(load_report(SLIM_GRYPE), samples["debian-12-slim"])
    [item] = [x for x in ov.landed if ov.name_of(x) == "coreutils"]
    assert item.category == "core_utilities"


def test_another_images_report_refused(samples):
    with pytest.raises(ReportError) as err:
        overlay(load_report(SLIM_GRYPE), samples["distroless-static"])
    assert err.value.where == SLIM_GRYPE
    assert "\n" not in str(err.value)


def test_any_image_overlays_and_counts_unmatched(samples):
    """With --vulns-any-image a foreign report is laid over anyway; what lands nowhere is
    counted, not dropped."""
    raw = doc("grype-chainguard-ruby.json")
    ov = overlay(load_report(fixture("grype-chainguard-ruby.json")), samples["debian-12-slim"],
                 any_image=True)
    assert ov.counts.total == len(raw["matches"])
    assert ov.unmatched == len(raw["matches"])  # wolfi apks and gems: none in debian


def _cli_pair(run, static_report: str, fmt: str):
    return run("compare", SLIM, STATIC, "--vulns", SLIM_GRYPE, "--vulns",
               fixture(static_report), "--format", fmt)


def _expected_drop(static_report: str) -> Counter:
    """The debian findings whose (id, package) the distroless report lacks, by severity."""
    raw = doc(static_report)
    if "matches" in raw:
        theirs = {(m["vulnerability"]["id"], m["artifact"]["name"]) for m in raw["matches"]}
    else:
        theirs = {(v["VulnerabilityID"], v["PkgName"]) for r in raw["Results"]
                  for v in r.get("Vulnerabilities", [])}
    return Counter(m["vulnerability"]["severity"].lower()
                   for m in doc("grype-debian-12-slim.json")["matches"]
                   if (m["vulnerability"]["id"], m["artifact"]["name"]) not in theirs)


@pytest.mark.parametrize("static_report", STATIC_REPORTS)
def test_compare_json_says_what_distroless_drops(run, static_report):
    r = _cli_pair(run, static_report, "json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    slim, static = (im["vulnerabilities"] for im in out["images"])
    assert slim["total"] == len(doc("grype-debian-12-slim.json")["matches"])
    assert slim["scanner"]["name"] == "grype" and slim["scanner"]["db_built"]
    [pair] = out["pairs"]
    drop = _expected_drop(static_report)
    assert pair["vulns_dropped"]["total"] == sum(drop.values())
    assert pair["vulns_dropped"]["of"] == slim["total"]
    for severity in ("critical", "high", "medium", "low", "negligible"):
        assert pair["vulns_dropped"][severity] == drop[severity]
    assert pair["vulns_added"]["total"] == static["total"]
    names = {m["artifact"]["name"] for m in doc("grype-debian-12-slim.json")["matches"]}
    assert set(pair["vulns_dropped"]["packages"]) == names


def test_compare_text_and_markdown_say_it(run):
    drop = _expected_drop("trivy-distroless-static.json")
    total = len(doc("grype-debian-12-slim.json")["matches"])
    sentence = (f"distroless-static drops {sum(drop.values())} of {total} vulnerabilities of "
                f"debian-12-slim ({drop['critical']} critical, {drop['high']} high)")
    for fmt in ("text", "markdown"):
        r = _cli_pair(run, "trivy-distroless-static.json", fmt)
        assert r.code == 0, r.err
        assert sentence in r.out
        assert "grype 0.61.1" in r.out and "2023-05-17T01:32:43Z" in r.out  # the provenance
        assert "trivy dev" in r.out
        # every debian finding is in the sample's one layer (layers are 1..N in text)
        assert f"by layer | 1: {total} |" in r.out if fmt == "markdown" else \
            re.search(rf"by layer +1: {total} ", r.out)


def test_compare_refuses_a_swapped_report(run):
    r = run("compare", SLIM, STATIC, "--vulns", fixture("trivy-distroless-static.json"),
            "--vulns", SLIM_GRYPE)
    line = assert_report_error(r, "trivy-distroless-static.json")
    assert "--vulns-any-image" in line


def test_compare_needs_one_report_per_image(run):
    r = run("compare", SLIM, STATIC, "--vulns", SLIM_GRYPE)
    assert_report_error(r, "--vulns")


def test_compare_without_vulns_has_no_vulnerability_fields(run):
    r = run("compare", SLIM, STATIC, "--format", "json")
    out = json.loads(r.out)
    assert "vulnerabilities" not in out["images"][0] and "vulns_dropped" not in out["pairs"][0]


def test_export_lists_ids_per_package(run):
    r = run("export", SLIM, "--vulns", SLIM_GRYPE)
    assert r.code == 0, r.err
    out = json.loads(r.out)
    vulns = out["vulnerabilities"]
    expected: dict[str, list[str]] = {}
    for m in doc("grype-debian-12-slim.json")["matches"]:
        expected.setdefault(m["artifact"]["name"], []).append(m["vulnerability"]["id"])
    assert {out["packages"][p["package"]]["name"]: p["ids"] for p in vulns["packages"]} == expected
    assert vulns["totals"]["total"] == sum(map(len, expected.values()))
    assert vulns["scanner"]["version"] == "0.61.1"


def test_export_refuses_another_image_unless_told(run):
    r = run("export", STATIC, "--vulns", SLIM_GRYPE)
    assert_report_error(r, "grype-debian-12-slim.json")
    r = run("export", STATIC, "--vulns", SLIM_GRYPE, "--vulns-any-image")
    assert r.code == 0, r.err
    vulns = json.loads(r.out)["vulnerabilities"]
    assert vulns["totals"]["unmatched"] == len(doc("grype-debian-12-slim.json")["matches"])
    assert len(vulns["unmatched"]) == vulns["totals"]["unmatched"]


def _static_trivy_with(tmp_path, samples, pkg: str, layer: int) -> str:
    """The distroless-static trivy report with one finding on ``pkg``, placed by the
    scanner in layer ``layer`` (0-based)."""
    a = samples["distroless-static"]
    [p] = [p for p in a.catalog.packages if p.name == pkg]
    raw = doc("trivy-distroless-static.json")
    template = doc("trivy-distroless-base.json")["Results"][0]["Vulnerabilities"][0]
    v = dict(template, PkgName=p.name, InstalledVersion=p.version, PkgID=f"{p.name}@{p.version}",
             PkgIdentifier={"PURL": f"pkg:deb/debian/{p.name}@{p.version}?arch={p.arch}"},
             Layer={"DiffID": a.image.layers[layer].diff_id})
    raw["Results"][0]["Vulnerabilities"] = [v]
    path = tmp_path / "static.trivy.json"
    path.write_text(json.dumps(raw))
    return str(path)


def test_layer_is_inspectors_the_scanners_a_cross_check(tmp_path, samples):
    """tzdata is installed by a later layer of distroless-static: the finding lands there
    whatever layer the scanner names; a different one is counted."""
    a = samples["distroless-static"]
    [tz] = [p for p in a.catalog.packages if p.name == "tzdata"]
    assert tz.layer and tz.layer > 0
    agree = overlay(load_report(_static_trivy_with(tmp_path, samples, "tzdata", tz.layer)), a)
    assert (agree.landed[0].layer, agree.layer_disagreements) == (tz.layer, 0)
    assert agree.landed[0].scanner_layer is None
    differ = overlay(load_report(_static_trivy_with(tmp_path, samples, "tzdata", 0)), a)
    assert (differ.landed[0].layer, differ.layer_disagreements) == (tz.layer, 1)
    assert differ.landed[0].scanner_layer == 0


def test_compare_json_counts_per_layer(run, tmp_path, samples):
    a = samples["distroless-static"]
    [tz] = [p for p in a.catalog.packages if p.name == "tzdata"]
    r = run("compare", SLIM, STATIC, "--vulns", SLIM_GRYPE, "--vulns",
            _static_trivy_with(tmp_path, samples, "tzdata", 0), "--format", "json")
    assert r.code == 0, r.err
    static = json.loads(r.out)["images"][1]["vulnerabilities"]
    assert len(static["layers"]) == len(a.image.layers)
    assert static["layers"][tz.layer] == 1 and sum(static["layers"]) == 1
    assert static["layer_disagreements"] == 1
    [pair] = json.loads(r.out)["pairs"]
    assert pair["vulns_added"]["total"] == 1 and pair["vulns_added"]["packages"] == ["tzdata"]
