"""Issue 26 in the TUI: ``--vulns`` reports laid over the compare Overview (a row of counts
by severity with the scanner beside them, the pair's "drops N of M"), Enter → the packages
with findings → a package's files; the Packages tab's vulns column; a report of another
image refused in one line before the TUI starts. Counts are recounted from the fixtures'
JSON here, not taken from the overlay."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from textual.widgets import DataTable, TabbedContent

from inspector.cli import main
from inspector.tui.app import InspectorApp
from inspector.tui.scan import ScanInput
from inspector.tui.widgets.columns import Column
from inspector.tui.widgets.tabs import PackagesPane
from inspector.vulns import SEVERITIES, load_report
from tests.tui.helpers import settle, sync

FIXTURES = Path(__file__).parents[1] / "vulns" / "fixtures"
SIZES = [(80, 24), (160, 48)]
PAIR = ["sample:debian-12-slim", "sample:distroless-static"]
FILES = {"sample:debian-12-slim": FIXTURES / "grype-debian-12-slim.json",
         "sample:distroless-static": FIXTURES / "grype-distroless-static.json"}


def size_id(size):
    return f"{size[0]}x{size[1]}"


def grype_matches(ref: str) -> list[dict]:
    return json.loads(FILES[ref].read_text())["matches"]


def expected_cell(ref: str) -> str:
    """``17: 1 critical, 3 high, …``: the fixture's matches counted by severity."""
    matches = grype_matches(ref)
    by = Counter(m["vulnerability"]["severity"].lower() for m in matches)
    shown = ", ".join(f"{by[s]} {s}" for s in SEVERITIES if by[s])
    return f"{len(matches)}" + (f": {shown}" if shown else "")


def scan() -> ScanInput:
    return ScanInput({ref: load_report(str(path)) for ref, path in FILES.items()})


def row(app, key: str) -> list[str]:
    return [str(c) for c in app.screen.query_one("#overview", DataTable).get_row(key)]


async def enter_row(pilot, key: str) -> None:
    table = pilot.app.screen.query_one("#overview", DataTable)
    table.focus()
    table.move_cursor(row=table.get_row_index(key))
    await pilot.pause()
    await pilot.press("enter")
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES, ids=size_id)
@sync
async def test_overview_row_counts_scanner_and_pair(options, size):
    app = InspectorApp(PAIR, options, scan=scan())
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        cells = row(app, "vulns")
        assert cells[0] == "vulnerabilities"
        shown = cells[1].removesuffix(" ⏎")
        assert cells[1].endswith(" ⏎")  # Enter lists the packages
        if size[0] >= 160:
            assert shown == expected_cell(PAIR[0])
        else:  # cut to the column, the worst severities first
            assert shown.endswith("…") and "critical" in shown
            assert expected_cell(PAIR[0]).startswith(shown.removesuffix("…"))
        assert cells[2] == expected_cell(PAIR[1]) == "0"
        scanner = json.loads(FILES[PAIR[0]].read_text())["descriptor"]
        assert row(app, "scanner")[1].startswith(f"{scanner['name']} {scanner['version']}")
        assert "database" in row(app, "scanner")[1]
        total = len(grype_matches(PAIR[0]))
        assert row(app, "vdrop:1")[2].startswith(f"drops {total} of {total}, adds 0")
        verdict = str(app.screen.query_one("#verdict").render())
        assert f"distroless-static drops {total} of {total} vulnerabilities" in verdict


@pytest.mark.parametrize("size", SIZES, ids=size_id)
@sync
async def test_enter_lists_packages_with_findings_then_their_files(options, size):
    app = InspectorApp(PAIR, options, scan=scan())
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await enter_row(pilot, "vulns")
        assert app.screen.query_one(TabbedContent).active == "tab-packages"
        table = app.screen.query_one("#packages-diff", DataTable)
        per = Counter(m["artifact"]["name"] for m in grype_matches(PAIR[0]))
        vulns_col = [str(c.label) for c in table.columns.values()].index("vulns")
        shown = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[vulns_col])
                 for i in range(table.row_count)}
        assert shown == {name: f"{n} · 0" for name, n in per.items()}
        first = str(table.get_row_at(0)[0])
        assert per[first] == max(per.values())  # most findings first
        table.focus()
        table.move_cursor(row=0)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one(TabbedContent).active == "tab-files"
        leader = app.screen.query_one("#files-0", Column)
        assert leader.filter_text == f"package:{first}"
        assert leader.model is not None and leader.model.rows


