"""A hardlink in a later layer to an executable whose first bytes its own TOC-listed layer
did not fetch (a program in a bin dir by its place: ``from_toc`` skips its head). The OCI
layer format allows the link alone (real writers re-add the file with it); the link's
category then rests on its inode's head, fetched by range at the merge
(``index.linkheads``). Real skopeo-written zstd:chunked layers on the real CNCF registry,
compared with the full pull of the same image pushed gzip."""

from __future__ import annotations

import pytest

from inspector.analysis import analyze
from inspector.options import Options
from inspector.sources.registry import open_registry
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout
from tests.registry.tocimages import comparable, copy_image, export
from tests.tools import require_tool

pytestmark = pytest.mark.registry

SCRIPT = Entry("file", b"#!/bin/sh\nexec true\n", mode=0o755)
ELF = Entry("file", b"\x7fELF\x02\x01\x01" + bytes(57) + b"e" * 600, mode=0o755)
LINK = Entry("hardlink", target="usr/bin/curl")

#: (name, layers' files (whiteouts: a "-path" key), the path whose category needs the head,
#:  the category the rules give that path once it is known to be a program)
CASES = [
    ("a later layer links a bin-dir script from outside bin dirs",
     [{"usr/bin/curl": SCRIPT}, {"opt/tools/curl": LINK}], "/opt/tools/curl", "network_tools"),
    ("a small bin-dir ELF, linked two layers up",
     [{"usr/bin/curl": ELF}, {"etc/motd": b"hi\n"}, {"opt/tools/curl": LINK}],
     "/opt/tools/curl", "network_tools"),
    ("the link outlives the file (its path removed above): the link becomes the file",
     [{"usr/bin/curl": SCRIPT}, {"opt/tools/curl": LINK}, {"-usr/bin/curl": b""}],
     "/opt/tools/curl", "network_tools"),
    ("two targets in one layer, linked from two directories",
     [{"usr/bin/curl": SCRIPT, "usr/bin/wget": ELF},
      {"srv/a/curl": LINK, "srv/b/wget": Entry("hardlink", target="usr/bin/wget")}],
     "/srv/b/wget", "network_tools"),
]


def _layer(files: dict) -> bytes:
    return make_layer({k: v for k, v in files.items() if not k.startswith("-")},
                      whiteouts=[k[1:] for k in files if k.startswith("-")])


@pytest.fixture(scope="module")
def link_images(plain_registry, tmp_path_factory) -> dict[str, tuple[str, str]]:
    """case name → (gzip reference, zstd:chunked reference)."""
    require_tool("skopeo")
    work = tmp_path_factory.mktemp("toc-links")
    host = plain_registry.host
    out = {}
    for n, (name, layers, _, _) in enumerate(CASES):
        write_oci_layout(work / f"links{n}", [ImageSpec([_layer(f) for f in layers],
                                                        ref_name="v1")])
        copy_image(f"oci:{work}/links{n}:v1", f"oci:{work}/links{n}-zc:v1",
                   "--dest-compress-format", "zstd:chunked")
        copy_image(f"oci:{work}/links{n}:v1", f"docker://{host}/toc/links{n}-gzip:v1")
        copy_image(f"oci:{work}/links{n}-zc:v1", f"docker://{host}/toc/links{n}-zc:v1")
        out[name] = (f"{host}/toc/links{n}-gzip:v1", f"{host}/toc/links{n}-zc:v1")
    # the first case's base layer alone: an image that caches its index without the head
    write_oci_layout(work / "base", [ImageSpec([_layer(CASES[0][1][0])], ref_name="v1")])
    copy_image(f"oci:{work}/base:v1", f"oci:{work}/base-zc:v1",
               "--dest-compress-format", "zstd:chunked")
    copy_image(f"oci:{work}/base-zc:v1", f"docker://{host}/toc/links-base-zc:v1")
    out["base"] = ("", f"{host}/toc/links-base-zc:v1")
    return out


@pytest.mark.parametrize("name,layers,path,category", CASES, ids=[c[0] for c in CASES])
def test_a_later_layers_hardlink_is_classified_by_its_inodes_head(
        link_images, tmp_path, name, layers, path, category):
    gzip_ref, zc_ref = link_images[name]
    full, notes_full = export(gzip_ref, Options(cache_dir=tmp_path / "a"))
    toc, notes_toc = export(zc_ref, Options(cache_dir=tmp_path / "b"))
    assert {la["verified"] for la in toc["layers"]} == {"toc"}
    by_path = {f["path"]: f for f in full["files"]}
    assert by_path[path]["category"] == category  # the case needs the head
    assert notes_toc == notes_full
    assert comparable(toc) == comparable(full)


def test_the_missing_heads_cost_one_batch_once(link_images, tmp_path):
    """The heads are fetched for the layer holding the targets only (one ranged batch),
    and kept with its cached index: a warm run asks the registry for no blob."""
    _, ref = link_images[CASES[3][0]]
    options = Options(cache_dir=tmp_path)
    image = open_registry(ref, options, reference=ref)
    listed = analyze(image, options)
    base = listed.layers[0]
    assert {base.paths[row] for row in base.heads} == {"/usr/bin/curl", "/usr/bin/wget"}
    assert image.layers[1].toc.requests == 1  # the TOC: the link layer fetched nothing else
    again = open_registry(ref, options, reference=ref)
    warm = analyze(again, options)
    assert warm.cached_layers == 2
    assert [layer.toc.requests for layer in again.layers] == [0, 0]
    assert warm.classification.categories == listed.classification.categories


def test_a_toc_refused_for_the_heads_pulls_that_layer_whole(link_images, proxy, tmp_path):
    """The base layer's index comes from the cache (another image listed it, without the
    head), then the registry refuses Range: the link's layer and the base are pulled whole,
    one notice each, and the export is the full pull's."""
    gzip_ref, zc_ref = link_images[CASES[0][0]]
    options = Options(cache_dir=tmp_path / "b")
    base_ref = link_images["base"][1]
    analyze(open_registry(base_ref, options, reference=base_ref), options)
    proxy.faults.ignore_range = True
    ref = zc_ref.replace(zc_ref.split("/")[0], proxy.host)
    doc, notices = export(ref, options)
    full, _ = export(gzip_ref, Options(cache_dir=tmp_path / "a"))
    assert len(notices) == 2
    assert all("HTTP 200" in n and "reading the whole layer instead" in n for n in notices)
    assert {la["verified"] for la in doc["layers"]} == {"diff_id"}
    assert comparable(doc) == comparable(full)
