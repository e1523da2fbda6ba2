"""``--format html`` (issue 27) without a browser: the embedded documents are the JSON
formats' output (re-parsed from the page, plain and gzip+base64), image strings cannot break
out of the page's script blocks or reach it unescaped, the treemap aggregates small files
and keeps every byte, and the command line is wired (tests/report/test_html_browser.py
draws the page in Chromium)."""

from __future__ import annotations

import json
import re

import pytest

from inspector.analysis import analyze
from inspector.cli import main
from inspector.options import Options
from inspector.report import html
from inspector.sources.resolve import open_image
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout
from tests.hostile.strings import HOSTILE, unsafe_in

PAIR = ["sample:debian-12-slim", "sample:distroless-static"]
BREAKOUT = "</script><script>alert(1)</script>"


def run(capsys, *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def _oci(tmp_path, name: str, files: dict) -> str:
    root = tmp_path / name
    write_oci_layout(root, [ImageSpec([make_layer(files)], ref_name="t")])
    return f"oci:{root}:t"


def _analysis(ref: str):
    return analyze(open_image(ref, Options(no_cache=True)), Options(no_cache=True))


def _nodes(node: list) -> int:
    return 1 + (sum(map(_nodes, node[2])) if isinstance(node[2], list) else 0)


def _leaves(node: list) -> list[list]:
    return [leaf for k in node[2] for leaf in _leaves(k)] if isinstance(node[2], list) else [node]


def test_compare_embeds_what_the_json_format_writes(tmp_path, capsys):
    cache = ["--cache-dir", str(tmp_path / "c"), "-q"]
    for files in ([], ["--files", "--sort", "path"]):
        expected = json.loads(run(capsys, "compare", *PAIR, "--format", "json", *files, *cache))
        page = run(capsys, "compare", *PAIR, "--format", "html", *files, *cache)
        assert html.read_embedded(page) == expected
        assert page.startswith("<!DOCTYPE html>") and page.count("<script") == 3


EXPORTS = [("detected base", ["sample:hello-distroless"]),
           ("given base", ["sample:hello-distroless", "--base-image", PAIR[1]])]


@pytest.mark.parametrize(("name", "argv"), EXPORTS, ids=[c[0] for c in EXPORTS])
def test_export_embeds_the_export_document_without_its_files(tmp_path, capsys, name, argv):
    cache = ["--cache-dir", str(tmp_path / "c"), "-q"]
    expected = json.loads(run(capsys, "export", *argv, "--format", "json", *cache))
    page = run(capsys, "export", *argv, "--format", "html", *cache)
    del expected["files"]
    assert html.read_embedded(page) == expected and "base" in expected
    view = html.read_embedded(page, html.VIEW_ID)
    assert view["labels"] == ["hello-distroless"] and view["strips"] == []


def test_a_large_document_is_stored_gzipped_and_reads_back(tmp_path, capsys, monkeypatch):
    cache = ["--cache-dir", str(tmp_path / "c"), "-q"]
    expected = json.loads(run(capsys, "compare", *PAIR, "--format", "json", *cache))
    monkeypatch.setattr(html, "INLINE_LIMIT", 1000)
    page = run(capsys, "compare", *PAIR, "--format", "html", *cache)
    assert 'data-encoding="gzip+base64"' in page
    assert html.read_embedded(page) == expected


#: (name, value, what must not appear in the script text)
SCRIPT_JSON = [
    ("script end tag", BREAKOUT, "</"),
    ("comment opener", "<!--", "<!--"),
    ("ampersand entity", "&lt;", "&"),
    ("line separator", "a\u2028b\u2029c", "\u2028"),
    ("greater-than", "a>b", ">"),
]


@pytest.mark.parametrize(("name", "value", "absent"), SCRIPT_JSON, ids=[c[0] for c in SCRIPT_JSON])
def test_script_json_is_inert_inside_a_script(name, value, absent):
    text = html.script_json({"path": value})
    assert absent not in text
    assert json.loads(text) == {"path": value}


def test_hostile_names_stay_data(tmp_path, capsys):
    names = [h.raw for h in HOSTILE if h.in_path] + [BREAKOUT.replace("/", "∕"), "x&amp;y"]
    files = {f"usr/bin/{n}": Entry("file", b"#!/bin/sh\n" + bytes(200), mode=0o755)
             for n in names}
    # the break-out as a directory chain: "/" is a separator in a tar name
    files["srv/</script><script>alert(1)</script>"] = b"payload"
    files["etc/passwd"] = b"root:x:0:0:\x1b]0;pwned\x07:/root:/bin/sh\n"
    a = _oci(tmp_path, "hostile<b>bold</b>&amp;", files)  # the label comes from here
    b = _oci(tmp_path, "plain", {"etc/hostname": b"x\n"})
    page = run(capsys, "compare", a, b, "--format", "html", "--no-cache", "-q")
    assert "<b>bold" not in page and "&lt;b&gt;bold&lt;/b&gt;&amp;amp;" in page
    # our three script blocks and nothing else; no raw control or bidi character anywhere
    assert len(re.findall(r"<script", page, re.I)) == 3
    assert len(re.findall(r"</script", page, re.I)) == 3
    assert unsafe_in(page) == []
    view = html.read_embedded(page, html.VIEW_ID)
    stripped = {row[0] for row in view["strips"][0]["rows"]}
    assert {f"/usr/bin/{n}" for n in names} <= stripped
    assert "/srv/" + BREAKOUT in _paths(view["treemaps"][0])


def _paths(node: list, prefix: str = "") -> set[str]:
    if not isinstance(node[2], list):
        return {prefix + "/" + node[0]}
    here = "" if node[0] == "/" else prefix + "/" + node[0]
    return {p for k in node[2] for p in _paths(k, here)}


#: (name, file sizes, nodes, expected leaves as (name, bytes, count))
AGGREGATION = [
    ("one big file, many small", {"a/big": 10_000, **{f"a/s{i}": 10 for i in range(50)}},
     10, [("big", 10_000, 0), ("50 small files", 500, 50)]),
    ("a directory of small files stays one rectangle",
     {"a/big": 10_000, "a/d/x": 30, "a/d/y": 20, "a/z": 5}, 10,
     [("big", 10_000, 0), ("z", 5, 0), ("d", 50, 2)]),
    ("directories are opened while the budget lasts",
     {"a/big": 10_000, "a/d/x": 3_000, "a/d/y": 20, "a/z": 5}, 10,
     [("big", 10_000, 0), ("z", 5, 0), ("x", 3_000, 0), ("y", 20, 0)]),
    ("everything shown when the threshold is 1 byte", {"a/x": 5, "b/y": 7}, 10**9,
     [("y", 7, 0), ("x", 5, 0)]),
    ("empty files are not drawn", {"a/x": 0, "a/y": 9}, 10, [("y", 9, 0)]),
    ("more directories than the budget: the largest, then one for the rest",
     {f"d{i}/f": (i + 1) * 100 for i in range(30)}, 10,
     [*((f"d{i}", (i + 1) * 100, 1) for i in range(21, 30)),
      ("21 more (21 files)", 100 * sum(range(1, 22)), 21)]),
]


@pytest.mark.parametrize(("name", "sizes", "nodes", "expected"), AGGREGATION,
                         ids=[c[0] for c in AGGREGATION])
def test_treemap_aggregates_small_files_and_keeps_every_byte(tmp_path, name, sizes, nodes,
                                                             expected):
    analysis = _analysis(_oci(tmp_path, "t", {p: bytes(n) for p, n in sizes.items()}))
    cats, pkgs = html._Names(), html._Names()
    tree = html.treemap(analysis, cats, pkgs, nodes=nodes)
    assert tree[1] == sum(sizes.values())
    assert sorted((leaf[0], leaf[1], leaf[5]) for leaf in _leaves(tree)) == sorted(expected)


def test_treemap_of_a_150k_style_directory_stays_small(tmp_path):
    files = {f"app/pkg{d}/lib/f{i}.js": bytes(d + i + 1) for d in range(60) for i in range(50)}
    analysis = _analysis(_oci(tmp_path, "many", files))
    tree = html.treemap(analysis, html._Names(), html._Names(), nodes=100)
    assert tree[1] == sum(map(len, files.values()))
    assert _nodes(tree) <= 101 and sum(leaf[1] for leaf in _leaves(tree)) == tree[1]
    app = next(k for k in tree[2] if k[0] == "app")  # the structure is kept: app/pkgN
    assert sorted(k[0] for k in app[2]) == sorted(f"pkg{d}" for d in range(60))


def test_strip_rows_put_shells_and_package_managers_first(tmp_path, capsys):
    view = html.read_embedded(run(capsys, "compare", *PAIR, "--format", "html", "--cache-dir",
                                  str(tmp_path / "c"), "-q"), html.VIEW_ID)
    cats = [row[2] for row in view["strips"][0]["rows"]]
    first = [c for c in cats if c in html.STRIP_FIRST]
    assert cats[: len(first)] == first and "shell" in first and "package_manager" in first
    assert view["strips"][0]["count"] == len(cats)


def test_footer_reproduces_the_command(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    out = tmp_path / "r.html"
    assert main(["compare", *PAIR, "--format", "html", "--sort", "path", "-o", str(out),
                 "--cache-dir", str(tmp_path / "c"), "-q"]) == 0
    page = out.read_text()
    assert "1970-01-01 00:00:00 UTC" in page
    assert f"inspector compare {PAIR[0]} {PAIR[1]} --format html --sort path " in page
    assert f" -o {out}</code>" in page


#: SOURCE_DATE_EPOCH values that are not a UNIX time: one error line, as the SBOMs say
BAD_EPOCHS = [
    ("arabic-indic digits", "\u0661\u0662"),
    ("past year 9999", "99999999999999"),
    ("negative", "-1"),
    ("float", "1.5"),
]


@pytest.mark.parametrize("value", [v for _, v in BAD_EPOCHS], ids=[n for n, _ in BAD_EPOCHS])
def test_a_bad_source_date_epoch_is_one_error_line(tmp_path, capsys, monkeypatch, value):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    code = main(["compare", *PAIR, "--format", "html", "-o", str(tmp_path / "r.html"),
                 "--cache-dir", str(tmp_path / "c"), "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and "SOURCE_DATE_EPOCH" in err[0], err
    assert "please report" not in err[0]


def test_vulnerability_counts_come_from_the_scanner_reports(tmp_path, capsys):
    from tests.vulns.conftest import fixture

    reports = ["--vulns", fixture("grype-debian-12-slim.json"),
               "--vulns", fixture("grype-distroless-static.json")]
    cache = ["--cache-dir", str(tmp_path / "c"), "-q"]
    page = run(capsys, "compare", *PAIR, "--format", "html", *reports, *cache)
    doc = html.read_embedded(page)
    section = page[page.index('<section id="vulns">'):]
    section = section[: section.index("</section>")]
    for image in doc["images"]:
        v = image["vulnerabilities"]
        cells = [v["total"], *(v[s] for s in ("critical", "high", "medium", "low"))]
        assert "".join(f'<td><span class="num">{n:,}</span></td>' for n in cells) in section
    assert html.esc(doc["pairs"][0]["vulns_sentence"]) in page
    without = run(capsys, "compare", *PAIR, "--format", "html", *cache)
    assert 'id="vulns"' not in without