@sync
async def test_packages_column_blank_without_reports(options):
    app = InspectorApp(PAIR, options)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        app.screen.query_one(TabbedContent).active = "tab-packages"
        await settle(pilot)
        table = app.screen.query_one("#packages-diff", DataTable)
        assert table.row_count
        assert "vulns" not in [str(c.label) for c in table.columns.values()]
        assert "vulns" not in [str(k.value) for k in app.screen.query_one(
            "#overview", DataTable).rows]


MISMATCHED = [
    ("another image's report", ["sample:distroless-static", "sample:debian-12-slim"],
     "report is of another image"),
    ("one report for two images", ["sample:debian-12-slim"], "--vulns given 1 time(s)"),
]


@pytest.mark.parametrize(("name", "images", "expected"), MISMATCHED, ids=[m[0] for m in MISMATCHED])
def test_mismatched_report_is_one_line_exit_2(capsys, cache_dir, name, images, expected):
    argv = [*images[:2], *PAIR[len(images):], "--cache-dir", str(cache_dir)] \
        if len(images) == 2 else [*PAIR, "--cache-dir", str(cache_dir)]
    vulns = [FILES[PAIR[0]], FILES[PAIR[1]]][:len(images)]
    code = main([*argv, *(a for p in vulns for a in ("--vulns", str(p)))])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and expected in err and "Traceback" not in err


@pytest.mark.parametrize("size", SIZES, ids=size_id)
@sync
async def test_inspect_packages_column_and_scanner_line(options, size):
    ref = PAIR[0]
    app = InspectorApp([ref], options, scan=ScanInput({ref: load_report(str(FILES[ref]))}))
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        app.screen.query_one(TabbedContent).active = "tab-packages"
        await settle(pilot)
        table = app.screen.query_one("#packages-table", DataTable)
        app.screen.query_one(PackagesPane).sort_column = "vulns"
        app.screen.query_one(PackagesPane).fill("")
        names = [str(c.label) for c in table.columns.values()]
        col = names.index("vulns")
        shown = {str(table.get_row_at(i)[1]): str(table.get_row_at(i)[col])
                 for i in range(table.row_count)}
        per = Counter(m["artifact"]["name"] for m in grype_matches(ref))
        assert {name: n for name, n in shown.items() if n} == {k: str(v) for k, v in per.items()}
        assert "" in shown.values()  # a package without findings: blank
        assert str(table.get_row_at(0)[1]) == per.most_common(1)[0][0]  # sorted by vulns
        head = str(app.screen.query_one("#packages-vulns").render())
        scanner = json.loads(FILES[ref].read_text())["descriptor"]
        assert expected_cell(ref) in head and f"{scanner['name']} {scanner['version']}" in head


@pytest.mark.parametrize("size", SIZES, ids=size_id)
@sync
async def test_base_and_own_rows(options, size):
    """hello-debian is debian-12-slim plus one layer (/app/hello, a static Go binary): its
    base is that sample, and what it adds on top is that binary and its Go modules."""
    from inspector.provenance import own_paths

    pair = ["sample:hello-debian", "sample:hello-distroless"]
    app = InspectorApp(pair, options)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        base = row(app, "base")
        assert base[1].startswith("sample:debian-12-slim") or base[1].startswith("debian-12-slim")
        assert base[2].startswith("sample:distroless-static") or \
            base[2].startswith("distroless-static")
        analysis = app.analyses[pair[0]]
        n = len(analysis.layers) - 1  # the base: all but the app's layer
        assert row(app, "base_layers")[1].startswith(f"{n} of {n + 1} · ")
        own = row(app, "own")[1]
        files = [p for p in own_paths(analysis.fs, n) if analysis.fs.kind_name(p) != "dir"]
        pkgs = [p for p in analysis.catalog.packages if p.layer is not None and p.layer >= n]
        assert pkgs and all(p.type != "deb" for p in pkgs)  # the Go binary's modules
        assert own.startswith(f"{len(files):,} files") and own.endswith(f" {len(pkgs)} pkgs")


