"""Base vs own (issue 26): the split of every figure, the base's detection (a compared
image's diff_id prefix, a bundled sample) or ``--base-image``, and refusal of a base
whose layers do not start the image."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from inspector import provenance
from inspector.analysis import analyze, open_image
from inspector.options import Options
from inspector.provenance import detect_base, find_base, given_base
from inspector.sources.oci_layout import Layout, open_oci
from inspector.sources.samples import layout_dir, sample_names

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def options(tmp_path_factory) -> Options:
    return Options(cache_dir=tmp_path_factory.mktemp("cache"), quiet=True)


def _analysis(ref: str, options: Options):
    return analyze(open_image(ref, options), options)


def run(*args: str, cache: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inspector", *args, "-q", "--cache-dir", str(cache)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.fixture(scope="module")
def hello_export(tmp_path_factory) -> dict:
    cache = tmp_path_factory.mktemp("c")
    done = run("export", "sample:hello-debian", cache=cache)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_sample_base_is_detected_and_own_is_the_app_layer_exactly(hello_export):
    doc = hello_export
    base = doc["base"]
    assert (base["reference"], base["how"], base["layers"]) == ("sample:debian-12-slim", "sample", 1)
    # an independent recount: the export's own file rows whose final content is layer 1
    rows = [r for r in doc["files"] if r["type"] != "dir"]
    own_rows = [r for r in rows if r["layer"] >= 1]
    assert own_rows  # the app layer's /app/hello
    assert base["own"]["files"] == len(own_rows)
    assert base["own"]["bytes"] == sum(r["size"] for r in own_rows if r["type"] == "file")
    assert base["own"]["files"] + base["base"]["files"] == len(rows)
    assert base["own"]["bytes"] + base["base"]["bytes"] == doc["size"]["files"]
    # and the app layer's own tar, read with tarfile: every non-directory member is own
    blob = ROOT / "sample_images/oci/blobs" / doc["layers"][1]["digest"].replace(":", "/")
    with tarfile.open(blob) as tar:
        members = [m for m in tar.getmembers() if not m.isdir()]
    assert base["own"]["files"] == len(members)
    assert base["own"]["bytes"] == sum(m.size for m in members if m.isreg())
    own_pkgs = [p for p in doc["packages"] if p["layer"] >= 1]
    assert base["own"]["packages"] == len(own_pkgs)
    assert base["own"]["packages"] + base["base"]["packages"] == len(doc["packages"])
    for name, total in doc["categories"].items():
        own, below = base["own"]["categories"][name], base["base"]["categories"][name]
        assert (own["files"] + below["files"], own["bytes"] + below["bytes"]) == (
            total["files"], total["bytes"]), name
        assert own["files"] == sum(1 for r in own_rows if r["category"] == name), name
    for name, paths in doc["findings"].items():
        assert base["own"]["findings"][name] + base["base"]["findings"][name] == len(paths)
    assert base["own"]["findings"]["login_users"] == 0  # /etc/passwd is the base's
    eff = doc["efficiency"]
    assert base["own"]["wasted_bytes"] + base["base"]["wasted_bytes"] == eff["wasted_bytes"]
    assert (base["own"]["reclaimable_bytes"] + base["base"]["reclaimable_bytes"]
            == eff["reclaimable_bytes"])


def test_no_base_everything_is_own(tmp_path):
    done = run("export", "sample:debian-12-slim", cache=tmp_path)
    doc = json.loads(done.stdout)
    base = doc["base"]
    assert (base["how"], base["layers"]) == (None, 0)
    assert base["base"]["files"] == 0
    assert base["own"]["bytes"] == doc["size"]["files"]


def test_given_base_image(tmp_path):
    done = run("export", "sample:hello-debian", "--base-image", "sample:debian-12-slim",
               cache=tmp_path)
    assert done.returncode == 0, done.stderr
    base = json.loads(done.stdout)["base"]
    assert (base["reference"], base["how"], base["layers"]) == ("sample:debian-12-slim", "given", 1)


#: (name, image, --base-image): a base whose layers do not start the image
NOT_A_PREFIX = [
    ("other base", "sample:hello-debian", "sample:distroless-static"),
    ("the child as base", "sample:debian-12-slim", "sample:hello-debian"),
]


@pytest.mark.parametrize("name,image,given", NOT_A_PREFIX, ids=[c[0] for c in NOT_A_PREFIX])
def test_a_base_that_is_not_a_prefix_is_refused_in_one_line(tmp_path, name, image, given):
    done = run("export", image, "--base-image", given, cache=tmp_path)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "not a base of" in lines[0] and given in lines[0], done.stderr
    assert "Traceback" not in done.stderr and not done.stdout


def test_detected_from_a_compared_image(options):
    hello = _analysis("sample:hello-debian", options)
    slim = _analysis("sample:debian-12-slim", options)
    sibling = _analysis("sample:hello-c-debian", options)
    assert detect_base(hello, [slim]).how == "compared"
    assert detect_base(hello, [slim]).reference == "sample:debian-12-slim"
    # a sibling built FROM the same base shares exactly the base's layers
    shared = detect_base(hello, [sibling])
    assert (shared.how, shared.layers) == ("compared", 1)
    # the base itself has no base among them: its layers are all shared
    assert detect_base(slim, [hello]) is None
    assert find_base(hello, options, "sample:debian-12-slim").how == "given"
    assert given_base(hello, "sample:hello-debian", options).layers == 2


def test_a_one_layer_image_opens_no_sample(options, monkeypatch):
    """No sample can be a proper prefix of one layer: the layout is not even read (it was
    opened once per sample on every export)."""
    slim = _analysis("sample:debian-12-slim", options)

    def refuse(self):
        raise AssertionError("the sample layout was read")

    monkeypatch.setattr(Layout, "index", refuse)
    assert detect_base(slim) is None


def test_the_samples_are_read_once_for_every_detection(options, monkeypatch):
    hello = _analysis("sample:hello-debian", options)
    sibling = _analysis("sample:hello-c-debian", options)
    provenance._SAMPLES.clear()
    reads = []
    index = Layout.index
    monkeypatch.setattr(Layout, "index", lambda self: reads.append(1) or index(self))
    bases = [detect_base(a) for a in (hello, sibling, hello)]
    assert len(reads) == 1  # one read of index.json, not one per sample and image
    assert [(b.reference, b.how, b.layers) for b in bases] == [
        ("sample:debian-12-slim", "sample", 1)] * 3


def test_sample_layers_are_what_each_sample_opened_as_an_image_says():
    provenance._SAMPLES.clear()
    expected = []
    for name in sample_names():
        image = open_oci(str(layout_dir()), name, Options(), reference=f"sample:{name}")
        try:
            expected.append((name, image.manifest_digest, [lay.diff_id for lay in image.layers]))
        finally:
            image.close()
    assert expected and provenance.sample_layers() == expected


def test_vulnerabilities_split_by_landing_layer(tmp_path):
    report = ROOT / "tests/vulns/fixtures/grype-debian-12-slim.json"
    done = run("export", "sample:hello-debian", "--vulns", str(report), "--vulns-any-image",
               cache=tmp_path)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    per_layer = [0, 0]
    for row in doc["vulnerabilities"]["packages"]:
        per_layer[row["layer"] >= 1] += len(row["ids"])
    base = doc["base"]
    assert base["base"]["vulnerabilities"]["total"] == per_layer[0] > 0
    assert base["own"]["vulnerabilities"]["total"] == per_layer[1] == 0


def test_compare_reports_base_and_own_per_image(tmp_path):
    done = run("compare", "sample:hello-c-debian", "sample:hello-debian", "sample:debian-12-slim",
               "--format", "json", cache=tmp_path)
    assert done.returncode == 0, done.stderr
    images = json.loads(done.stdout)["images"]
    hello_c, hello, slim = (im["base"] for im in images)
    # a sibling and the base itself share one layer: the base itself is named
    assert (hello_c["reference"], hello_c["how"], hello_c["layers"]) == (
        "sample:debian-12-slim", "compared", 1)
    assert (hello["reference"], hello["how"]) == ("sample:debian-12-slim", "compared")
    assert (slim["how"], slim["layers"]) == (None, 0)
    for im in images:
        split = im["base"]
        assert split["own"]["files"] + split["base"]["files"] == im["files"]
        assert split["own"]["bytes"] + split["base"]["bytes"] == im["file_bytes"]
        assert split["own"]["packages"] + split["base"]["packages"] == im["packages"]
    markdown = run("compare", "sample:hello-debian", "sample:debian-12-slim", "--format",
                   "markdown", cache=tmp_path).stdout
    assert "## Base and own" in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| own files"))
    assert [cell.strip().strip("*") for cell in row.strip("|").split("|")][1:] == [
        str(images[1]["base"]["own"]["files"]), "—"]


def test_compare_given_base_refuses_an_image_it_does_not_start(tmp_path):
    done = run("compare", "sample:hello-debian", "sample:distroless-static", "--base-image",
               "sample:debian-12-slim", cache=tmp_path)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "not a base of sample:distroless-static" in lines[0], done.stderr
