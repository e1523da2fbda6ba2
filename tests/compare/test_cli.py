"""``inspector compare`` end to end: exit codes, -o FILE, --format json, failures as one
line on stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.cli import main
from tests.compare.helpers import Entry, layer, layout

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def refs(tmp_path):
    return layout(tmp_path / "oci", {
        "slim": [layer({"bin/sh": Entry("file", b"#!sh", mode=0o755), "etc/x": b"1"})],
        "static": [layer({"etc/x": b"1", "app": b"app"})]})


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "inspector", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_compare_formats_exit_0(refs, tmp_path, capsys, fmt):
    code = main(["compare", refs["slim"], refs["static"], "--format", fmt, "-q",
                 "--cache-dir", str(tmp_path / "cache")])
    out = capsys.readouterr().out
    assert code == 0
    assert "oci:slim" in out and "oci:static" in out
    assert "\x1b[" not in out  # captured stdout is not a terminal


def test_json_to_file(refs, tmp_path, capsys):
    target = tmp_path / "compare.json"
    code = main(["compare", refs["slim"], refs["static"], "--format", "json", "-o", str(target),
                 "--files", "--sort", "path", "-q", "--cache-dir", str(tmp_path / "cache")])
    assert code == 0
    assert capsys.readouterr().out == ""
    doc = json.loads(target.read_text())
    assert doc["schema"] == "inspector.compare/v1"
    assert doc["files"]["only_in"] == [1, 1]
    assert [f["path"] for f in doc["files"]["only_in_paths"][0]] == ["/bin/sh"]


def test_three_images_json(refs, tmp_path, capsys):
    code = main(["compare", refs["slim"], refs["static"], refs["slim"], "--format", "json",
                 "-q", "--cache-dir", str(tmp_path / "cache")])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [im["label"] for im in doc["images"]] == ["oci:slim#1", "oci:static", "oci:slim#3"]
    assert doc["shared_layers"][0]["images"] == [0, 2]


def test_missing_image_one_line_no_traceback(refs, tmp_path):
    proc = _run("compare", refs["slim"], f"oci:{tmp_path}/absent:x", "--cache-dir",
                str(tmp_path / "cache"))
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("inspector: "), proc.stderr
    assert "Traceback" not in proc.stderr


def test_one_image_is_a_usage_failure(refs, tmp_path, capsys):
    assert main(["compare", refs["slim"], "-q", "--cache-dir", str(tmp_path / "c")]) == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_samples_text_subprocess(tmp_path):
    proc = _run("compare", "sample:distroless-static", "sample:debian-12-slim", "-q",
                "--cache-dir", str(tmp_path / "cache"))
    assert proc.returncode == 0, proc.stderr
    assert "distroless-static vs debian-12-slim" in proc.stdout
    assert "shell: distroless-static none — debian-12-slim" in proc.stdout
