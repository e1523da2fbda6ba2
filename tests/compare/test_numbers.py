"""Numbers that add up: one hardlink rule for every byte figure (a group's bytes count once,
at its regular file: ``inspector.index.hardlinks``), and the verdict pairwise against the
first image, so a pair's figures never depend on the other images compared."""

from __future__ import annotations

import json
from itertools import permutations

import pytest

from inspector.analysis import Analysis, analyze
from inspector.compare import CompareResult, compare_analyses
from inspector.options import Options
from inspector.report.compare import render
from inspector.sources.resolve import open_image
from tests.compare.helpers import Entry, layer, layout

PERL = Entry("file", b"p" * 3000, mode=0o755)
IMAGES = {
    # perl and its versioned name are one hardlink group: 3,000 bytes, not 6,000
    "perl": [{"usr/bin/perl": PERL, "usr/bin/perl5.36.0": Entry("hardlink", target="usr/bin/perl"),
              "bin/sh": Entry("file", b"s" * 100, mode=0o755), "etc/os-release": b"12\n"}],
    "slim": [{"etc/os-release": b"12\n"}],
    "static": [{"etc/os-release": b"12\n", "app": b"a" * 20}],
    # the versioned name as a plain copy: the same path, another type
    "copy": [{"usr/bin/perl5.36.0": PERL, "etc/os-release": b"12\n"}],
    # a group written in two layers: the link in the upper one (its tar carries the file too)
    "layered": [{"usr/bin/perl": PERL},
                {"usr/bin/perl": PERL, "usr/bin/perl5.36.0": Entry("hardlink", target="usr/bin/perl"),
                 "usr/bin/perldoc": Entry("hardlink", target="usr/bin/perl")}],
}


@pytest.fixture(scope="module")
def analyses(tmp_path_factory) -> dict[str, Analysis]:
    root = tmp_path_factory.mktemp("numbers")
    refs = layout(root / "oci", {name: [layer(spec) for spec in specs]
                                 for name, specs in IMAGES.items()})
    options = Options(cache_dir=root / "cache", quiet=True)
    out = {}
    for name, ref in refs.items():
        out[name] = analyze(open_image(ref, options), options)
    yield out
    for a in out.values():
        a.image.close()


def _compare(analyses: dict[str, Analysis], names: list[str]) -> CompareResult:
    return compare_analyses([analyses[n] for n in names], labels=names)


def _figures(result: CompareResult) -> list[tuple[int, ...]]:
    return [(p.left_out_files, p.left_out_bytes, p.added_files, p.added_bytes, p.changed,
             p.identical) for p in result.pairs]


# (name, images, per image after the first: (left out files, bytes, added files, bytes,
#  changed, identical))
PAIRS = [
    ("a hardlink group left out counts once", ["perl", "slim"], [(3, 3100, 0, 0, 0, 1)]),
    ("a hardlink group added counts once", ["slim", "perl"], [(0, 0, 3, 3100, 0, 1)]),
    ("the link's path kept as a copy: a change, its file's bytes left out",
     ["perl", "copy"], [(2, 3100, 0, 0, 1, 1)]),
    ("a group across layers: the links add files, no bytes", ["slim", "layered"],
     [(1, 3, 3, 3000, 0, 0)]),
    ("three images: each line against the first", ["perl", "slim", "static"],
     [(3, 3100, 0, 0, 0, 1), (3, 3100, 1, 20, 0, 1)]),
    ("the smallest first", ["slim", "static", "perl"], [(0, 0, 1, 20, 0, 1), (0, 0, 3, 3100, 0, 1)]),
    ("one image: no pair", ["perl"], []),
]


@pytest.mark.parametrize(("name", "names", "expected"), PAIRS, ids=[p[0] for p in PAIRS])
def test_pair_figures(analyses, name, names, expected):
    assert _figures(_compare(analyses, names)) == expected


