"""``inspector audit`` on a real loopback registry: the three engines give identical rows,
equal to ``inspector export`` of each image; each shared layer is read and indexed once."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.audit import audit
from inspector.audit import inputs as inputs_mod
from inspector.audit.report import WATCHED, render, worst_first
from inspector.errors import InspectorError
from inspector.options import Options

ROOT = Path(__file__).resolve().parents[2]


def _options(tmp_path: Path, name: str = "cache") -> Options:
    return Options(cache_dir=tmp_path / name, quiet=True)


def _rows(result) -> list[dict]:
    return [dataclasses.asdict(r) for r in worst_first(result.rows)]


def _cli(*args: str, cache: Path, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DOCKER_CONFIG": str(cache.parent / "no-docker-config"),
           **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "inspector", *args, "--cache-dir", str(cache)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)


def _distributed():
    """Dask distributed (``make venv`` installs it); skips without it, except under CI."""
    try:
        import distributed
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("dask distributed is required under CI=true ('inspector[cluster]')")
        pytest.skip("dask distributed is not installed")
    return distributed


@pytest.fixture(scope="module")
def inline_result(fleet, tmp_path_factory):
    cache = tmp_path_factory.mktemp("inline")
    return audit(fleet.references, Options(cache_dir=cache, quiet=True), engine="inline"), cache


def test_each_shared_layer_is_indexed_once(fleet, inline_result):
    result, cache = inline_result
    assert result.failed == 0
    assert result.layer_tasks == fleet.distinct_layers
    assert result.plan.layer_references == fleet.layer_references
    assert result.layer_tasks < result.plan.layer_references  # the bases are shared
    assert result.layers_indexed == fleet.distinct_layers  # a cold cache: all read once
    indexes = [p for p in (cache / "index").rglob("*") if p.is_file()
               and not p.name.startswith(".")]
    assert len(indexes) == fleet.distinct_layers
    assert result.bytes_saved > 0


def test_blobs_are_downloaded_once(fleet, fleet_proxy, tmp_path):
    refs = [r.replace(fleet.host, fleet_proxy.host) for r in fleet.references]
    result = audit(refs, _options(tmp_path), engine="inline")
    assert result.failed == 0
    digests = {}
    for r in fleet_proxy.requests_to("/blobs/sha256:"):
        digests[r["path"].rsplit("/", 1)[-1]] = digests.get(r["path"].rsplit("/", 1)[-1], 0) + 1
    layer_blobs = {la.digest for p in result.plan.images for la in p.layers}
    assert layer_blobs <= set(digests)
    assert {d: digests[d] for d in layer_blobs} == {d: 1 for d in layer_blobs}


def test_rows_equal_inspector_export(fleet, inline_result, tmp_path):
    result, cache = inline_result
    by_ref = {r.reference: r for r in result.rows}
    for ref in fleet.references:
        done = _cli("export", ref, "-q", cache=tmp_path / "export-cache")
        assert done.returncode == 0, done.stderr
        doc = json.loads(done.stdout)
        row = by_ref[ref]
        assert row.digest == doc["manifest_digest"]
        assert row.compressed == doc["size"]["compressed"]
        assert row.file_bytes == doc["size"]["files"]
        assert row.packages == len(doc["packages"])
        assert row.setuid == len(doc["findings"]["setuid"])
        assert row.efficiency == doc["efficiency"]["score"]
        assert row.layers == len(doc["layers"])
        for name in WATCHED:
            assert getattr(row, name) == doc["categories"].get(name, {}).get("files", 0), name
        assert row.files == sum(1 for f in doc["files"] if f["type"] != "dir")


def test_the_full_base_ships_a_shell_and_the_slim_one_does_not(fleet, inline_result):
    result, _ = inline_result
    for row in result.rows:
        assert bool(row.shell) == (row.reference in fleet.on_full), row.reference
    ranked = worst_first(result.rows)
    assert all(r.reference in fleet.on_full for r in ranked[: len(fleet.on_full)])


def test_shared_layers_counted_per_image(fleet, inline_result):
    result, _ = inline_result
    users: dict[str, int] = {}
    for ids in fleet.diff_ids.values():
        for d in set(ids):
            users[d] = users.get(d, 0) + 1
    for row in result.rows:
        expected = sum(1 for d in fleet.diff_ids[row.reference] if users[d] > 1)
        assert row.shared_layers == expected


def test_local_pool_gives_the_same_rows(fleet, inline_result, tmp_path):
    result = audit(fleet.references, _options(tmp_path), engine="local", workers=2)
    assert _rows(result) == _rows(inline_result[0])
    assert result.layers_indexed == fleet.distinct_layers


def test_dask_cluster_gives_the_same_rows(fleet, inline_result, tmp_path):
    distributed = _distributed()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        result = audit(fleet.references, _options(tmp_path), engine="dask",
                       scheduler=cluster.scheduler_address)
    assert _rows(result) == _rows(inline_result[0])
    assert result.layer_tasks == fleet.distinct_layers


def test_dask_survives_a_worker_killed_mid_audit(fleet, inline_result, tmp_path):
    distributed = _distributed()
    import cloudpickle

    from tests.audit import plugins

    cloudpickle.register_pickle_by_value(plugins)
    marker = tmp_path / "killed"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        client.register_plugin(plugins.KillOnFirstLayerTask(str(marker)))
        result = audit(fleet.references, _options(tmp_path), engine="dask",
                       scheduler=cluster.scheduler_address)
    assert marker.exists()  # a worker did die in a layer task
    assert _rows(result) == _rows(inline_result[0])


def test_an_image_that_fails_has_its_row_and_the_rest_complete(fleet, tmp_path):
    missing = f"{fleet.host}/fleet/app00:no-such-tag"
    listed = tmp_path / "images.txt"
    listed.write_text("# the fleet, and one that is not there\n"
                      + "\n".join(fleet.references[:3]) + f"\n{missing}  # gone\n\n")
    done = _cli("audit", "--from", str(listed), "--format", "json", "--workers", "1",
                cache=tmp_path / "cache")
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    rows = {r["reference"]: r for r in doc["images"]}
    assert set(rows) == {*fleet.references[:3], missing}
    assert "no-such-tag" in rows[missing]["error"]
    assert all(rows[r]["error"] is None and rows[r]["digest"] for r in fleet.references[:3])
    assert doc["images"][0]["reference"] == missing  # failures first
    assert "Traceback" not in done.stderr


def test_catalog_lists_every_repository_over_pages(fleet, fleet_proxy, tmp_path, monkeypatch):
    monkeypatch.setattr(inputs_mod, "PAGE_SIZE", 3)
    listing = inputs_mod.list_catalog(f"{fleet_proxy.host}/fleet", _options(tmp_path))
    assert listing.references == [r.replace(fleet.host, fleet_proxy.host)
                                  for r in fleet.references]
    pages = fleet_proxy.requests_to("/v2/_catalog")
    assert len(pages) >= len(fleet.names) // 3  # followed the Link headers


TAGS = [
    ("latest", {"latest"}),
    ("all", {"latest", "v1"}),
    ("v*", {"v1"}),
    ("nope", set()),
]


@pytest.mark.parametrize("pattern, expected", TAGS, ids=[t[0] for t in TAGS])
def test_catalog_tags_filter(fleet, tmp_path, pattern, expected):
    listing = inputs_mod.list_catalog(f"{fleet.host}/fleet/app00", _options(tmp_path), pattern)
    assert {r.rsplit(":", 1)[1] for r in listing.references} == expected
    assert listing.without_tags == ([] if expected else ["fleet/app00"])


def test_catalog_cli_text_report(fleet, tmp_path):
    done = _cli("audit", "--catalog", f"{fleet.host}/fleet", "--workers", "2",
                cache=tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[0] == "image"
    assert sum(1 for line in lines if "/fleet/app" in line) == len(fleet.names)
    summary = next(line for line in lines if line.startswith("layers:"))
    assert f"{fleet.distinct_layers} layer tasks for {fleet.layer_references}" in summary


def test_catalog_refused_says_so(tmp_path):
    from tests.registry.servers import RegistryProcess, make_htpasswd

    work = tmp_path / "locked"
    work.mkdir()
    htpasswd = make_htpasswd(work / "htpasswd", {"alice": "secret"})
    reg = RegistryProcess(work, tmp_path / "storage",
                          auth={"htpasswd": {"realm": "test", "path": str(htpasswd)}})
    try:
        done = _cli("audit", "--catalog", reg.host, cache=tmp_path / "cache")
    finally:
        reg.stop()
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "refuses to list its repositories" in lines[0], done.stderr


BAD_LISTS = [  # (name, text, message, exit code: 2 for a list file that cannot be read)
    ("empty", "# nothing here\n\n", "nothing to audit", 1),
    ("missing-file", None, "cannot read the image list", 2),
]


@pytest.mark.parametrize("name, text, message, code", BAD_LISTS, ids=[b[0] for b in BAD_LISTS])
def test_bad_image_lists(tmp_path, name, text, message, code):
    path = tmp_path / "list.txt"
    if text is not None:
        path.write_text(text)
    done = _cli("audit", "--from", str(path), cache=tmp_path / "cache")
    assert done.returncode == code
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1


READ_LIST = [
    ("comments-and-blanks", "a\n# b\n\n  c  # trailing\n", ["a", "c"]),
    ("crlf", "a\r\nb\r\n", ["a", "b"]),
    ("only-comments", "#x\n#y\n", []),
    # a line per "\n" only: U+2028, "\x0b", "\x1c", "\x85" stay inside the reference
    ("line-separator-inside", "oci:/d/one\u2028two:x\n", ["oci:/d/one\u2028two:x"]),
    ("file-separator-inside", "a\x1cb\nc\x85d\n", ["a\x1cb", "c\x85d"]),
]


@pytest.mark.parametrize("name, text, expected", READ_LIST, ids=[r[0] for r in READ_LIST])
def test_read_list(tmp_path, name, text, expected):
    path = tmp_path / "l.txt"
    path.write_bytes(text.encode())
    assert inputs_mod.read_list(str(path)) == expected


def test_formats_render_the_same_rows(inline_result):
    result, _ = inline_result
    text = render(result, "text")
    md = render(result, "markdown")
    csv_text = render(result, "csv")
    doc = json.loads(render(result, "json"))
    refs = [r["reference"] for r in doc["images"]]
    assert len(refs) == len(result.rows)
    assert csv_text.splitlines()[0].startswith("reference,digest,")
    assert [line.split(",")[0] for line in csv_text.splitlines()[1:]] == refs
    md_refs = [line.split("|")[1].strip() for line in md.splitlines()[2:] if line.startswith("| ")]
    assert md_refs == refs
    assert [line.split()[0] for line in text.splitlines()[1:len(refs) + 1]] == refs


def test_audit_of_samples_matches_their_sharing(tmp_path):
    refs = ["sample:distroless-static", "sample:distroless-base", "sample:distroless-cc"]
    result = audit(refs, _options(tmp_path), engine="inline")
    assert result.failed == 0
    distinct = {la.diff_id for p in result.plan.images for la in p.layers}
    assert result.layer_tasks == len(distinct) < result.plan.layer_references
    with pytest.raises(InspectorError):
        inputs_mod.read_list(str(tmp_path / "absent"))


def test_rows_say_which_check_rules_fail(fleet, inline_result, tmp_path):
    result, _ = inline_result
    for row in result.rows:
        assert ("forbid_categories" in row.rules_failed) == (row.reference in fleet.on_full)
    for ref in (fleet.references[0], fleet.references[-1]):  # one per base
        done = _cli("check", ref, "--format", "json", "-q", cache=tmp_path / "cache")
        verdicts = json.loads(done.stdout)["images"][0]["verdicts"]
        failed = [v["rule"] for v in verdicts if v["status"] == "fail"]
        assert next(r for r in result.rows if r.reference == ref).rules_failed == failed


def test_a_bad_rules_file_is_a_usage_error(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text("forbid_categories = 3\n")
    done = _cli("audit", "sample:distroless-static", "--rules", str(rules),
                cache=tmp_path / "cache")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "forbid_categories" in lines[0], done.stderr


FITS = [
    ("sample:hello-debian", "distroless-static"),  # a static Go binary
    ("sample:hello-c-debian", "distroless-base"),  # glibc
    ("sample:hello-cpp-debian", "distroless-cc"),  # libstdc++
]


def test_fit_column_names_the_smallest_base(tmp_path):
    refs = [ref for ref, _ in FITS] + ["sample:distroless-static"]
    result = audit(refs, _options(tmp_path), engine="inline", fit=True)
    fits = {r.reference: r.fit for r in result.rows}
    assert {ref: fits[ref] for ref, _ in FITS} == dict(FITS)
    assert fits["sample:distroless-static"].startswith("n/a: ")  # no entrypoint to fit
    assert "fit" in render(result, "text").splitlines()[0].split()
    plain = audit(refs[:1], _options(tmp_path), engine="inline")
    assert plain.rows[0].fit is None and "fit" not in render(plain, "text").splitlines()[0]


def test_report_never_overwrites_an_input(tmp_path):
    from tests.builders import ImageSpec, make_layer, write_oci_layout

    write_oci_layout(tmp_path / "oci", [ImageSpec([make_layer({"a": b"1"})], ref_name="t")])
    index = tmp_path / "oci" / "index.json"
    before = index.read_bytes()
    done = _cli("audit", f"oci:{tmp_path / 'oci'}:t", "-o", str(index), cache=tmp_path / "c")
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert index.read_bytes() == before
    out = tmp_path / "report.csv"
    done = _cli("audit", f"oci:{tmp_path / 'oci'}:t", "-o", str(out), "--format", "csv",
                "--workers", "1", cache=tmp_path / "c")
    assert done.returncode == 0, done.stderr
    assert out.read_text().splitlines()[1].startswith(f"oci:{tmp_path / 'oci'}:t,sha256:")
