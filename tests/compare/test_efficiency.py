"""Efficiency side by side in compare: dive's score and wasted bytes, the reclaimable bytes
and the inefficient files (path, copies, layers, wasted bytes) in JSON (layers 0-based,
as indexes into ``layers``), text and markdown (layers 1..N)."""

from __future__ import annotations

import json

import pytest

from inspector.compare import compare_references
from inspector.report.compare import render
from inspector.report.sections import INEFFICIENT_ROWS
from tests.compare.helpers import layer, layout

CONF_A, CONF_B = b"a" * 2000, b"b" * 5000


@pytest.fixture
def result(tmp_path, options):
    refs = layout(tmp_path / "oci", {
        "rewrites": [layer({"etc/app.conf": CONF_A, "etc/keep": b"k"}), layer({"x": b"x"}),
                     layer({"etc/app.conf": CONF_B})],
        "clean": [layer({"etc/app.conf": CONF_B, "etc/keep": b"k"})],
        "many": [layer({f"f{i:02}": b"1" for i in range(INEFFICIENT_ROWS + 2)}),
                 layer({f"f{i:02}": b"22" for i in range(INEFFICIENT_ROWS + 2)})]})
    return compare_references([refs["rewrites"], refs["clean"], refs["many"]], options)


def test_json_lists_inefficient_files_per_image(result):
    doc = json.loads(render(result, "json"))
    rewrites, clean, many = (im["efficiency"] for im in doc["images"])
    assert rewrites["inefficient_files"] == [
        {"path": "/etc/app.conf", "copies": 2, "layers": [0, 2],
         "wasted_bytes": len(CONF_A) + len(CONF_B)}]
    assert rewrites["wasted_bytes"] == len(CONF_A) + len(CONF_B)
    assert rewrites["reclaimable_bytes"] == len(CONF_A)
    assert (clean["score"], clean["inefficient_count"], clean["inefficient_files"]) == (1.0, 0, [])
    assert many["inefficient_count"] == len(many["inefficient_files"]) == INEFFICIENT_ROWS + 2


def test_text_and_markdown_show_efficiency_side_by_side(result):
    text = render(result, "text")
    lines = text.splitlines()
    start = lines.index("EFFICIENCY  (dive's score and wasted bytes; what a squash reclaims)")
    head, score, wasted, reclaimable, count = lines[start + 1:start + 6]
    assert head.split() == ["oci:rewrites", "oci:clean", "oci:many"]
    # dive: Σ smallest copy / Σ every copy, over every path
    assert score.split()[1:] == [f"{100 * (2000 + 1 + 1) / (7000 + 1 + 1):.1f}", "%", "100.0", "%",
                                 f"{100 * 12 / 36:.1f}", "%"]
    assert count.split()[2:] == ["1", "0", str(INEFFICIENT_ROWS + 2)]
    assert "/etc/app.conf       2  1, 3    7.0 kB" in text  # layers 1..N in reports
    md = render(result, "markdown")
    assert "| `/etc/app.conf` | 2 | 1, 3 | 7.0 kB |" in md
    assert "### Inefficient files in oci:clean" not in md
    efficiency = md[md.index("## Efficiency"):md.index("## Findings")]
    assert efficiency.count("| `/f") == INEFFICIENT_ROWS and "… and 2 more" in efficiency
    md = render(result, "markdown", files=True)  # every kept path
    assert md[md.index("## Efficiency"):].count("| `/f") == INEFFICIENT_ROWS + 2