def test_pair_sentence(analyses):
    result = _compare(analyses, ["perl", "static"])
    assert [p.sentence(result.labels) for p in result.pairs] == [
        "static leaves out 3 files (3.1 kB) of perl and adds 1 file (20 B) of its own; "
        "1 identical, 0 differ."]


@pytest.mark.parametrize("third", ["static", "copy", "layered"])
def test_a_pair_does_not_depend_on_the_other_images(analyses, third):
    alone = _figures(_compare(analyses, ["perl", "slim"]))
    for order in (["perl", "slim", third], ["perl", third, "slim"]):
        result = _compare(analyses, order)
        line = result.pairs[order.index("slim") - 1]
        assert line.image == order.index("slim")
        assert _figures(CompareResult(**{**result.__dict__, "pairs": [line]})) == alone


@pytest.mark.parametrize("names", [list(p) for p in permutations(["perl", "slim", "copy"], 2)],
                         ids="-".join)
def test_two_image_pair_matches_the_file_diff(analyses, names):
    result = _compare(analyses, names)
    (pair,) = result.pairs
    fd = result.files
    assert (pair.left_out_files, pair.added_files) == tuple(fd.only_in_counts)
    assert (pair.changed, pair.identical) == (len(fd.changed), fd.common)


def check_totals(analysis: Analysis) -> None:
    """Every byte figure of one image against its total (the hardlink rule's promises)."""
    total = analysis.fs.file_bytes
    categories = analysis.classification.totals.values()
    assert sum(t.bytes for t in categories) == total
    assert sum(t.files for t in categories) == len(analysis.fs) - analysis.fs.count_kind(5)
    sizes = [p.size or 0 for p in analysis.catalog.packages]
    assert sum(sizes) <= total and all(0 <= s <= total for s in sizes)
    layer_bytes = sum(index.file_bytes for index in analysis.layers)
    assert analysis.efficiency.reclaimable_bytes == layer_bytes - total >= 0
    written = sum(s.added_bytes + s.modified_bytes for s in analysis.fs.stats)  # per layer
    assert total <= written <= layer_bytes


def check_result(result: CompareResult) -> None:
    ims = result.images
    for pair in result.pairs:
        assert pair.left_out_bytes <= ims[0].file_bytes
        assert pair.added_bytes <= ims[pair.image].file_bytes
    for i, im in enumerate(ims):
        assert sum(row.per_image[i].bytes for row in result.categories) == im.file_bytes
    for refs in result.packages.only_in:
        assert sum(r.size or 0 for r in refs) <= max(im.file_bytes for im in ims)
    doc = json.loads(render(result, "json"))
    assert [(p["left_out_bytes"], p["added_bytes"]) for p in doc["pairs"]] == \
        [(p.left_out_bytes, p.added_bytes) for p in result.pairs]


@pytest.mark.parametrize("name", list(IMAGES))
def test_in_code_totals_add_up(analyses, name):
    check_totals(analyses[name])
    check_result(_compare(analyses, ["perl", name] if name != "perl" else ["perl"]))


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict[str, Analysis]:
    options = Options(cache_dir=tmp_path_factory.mktemp("cache"), quiet=True)
    out = {}
    for name in ("debian-12-slim", "distroless-static", "distroless-base"):
        out[name] = analyze(open_image(f"sample:{name}", options), options)
    yield out
    for a in out.values():
        a.image.close()


def test_samples_totals_add_up_and_pairs_stand_alone(samples):
    for analysis in samples.values():
        check_totals(analysis)
    pair = _compare(samples, ["debian-12-slim", "distroless-static"])
    trio = _compare(samples, ["debian-12-slim", "distroless-static", "distroless-base"])
    check_result(pair)
    check_result(trio)
    assert _figures(trio)[0] == _figures(pair)[0]
    (line,) = pair.pairs
    # perl's hardlink once: what static leaves out is less than debian holds (it was not)
    assert line.left_out_bytes < pair.images[0].file_bytes
    assert sum(r.size for r in pair.files.only_in[0]) > pair.images[0].file_bytes  # shown sizes
