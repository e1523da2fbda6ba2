"""Reports: labels, human sizes, bars, the inspector.compare/v1 JSON shape, text
alignment and colour, --files ordering."""

from __future__ import annotations

import json

import pytest

from inspector.compare import compare_references
from inspector.compare.labels import labels_for
from inspector.report.compare import render
from inspector.report.markdown import code
from inspector.report.sizes import bar, human
from tests.compare.helpers import Entry, layer, layout

LABELS = [
    ("sample name", ["sample:debian-12-slim", "sample:distroless-static"],
     ["debian-12-slim", "distroless-static"]),
    ("registry repo:tag", ["docker.io/library/debian:12-slim", "gcr.io/distroless/static-debian12"],
     ["debian:12-slim", "static-debian12"]),
    ("digest shortened", ["gcr.io/distroless/base@sha256:" + "ab" * 32, "docker://debian:12"],
     ["base@" + "ab" * 6, "debian:12"]),
    ("paths", ["oci:/tmp/build/app:v1", "docker-archive:/srv/img.tar", "/srv/layout/"],
     ["app:v1", "img.tar", "layout"]),
    ("same last component: more path", ["oci:/a/x/app", "oci:/b/y/app"], ["x/app", "y/app"]),
    ("only one side can grow", ["oci:/a/app", "app"], ["a/app", "app"]),
    ("the same reference twice", ["sample:hello-debian", "sample:hello-debian"],
     ["hello-debian#1", "hello-debian#2"]),
]


@pytest.mark.parametrize(("name", "refs", "expected"), LABELS, ids=[c[0] for c in LABELS])
def test_labels(name, refs, expected):
    assert labels_for(refs) == expected


