"""Hostile names in a table of contents: each is listed as the full pull of the same tar
lists it, or the TOC is refused (one notice line) and the layer pulled whole — never a
traceback nor the CLI's "please report this" handler (the index cache once failed on a
lone surrogate with ``UnicodeEncodeError``).

A tar name is bytes without NUL; a TOC name is a JSON string, which can say what no tar
holds (``\\u0000``, a lone surrogate) and cannot say what a tar may (bytes that are not
UTF-8: Go's encoding/json, which skopeo and ctr-remote write TOCs with, replaces them with
U+FFFD — checked on a real skopeo conversion below)."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile

import pytest

from inspector.analysis import analyze
from inspector.options import Options
from inspector.report.export import write_export
from inspector.sources.registry.chunked import TocError, announced, parse_toc
from inspector.sources.registry.toc import inflate
from tests.builders import ImageSpec, compress, write_oci_layout
from tests.hostile.strings import HOSTILE
from tests.registry.chunked_mem import MemToc, image_of, layer_of, toc_items, toc_json
from tests.registry.tocimages import comparable
from tests.tools import require_tool


def _tar(names: list[str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in names:
            info = tarfile.TarInfo(name)
            info.size, info.mode = 5, 0o644
            tar.addfile(info, io.BytesIO(b"hello"))
    return buf.getvalue()


def _export(layer, tmp_path, run: str) -> tuple[dict, list[str]]:
    options = Options(cache_dir=tmp_path / run)
    analysis = analyze(image_of([layer]), options)
    out = io.StringIO()
    write_export(analysis, out)
    notices = [w for w in analysis.warnings if "reading the whole layer" in w]
    return comparable(json.loads(out.getvalue())), notices


def _listed_or_refused(tar: bytes, toc: MemToc, tmp_path) -> tuple[bool, list[str]]:
    """Whether the TOC was used; the notices; the export equal to the full pull's, cold
    and warm (the index cache read back)."""
    full, _ = _export(layer_of(tar, None), tmp_path, "full")
    got = []
    for _ in range(2):
        doc, notices = _export(layer_of(tar, toc), tmp_path, "toc")
        assert doc == full
        assert all("\n" not in n for n in notices)
        got.append(notices)
    return not got[0], got[0]


#: names a tar can hold, the hostile strings' table (``tests/hostile/strings.py``): listed
#: from the TOC as the full pull lists them (bytes that are not UTF-8 aside: below)
TAR_NAMES = [(h.name, "etc/" + h.raw) for h in HOSTILE
             if h.in_path and h.raw_bytes.decode("utf-8", "replace") == h.raw]


@pytest.mark.parametrize("name,path", TAR_NAMES, ids=[n for n, _ in TAR_NAMES])
def test_a_hostile_name_a_tar_holds_is_listed_as_the_full_pull(name, path, tmp_path):
    tar = _tar(["etc/ok", path])
    frames, items = toc_items(tar)
    listed, notices = _listed_or_refused(tar, MemToc(frames, toc_json(items)), tmp_path)
    assert (listed, notices) == (True, [])


#: (name, the name the TOC says for the tar's ``etc/x``, field: name or linkName)
NO_TAR_NAMES = [
    ("NUL in a name", "etc/a\x00b", "name"),
    ("a lone high surrogate", "etc/a\ud800b", "name"),
    ("a lone low surrogate", "etc/\udfff", "name"),
    ("a surrogateescape byte (not what Go writes)", "etc/a\udcffb", "name"),
    ("U+FFFD: a byte the writer could not say", "etc/bad\ufffd", "name"),
    ("a lone surrogate in a hardlink's target", "etc/\ud800", "linkName"),
    ("NUL in a symlink's target", "a\x00b", "linkName"),
]


@pytest.mark.parametrize("name,says,field", NO_TAR_NAMES, ids=[n[0] for n in NO_TAR_NAMES])
def test_a_name_no_tar_holds_refuses_the_toc_with_one_line(name, says, field, tmp_path):
    tar = _tar(["etc/ok", "etc/x"])
    frames, items = toc_items(tar)
    if field == "name":
        items[1]["name"] = says
    else:  # the tar holds the same: a link of that target, which JSON cannot say
        kind = "hardlink" if says.startswith("etc/") else "symlink"
        items.append({"type": kind, "name": "etc/l", "linkName": says})
        with pytest.raises(TocError, match="not in UTF-8") as info:
            parse_toc(toc_json(items), len(frames) + 1000, "layer", len(frames))
        assert "\n" not in str(info.value)
        return
    listed, notices = _listed_or_refused(tar, MemToc(frames, toc_json(items)), tmp_path)
    assert not listed and len(notices) == 1 and "reading the whole layer" in notices[0]


def test_skopeo_writes_a_name_that_is_not_utf8_as_ufffd(tmp_path):
    """The real writer: a tar name with bytes 0xff 0xfe reaches the TOC as
    ``bad\\ufffd\\ufffd``; listed from it the file would be named other than by the full
    pull, so the TOC is refused and the layer pulled (the same export)."""
    require_tool("skopeo")
    tar = _tar(["etc/ok", b"etc/bad\xff\xfe".decode("utf-8", "surrogateescape")])
    src = tmp_path / "src"
    write_oci_layout(src, [ImageSpec([compress(tar, "gzip")], ref_name="v1")])
    subprocess.run(["skopeo", "copy", "-q", f"oci:{src}:v1", f"oci:{tmp_path}/zc:v1",
                    "--dest-compress-format", "zstd:chunked"], check=True, capture_output=True,
                   timeout=120)
    blobs = tmp_path / "zc" / "blobs" / "sha256"
    index = json.loads((tmp_path / "zc" / "index.json").read_text())
    manifest = json.loads((blobs / index["manifests"][0]["digest"][7:]).read_text())
    desc = manifest["layers"][0]
    data = (blobs / desc["digest"][7:]).read_bytes()
    place = announced(desc["mediaType"], desc["annotations"], len(data), "layer")
    doc = inflate(data[place.offset:place.offset + place.length], place.uncompressed, "l", "TOC")
    assert [e["name"] for e in json.loads(doc)["entries"]] == [  # the case is real
        "etc/ok", "etc/bad\ufffd\ufffd"]
    toc = MemToc.of_blob(data, place)
    listed, notices = _listed_or_refused(tar, toc, tmp_path)
    assert not listed and len(notices) == 1 and "not in UTF-8" in notices[0]
