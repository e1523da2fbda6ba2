"""Hostile hardlink targets met after the merge (``index.linkheads``: the heads of
hardlinked inodes of TOC-listed layers, fetched by range): cycles, links to directories,
to whiteouted paths, to files of a layer pulled whole, to missing paths, thousands of
links — each listing equals the full pull of the same layers (every layer pulled whole),
in at most one batch of ranged requests per layer after the listing, or a notice."""

from __future__ import annotations

import io
import json

import pytest

from inspector.analysis import analyze
from inspector.options import Options
from inspector.report.export import write_export
from tests.builders import Entry, make_tar
from tests.registry.chunked_mem import MemToc, image_of, layer_of, toc_items, toc_json
from tests.registry.tocimages import comparable

SCRIPT = Entry("file", b"#!/bin/sh\nexec true\n", mode=0o755)
ELF = Entry("file", b"\x7fELF\x02\x01\x01" + bytes(57) + b"e" * 600, mode=0o755)


def _link(target: str) -> Entry:
    return Entry("hardlink", target=target)


MANY = 3000
#: (name, the layers' files base first (a dict, or (files, whiteouts)), which layers are
#: listed from a TOC (the others pulled whole))
LINKS = [
    ("a later layer's link to a bin-dir script", [{"usr/bin/curl": SCRIPT},
                                                  {"opt/curl": _link("usr/bin/curl")}], (0, 1)),
    ("a cycle: a to b, b to a", [{"usr/bin/a": _link("usr/bin/b"), "usr/bin/b":
                                  _link("usr/bin/a")}, {"opt/x": _link("usr/bin/a")}], (0, 1)),
    ("a link to itself", [{"usr/bin/s": _link("usr/bin/s")}, {"opt/s": _link("usr/bin/s")}],
     (0, 1)),
    ("a link to a directory", [{"usr/bin/d": Entry("dir"), "usr/bin/x": SCRIPT},
                               {"opt/d": _link("usr/bin/d")}], (0, 1)),
    ("a link to a whiteouted path", [{"usr/bin/curl": SCRIPT},
                                     ({"opt/c": _link("usr/bin/curl")}, ["usr/bin/curl"])],
     (0, 1)),
    ("a link to a file of a layer pulled whole", [{"usr/bin/curl": SCRIPT},
                                                  {"opt/c": _link("usr/bin/curl")}], (1,)),
    ("a link from a layer pulled whole", [{"usr/bin/curl": ELF},
                                          {"opt/c": _link("usr/bin/curl")}], (0,)),
    ("a link to a missing path", [{"usr/bin/x": SCRIPT}, {"opt/m": _link("usr/bin/none")}],
     (0, 1)),
    ("a link with '..' in its target", [{"usr/bin/x": SCRIPT},
                                        {"opt/p": _link("../../usr/bin/x")}], (0, 1)),
    ("a chain: c to b to a script", [{"usr/bin/a": SCRIPT, "usr/bin/b": _link("usr/bin/a")},
                                     {"opt/c": _link("usr/bin/b")}], (0, 1)),
    ("a link to a file replaced by a symlink", [
        {"usr/bin/x": SCRIPT}, {"usr/bin/x": Entry("symlink", target="/bin/sh")},
        {"opt/x": _link("usr/bin/x")}], (0, 1, 2)),
    ("a link to an empty executable", [{"usr/bin/e": Entry("file", b"", mode=0o755)},
                                       {"opt/e": _link("usr/bin/e")}], (0, 1)),
    (f"{MANY} links to {MANY} bin-dir executables",
     [{f"usr/bin/t{i}": ELF if i % 2 else SCRIPT for i in range(MANY)},
      {f"opt/l{i}": _link(f"usr/bin/t{i}") for i in range(MANY)}], (0, 1)),
]


def _tars(layers: list) -> list[bytes]:
    return [make_tar(*layer) if isinstance(layer, tuple) else make_tar(layer)
            for layer in layers]


def _doc(analysis) -> dict:
    out = io.StringIO()
    write_export(analysis, out)
    return comparable(json.loads(out.getvalue()))


@pytest.mark.parametrize("name,layers,listed", LINKS, ids=[x[0] for x in LINKS])
def test_a_hostile_link_target_is_settled_as_the_full_pull(name, layers, listed, tmp_path):
    tars = _tars(layers)
    full = analyze(image_of([layer_of(t, None) for t in tars]), Options(no_cache=True))
    tocs = {}
    for n in listed:
        frames, items = toc_items(tars[n])
        tocs[n] = MemToc(frames, toc_json(items))
    image = image_of([layer_of(t, tocs.get(n)) for n, t in enumerate(tars)])
    options = Options(cache_dir=tmp_path)
    analysis = analyze(image, options)
    assert _doc(analysis) == _doc(full)
    assert analysis.warnings == full.warnings
    assert analysis.unsafe == full.unsafe
    # the listing's batch, at most one more for the heads (requests of up to 128 ranges,
    # 4 at once)
    for toc in tocs.values():
        ranges = sum(len(g) for g in toc.gets[1:])
        assert len(toc.gets) <= 1 + 2 * (1 + ranges // 128), name
    # warm: the heads were kept with the layers' indexes: nothing fetched again
    again = {n: MemToc(t.data[:t.place.offset], b"", compressed=t.data[t.place.offset:])
             for n, t in tocs.items()}
    warm = analyze(image_of([layer_of(t, again.get(n)) for n, t in enumerate(tars)]), options)
    assert _doc(warm) == _doc(full)
    assert all(t.gets == [] for t in again.values())