SIZES = [(0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (1_400_000, "1.4 MB"),
         (999_949, "999.9 kB"), (999_950, "1.0 MB"), (77_895_680, "77.9 MB"),
         (3_200_000_000, "3.2 GB")]


@pytest.mark.parametrize(("n", "expected"), SIZES, ids=[s[1] for s in SIZES])
def test_human(n, expected):
    assert human(n) == expected


BARS = [("zero", 0, 100, ""), ("full", 100, 100, "█" * 20), ("half", 50, 100, "█" * 10),
        ("tiny stays visible", 1, 10**9, "▏"), ("eighths", 3, 80, "▊"),
        ("no scale", 5, 0, "")]


@pytest.mark.parametrize(("name", "value", "scale", "expected"), BARS, ids=[b[0] for b in BARS])
def test_bar(name, value, scale, expected):
    assert bar(value, scale) == expected


def test_code_span_escapes():
    assert code("/a|b") == "`/a\\|b`"
    assert code("/we`ird") == "`` /we`ird ``"


@pytest.fixture
def result(tmp_path, options):
    refs = layout(tmp_path / "oci", {
        "debian": [layer({"bin/bash": Entry("file", b"b" * 3000, mode=0o755),
                          "usr/bin/su": Entry("file", b"s" * 50, mode=0o4755),
                          "etc/os-release": b"12\n", "etc/a|b": b"pipe"})],
        "distroless": [layer({"etc/os-release": b"12.5\n", "app": b"a" * 20})]})
    return compare_references([refs["debian"], refs["distroless"]], options)


def test_json_has_the_contract_shape(result):
    doc = json.loads(render(result, "json"))
    assert doc["schema"] == "inspector.compare/v1"
    assert list(doc)[:1] == ["schema"]
    assert {"images", "categories", "packages", "files", "shared_layers"} <= set(doc)
    for image in doc["images"]:
        assert {"reference", "manifest_digest", "platform", "compressed_size",
                "uncompressed_size", "files", "packages"} <= set(image)
        assert all(isinstance(image[k], int) for k in
                   ("compressed_size", "uncompressed_size", "files", "packages"))
    for row in doc["categories"]:
        assert set(row) >= {"name", "per_image"}
        assert [set(c) >= {"files", "bytes", "paths"} for c in row["per_image"]] == [True, True]
    assert set(doc["packages"]) >= {"only_in", "version_changed", "common"}
    assert doc["files"]["only_in"] == [3, 1]
    assert (doc["files"]["changed"], doc["files"]["common"]) == (1, 0)
    assert doc["images"][0]["reference"].endswith(":debian")
    assert doc["shared_layers"] == []
    assert "only_in_paths" not in doc["files"]


@pytest.mark.parametrize(("sort", "expected"), [
    ("size", ["/bin/bash", "/usr/bin/su", "/etc/a|b"]),
    ("path", ["/bin/bash", "/etc/a|b", "/usr/bin/su"]),
])
def test_files_lists_sorted(result, sort, expected):
    doc = json.loads(render(result, "json", files=True, sort=sort))
    assert [f["path"] for f in doc["files"]["only_in_paths"][0]] == expected
    su = next(f for f in doc["files"]["only_in_paths"][0] if f["path"] == "/usr/bin/su")
    assert su == {"path": "/usr/bin/su", "type": "file", "size": 50, "mode": "4755",
                  "target": None}
    (changed,) = doc["files"]["changed_paths"]
    assert changed["reasons"] == ["size"]
    lines = render(result, "text", files=True, sort=sort).splitlines()
    positions = [next(i for i, line in enumerate(lines) if line.split()[:1] == [p])
                 for p in expected]
    assert positions == sorted(positions)


def test_text_colour_only_when_asked(result):
    assert "\x1b[" not in render(result, "text")
    assert "\x1b[" not in render(result, "markdown")
    coloured = render(result, "text", color=True)
    assert "\x1b[1m" in coloured
    strip = coloured
    for code_ in ("\x1b[0m", "\x1b[1m", "\x1b[2m", "\x1b[36m", "\x1b[35m"):
        strip = strip.replace(code_, "")
    assert strip == render(result, "text")


def test_text_columns_align(result):
    lines = render(result, "text").splitlines()
    start = lines.index("SIZES")
    table = lines[start + 1:lines.index("", start)]
    assert len({len(line) for line in table}) == 1, table  # right-aligned numbers
    cat = lines.index("CATEGORIES  (files, bytes)")
    head, *rows = lines[cat + 1:lines.index("", cat)]
    assert [r.split()[0] for r in rows][:3] == ["shell", "package_manager", "package_database"]
    for label in ("oci:debian", "oci:distroless"):
        edge = head.index(label) + len(label)  # the files column ends under its label
        for row in rows:
            assert row[edge - 1] != " " and row[edge:edge + 1] in (" ", ""), (label, row)


def test_markdown_escapes_paths(result):
    md = render(result, "markdown", files=True, sort="path")
    assert "`/etc/a\\|b`" in md
    assert md.startswith("# debian vs distroless\n") or md.startswith("# oci:debian vs oci:distroless\n")


def test_unknown_format_or_sort(result):
    with pytest.raises(ValueError):
        render(result, "yaml")
    with pytest.raises(ValueError):
        render(result, "text", sort="mtime")


def test_labels_same_reference_twice_beside_a_namesake():
    assert labels_for(["oci:/a/app", "oci:/a/app", "oci:/b/app"]) == ["a/app#1", "a/app#2", "b/app"]


def test_text_and_markdown_format_the_same_rows(result):
    """One report model: every cell of every section reaches both formats."""
    from inspector.report.sections import Items, ListCell, Table, sections

    text = render(result, "text", files=True)
    md = render(result, "markdown", files=True)
    spans = []
    for section in sections(result, files=True):
        assert section.title in md and (section.title.upper() in text or section.title in text)
        for block in section.blocks:
            cells = ([cell for row in block.rows for cell in row] if isinstance(block, Table)
                     else [block.lead, *block.words] if isinstance(block, Items) else [])
            for cell in cells:
                if isinstance(cell, ListCell):
                    spans += cell.items
                else:
                    spans += [span.text for span in cell if span.text.strip()]
    assert len(spans) > 50
    assert [s for s in spans if s not in text] == []
    assert [s for s in spans if s.replace("|", "\\|") not in md] == []
