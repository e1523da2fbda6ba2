"""``inspector check``: each rule on images built in the test and on the samples; dive's
rules with dive's figures and strict comparisons; text, JSON, JUnit and SARIF output;
exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from inspector.analysis import analyze
from inspector.check.config import parse_toml
from inspector.check.evaluate import evaluate, path_globs
from inspector.options import Options
from inspector.sources.resolve import open_image
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout

ROOT = Path(__file__).resolve().parents[2]

PASSWD = b"root:x:0:0:root:/root:/bin/bash\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n"
BASE = {"etc/passwd": PASSWD, "bin": Entry("dir"), "bin/true": Entry("file", data=b"\x7fELF" + b"\0" * 60, mode=0o755)}
DIRTY = {
    "bin/bash": Entry("file", data=b"\x7fELF" + b"\0" * 100, mode=0o755),
    "usr/bin/apt-get": Entry("file", data=b"\x7fELF" + b"\0" * 100, mode=0o755),
    "usr/bin/su": Entry("file", data=b"\x7fELF" + b"\0" * 10, mode=0o4755),
    "var/drop": Entry("file", data=b"x", mode=0o666),
    "app/.git/config": b"[core]\n",
    "var/lib/dpkg/status": b"Package: curl\nStatus: install ok installed\nVersion: 7.88\nArchitecture: amd64\n",
}


def analysed(tmp_path: Path, *layers: dict, config: dict | None = None):
    blobs = [make_layer(files) for files in layers]
    write_oci_layout(tmp_path / "oci", [ImageSpec(blobs, ref_name="t", config_extra=config or {})])
    options = Options(cache_dir=tmp_path / "cache")
    return analyze(open_image(f"oci:{tmp_path / 'oci'}:t", options), options)


def verdict(analysis, toml: str):
    (v,) = evaluate(analysis, parse_toml("[rules]\n" + toml))
    return v


# (name, rule, failing on DIRTY, first offending paths)
RULES = [
    ("categories", 'forbid_categories = ["shell", "package_manager"]', True,
     ["/bin/bash (shell)", "/usr/bin/apt-get (package_manager)"]),
    ("paths anywhere", 'forbid_paths = [".git/**"]', True, ["/app/.git/config"]),
    ("paths absolute", 'forbid_paths = ["/usr/bin/apt*", "/nowhere/*"]', True, ["/usr/bin/apt-get"]),
    ("packages", 'forbid_packages = ["cur?"]', True, ["curl 7.88 (deb)"]),
    ("setuid", "forbid_setuid = true", True, ["/usr/bin/su"]),
    ("world writable", "forbid_world_writable = true", True, ["/var/drop"]),
    ("login users", "forbid_login_users = true", True, ["root:/bin/bash"]),
    ("max files", "max_files = 3", True, []),
    ("max files not reached", "max_files = 100", False, []),
]


@pytest.mark.parametrize(("name", "toml", "fails", "offending"), RULES, ids=[c[0] for c in RULES])
def test_each_rule_on_a_dirty_and_a_clean_image(name, toml, fails, offending, tmp_path):
    dirty = analysed(tmp_path / "dirty", BASE, DIRTY)
    v = verdict(dirty, toml)
    assert v.status == ("fail" if fails else "pass")
    assert v.offending == offending
    clean = analysed(tmp_path / "clean", {"app/hello": b"hi"})
    assert verdict(clean, toml).status == "pass"


def test_size_and_count_limits_compare_strictly(tmp_path):
    a = analysed(tmp_path, BASE, DIRTY)
    figures = {"max_size": a.compressed_size, "max_files_size": a.fs.file_bytes,
               "max_files": len(a.classification.categories)}
    assert figures["max_files"] == 8 and figures["max_files_size"] == sum(
        len(e.data) if isinstance(e, Entry) else len(e) for e in [*BASE.values(), *DIRTY.values()])
    for key, measured in figures.items():
        assert verdict(a, f"{key} = {measured}").status == "pass"
        v = verdict(a, f"{key} = {measured - 1}")
        assert (v.status, v.measured) == ("fail", measured)


USERS = [
    ("unset", None, "fail"), ("root", "root", "fail"), ("uid 0 with group", "0:0", "fail"),
    ("numeric", "65532", "pass"), ("name", "nonroot", "pass"),
    ("name mapped to uid 0 by passwd", "toor", "fail"),
]


@pytest.mark.parametrize(("name", "user", "status"), USERS, ids=[c[0] for c in USERS])
def test_require_nonroot_user(name, user, status, tmp_path):
    passwd = PASSWD + b"toor:x:0:0::/root:/sbin/nologin\n"
    config = {"config": {"User": user}} if user is not None else {}
    a = analysed(tmp_path, {"etc/passwd": passwd}, config=config)
    assert verdict(a, "require_nonroot_user = true").status == status


def test_dive_rules_use_dive_figures_and_strict_comparisons(tmp_path):
    # layer 0 writes a (1000 B); layer 1 rewrites a and adds b (1000 B each): dive counts
    # cumulative(a) = 2000, min(a) = 1000 → efficiency 2000/3000; wasted = 2000 (both copies);
    # user bytes = layer 1's 2000 → user-wasted ratio 1.0
    a = analysed(tmp_path, {"a": b"x" * 1000}, {"a": b"y" * 1000, "b": b"z" * 1000})
    cases = [("lowestEfficiency = 0.7", "fail"), ("lowestEfficiency = 0.6", "pass"),
             ('highestWastedBytes = "2kB"', "pass"), ("highestWastedBytes = 1999", "fail"),
             ("highestUserWastedPercent = 1.0", "pass"), ("highestUserWastedPercent = 0.99", "fail")]
    got = [(toml, verdict(a, toml).status) for toml, _ in cases]
    assert got == cases
    assert verdict(a, "highestWastedBytes = 1").measured == 2000
    assert abs(verdict(a, "lowestEfficiency = 0.1").measured - 2 / 3) < 1e-9
    assert verdict(a, "highestWastedBytes = 1").offending == ["/a"]


GLOBS = [
    ("star stays in a segment", ["/usr/*"], "/usr/bin/x", False),
    ("star", ["/usr/bin/*"], "/usr/bin/x", True),
    ("double star", ["/usr/**"], "/usr/bin/x", True),
    ("relative matches anywhere", ["id_rsa"], "/root/.ssh/id_rsa", True),
    ("relative is a whole name", ["id_rsa"], "/root/.ssh/my_id_rsa", False),
    ("class", ["/bin/[bd]ash"], "/bin/dash", True),
    ("negated class", ["/bin/[!b]ash"], "/bin/bash", False),
    ("question mark", ["/bin/?h"], "/bin/sh", True),
]


@pytest.mark.parametrize(("name", "globs", "path", "matches"), GLOBS, ids=[c[0] for c in GLOBS])
def test_path_globs(name, globs, path, matches):
    assert path_globs(globs).match(path) is matches


def check(*args: str, cache: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inspector", "check", *args, "-q",
                           "--cache-dir", str(cache)], capture_output=True, text=True, cwd=ROOT,
                          timeout=600)


def test_samples_against_the_default_rules(tmp_path):
    """debian-12-slim fails on shell and package_manager; distroless-static passes;
    distroless-static-debug fails on its shell only."""
    junit = tmp_path / "report.xml"
    proc = check("sample:debian-12-slim", "sample:distroless-static",
                 "sample:distroless-static-debug", "--format", "json", "--junit", str(junit),
                 cache=tmp_path / "cache")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    failed = {img["reference"]: {v["rule"]: v for v in img["verdicts"] if v["status"] == "fail"}
              for img in doc["images"]}
    slim = failed["sample:debian-12-slim"]["forbid_categories"]
    assert {"shell", "package_manager"} <= {p.rsplit(" (", 1)[1][:-1] for p in slim["offending"]} | {
        c for c in ("shell", "package_manager") if c in slim["message"]}
    assert "/usr/bin/bash (shell)" in slim["offending"]
    assert failed["sample:distroless-static"] == {}
    debug = failed["sample:distroless-static-debug"]
    assert list(debug) == ["forbid_categories"]
    assert all(p.endswith("(shell)") for p in debug["forbid_categories"]["offending"])
    assert debug["forbid_categories"]["offending_count"] == debug["forbid_categories"]["measured"] > 200
    # JUnit: one suite per image, one case per rule, failures where the JSON says so
    root = ET.parse(junit).getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert list(suites) == [img["reference"] for img in doc["images"]]
    for img in doc["images"]:
        suite = suites[img["reference"]]
        cases = {c.get("name"): c for c in suite.iter("testcase")}
        assert list(cases) == [v["rule"] for v in img["verdicts"]]
        assert int(suite.get("failures")) == sum(v["status"] == "fail" for v in img["verdicts"])
        for v in img["verdicts"]:
            assert (cases[v["rule"]].find("failure") is not None) == (v["status"] == "fail")
            assert (cases[v["rule"]].find("system-out") is not None) == (v["status"] == "warn")
    assert int(root.get("tests")) == sum(len(img["verdicts"]) for img in doc["images"])


def test_exit_0_when_all_pass_and_warn_only_does_not_fail(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text('warn_only = ["forbid_categories"]\n[rules]\nforbid_categories = ["shell"]\n'
                     "max_files = 100000\n")
    proc = check("sample:distroless-static-debug", "--rules", str(rules), cache=tmp_path / "c")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "sample:distroless-static-debug"
    assert lines[1].split()[:2] == ["WARN", "forbid_categories"]
    assert "/busybox/sh (shell)" in proc.stdout or "… and" in proc.stdout
    assert lines[-1].startswith("result: PASS (0 failed, 1 warned, 1 passed")


def test_sarif_lists_failures_with_locations(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text('[rules]\nforbid_paths = ["/usr/bin/dpkg*"]\nmax_files = 1000000\n')
    proc = check("sample:debian-12-slim", "--rules", str(rules), "--format", "sarif",
                 cache=tmp_path / "c")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["version"] == "2.1.0"
    (run,) = doc["runs"]
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} == {"forbid_paths", "max_files"}
    (result,) = run["results"]
    assert result["ruleId"] == "forbid_paths" and result["level"] == "error"
    uris = [loc["physicalLocation"]["artifactLocation"]["uri"] for loc in result["locations"]]
    assert "usr/bin/dpkg" in uris and all(u.startswith("usr/bin/dpkg") for u in uris)