@sync
async def test_base_image_flag_names_the_base(options):
    """``--base-image REF`` (``ScanInput.base_image``) is every image's base; one it does
    not start is said in a toast, the rows stay."""
    pair = ["sample:hello-distroless", "sample:debian-12-slim"]
    app = InspectorApp(pair, options, scan=ScanInput(base_image="sample:distroless-static"))
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert row(app, "base")[1] == "sample:distroless-static"
        assert row(app, "base_layers")[1].endswith("· --base-image")
        assert row(app, "base")[2] == "none found"  # debian-12-slim does not start with it
        assert any("not a base of sample:debian-12-slim" in str(n.message)
                   for n in app._notifications)


def footer_keys(app) -> dict[str, str]:
    """The footer's keys as drawn: description → key."""
    from textual.widgets._footer import FooterKey

    return {k.description: k.key_display for k in app.screen.query(FooterKey)}


@pytest.mark.parametrize("size", SIZES, ids=size_id)
@sync
async def test_escape_lists_every_package_again(options, size):
    """After Enter on the vulnerabilities row the Packages tab lists only the packages with
    findings; the footer offers Esc, which lists every package again (the tab stayed
    filtered with no key back)."""
    from inspector.tui.overview import package_rows

    app = InspectorApp(PAIR, options, scan=scan())
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await enter_row(pilot, "vulns")
        table = app.screen.query_one("#packages-diff", DataTable)
        view = app.screen.query_one("CompareView")
        every = len(package_rows(view.result, view.vulns))
        vulnerable = len({m["artifact"]["name"] for m in grype_matches(PAIR[0])})
        assert table.row_count == vulnerable < every
        assert footer_keys(app).get("Every package") == "esc"
        note = app.screen.query_one("#packages-note")
        assert note.display and "Esc" in str(note.render())
        await pilot.press("escape")
        await settle(pilot)
        assert table.row_count == every
        assert not note.display and "Every package" not in footer_keys(app)
        assert app.screen.query_one(TabbedContent).active == "tab-packages"
        await pilot.press("1", "2")  # the Overview and back: still every package
        await settle(pilot)
        assert table.row_count == every


ADDED = [
    # (name, reference added with a, its vulnerabilities cell, its scanned-by cell starts)
    ("the same image by another name", "oci:{samples}:distroless-static",
     lambda: expected_cell(PAIR[1]), "grype"),
    ("an image no report names", "sample:hello-distroless",
     lambda: "no report", "no --vulns report names it"),
]


@pytest.mark.parametrize(("name", "ref", "counts", "scanner"), ADDED, ids=[a[0] for a in ADDED])
@sync
async def test_image_added_with_a_gets_the_report_that_names_it(options, name, ref, counts,
                                                                 scanner):
    """``a`` adds an image after start: a ``--vulns`` report that names its layers is laid
    over it; without one the row says no report names it."""
    from inspector.sources.samples import layout_dir

    ref = ref.format(samples=layout_dir())
    app = InspectorApp(PAIR, options, scan=scan())
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await pilot.press("a", *ref, "enter")
        await settle(pilot)
        assert len(row(app, "vulns")) == 4, "the image was not added"
        assert row(app, "vulns")[3] == counts()
        assert row(app, "scanner")[3].startswith(scanner)
        assert row(app, "vulns")[1].removesuffix(" ⏎") == expected_cell(PAIR[0])
