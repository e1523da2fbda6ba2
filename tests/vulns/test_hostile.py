"""Malformed, huge and deeply nested reports: one ``ReportError`` line naming the file
(and the field, where one is wrong), through the library and through the CLI (exit 1, no
traceback, never the last-resort handler)."""

from __future__ import annotations

import json
import os

import pytest

from inspector.errors import ReportError
from inspector.vulns import load_report
from inspector.vulns import read as vread
from tests.hostile.strings import HOSTILE as HOSTILE_STRINGS
from tests.hostile.strings import assert_inert, ids
from tests.vulns.conftest import assert_report_error, doc


def _grype(edit) -> bytes:
    d = doc("grype-image-simple.json")
    edit(d)
    return json.dumps(d).encode()


def _trivy(edit) -> bytes:
    d = doc("trivy-debian-buster.json")
    edit(d)
    return json.dumps(d).encode()


def _set(path: list, value):
    def edit(d):
        for key in path[:-1]:
            d = d[key]
        d[path[-1]] = value
    return edit


def _drop(path: list):
    def edit(d):
        for key in path[:-1]:
            d = d[key]
        del d[path[-1]]
    return edit


HOSTILE = [  # (name, file bytes, the field the error names (None: the file only))
    ("empty", b"", None),
    ("not JSON", b"matches: []", None),
    ("truncated", _grype(lambda d: None)[:-40], None),
    ("not UTF-8", b'{"matches": [], "descriptor": {"name": "\xff"}}', None),
    ("NaN", b'{"matches": [], "descriptor": {"x": NaN}}', None),
    ("a NUL byte", b'{"matches": [], "descriptor": {"name": "\0"}}', None),
    ("UTF-16", '{"matches": [], "descriptor": {}}'.encode("utf-16"), None),
    ("nested a million deep", b"[" * 1_000_000 + b"]" * 1_000_000, None),
    ("an object of no known format", b'{"artifacts": []}', None),
    ("a top-level list", b"[1, 2]", None),
    ("grype matches not a list", _grype(_set(["matches"], {})), "matches"),
    ("grype id a number", _grype(_set(["matches", 0, "vulnerability", "id"], 7)),
     "matches[0].vulnerability.id"),
    ("grype artifact missing", _grype(_drop(["matches", 1, "artifact"])), "matches[1].artifact"),
    ("grype match a string", _grype(_set(["matches", 0], "CVE")), "matches[0]"),
    ("grype layers not a list", _grype(_set(["source", "target", "layers"], "sha256:x")),
     "source.target.layers"),
    ("grype layer digest missing", _grype(_set(["source", "target", "layers", 0], {})),
     "source.target.layers[0].digest"),
    ("grype fix versions hold a number",
     _grype(_set(["matches", 0, "vulnerability", "fix", "versions"], [1])),
     "matches[0].vulnerability.fix.versions[0]"),
    ("grype descriptor a list", _grype(_set(["descriptor"], [])), "descriptor"),
    ("grype upstreams of strings", _grype(_set(["matches", 0, "artifact", "upstreams"], ["x"])),
     "matches[0].artifact.upstreams[0]"),
    ("trivy SchemaVersion a string", _trivy(_set(["SchemaVersion"], "2")), "SchemaVersion"),
    ("trivy PkgName null",
     _trivy(_set(["Results", 0, "Vulnerabilities", 0, "PkgName"], None)),
     "Results[0].Vulnerabilities[0].PkgName"),
    ("trivy DiffIDs of numbers", _trivy(_set(["Metadata", "DiffIDs"], [1])), "Metadata.DiffIDs[0]"),
    ("trivy Layer a string", _trivy(_set(["Results", 0, "Vulnerabilities", 0, "Layer"], "l")),
     "Results[0].Vulnerabilities[0].Layer"),
    ("cyclonedx affects ref missing",
     json.dumps({"bomFormat": "CycloneDX", "vulnerabilities": [{"id": "X", "affects": [{}]}]})
     .encode(), "vulnerabilities[0].affects[0].ref"),
    ("cyclonedx properties hostile",
     json.dumps({"bomFormat": "CycloneDX", "components": [
         {"bom-ref": "a", "name": "n", "properties": [{"name": ["x"]}, 3, {"name": "syft:"
                                                                           "package:type",
                                                                           "value": {}}]}],
         "vulnerabilities": [{"id": "X", "affects": [{"ref": "a"}], "ratings": [3]}]}).encode(),
     "vulnerabilities[0].ratings[0]"),
]


@pytest.mark.parametrize(("name", "data", "field"), HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_report(tmp_path, name, data, field):
    path = tmp_path / "report.json"
    path.write_bytes(data)
    with pytest.raises(ReportError) as err:
        load_report(str(path))
    line = str(err.value)
    assert "\n" not in line and str(path) in line
    assert err.value.field == field
    if field:
        assert field in line


def test_hostile_reports_through_the_cli(run, tmp_path):
    for _name, data, field in HOSTILE:
        path = tmp_path / f"{len(data)}.json"
        path.write_bytes(data)
        r = run("export", "sample:distroless-static", "--vulns", str(path))
        assert_report_error(r, str(path), *([field] if field else []))


def test_too_large(tmp_path, monkeypatch):
    path = tmp_path / "big.json"
    path.write_bytes(b" " * 2000 + b'{"matches": [], "descriptor": {}}')
    monkeypatch.setattr(vread, "MAX_BYTES", 1000)
    with pytest.raises(ReportError, match="larger than the 1,000 bytes"):
        load_report(str(path))


NOT_FILES = [  # (name, path maker)
    ("a directory", lambda tmp: str(tmp)),
    ("a device that never ends", lambda tmp: "/dev/zero"),
    ("missing", lambda tmp: str(tmp / "nope.json")),
]


@pytest.mark.parametrize(("name", "make"), NOT_FILES, ids=[c[0] for c in NOT_FILES])
def test_not_a_report_file(tmp_path, name, make):
    path = make(tmp_path)
    with pytest.raises(ReportError) as err:
        load_report(path)
    assert err.value.where == path


def test_fifo_does_not_hang(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ReportError, match="not a regular file"):
        load_report(str(fifo))


@pytest.mark.parametrize("h", HOSTILE_STRINGS, ids=ids())
def test_hostile_strings_are_shown_visibly(tmp_path, samples, h):
    """A report's strings (scanner version, database time) reach the compare text as
    ``visible`` shows them, and the markdown with nothing a terminal obeys."""
    from inspector.compare import compare_analyses
    from inspector.report.compare import render
    from inspector.vulns import attach

    d = doc("grype-debian-12-slim.json")
    d["descriptor"]["version"] = h.raw
    d["descriptor"]["db"]["built"] = h.raw
    path = tmp_path / "r.json"
    path.write_text(json.dumps(d))
    analyses = [samples["debian-12-slim"], samples["distroless-static"]]
    result = compare_analyses(analyses)
    attach(result, analyses, [load_report(str(path)),
                              load_report("tests/vulns/fixtures/grype-distroless-static.json")])
    assert_inert(render(result, "text"), h.shown)
    assert_inert(render(result, "markdown"))
