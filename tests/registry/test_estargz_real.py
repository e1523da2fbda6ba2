"""Listing a registry image from its eStargz table of contents, on real eStargz images:
written by Debian's ``ctr-remote image convert --estargz --oci`` (``estargz_real``), pushed
to the real CNCF registry, each compared with the full pull of the very same blobs
(``--full``)."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import zlib

import pytest

from inspector.analysis import analyze
from inspector.options import Options
from inspector.sources.registry import estargz, open_registry
from inspector.sources.registry.chunked import MAX_TOC, Chunk, TocEntry, TocError, TocPlace
from inspector.sources.registry.estargz import ANNOTATION, HEAD_MAX, TAIL, TAIL_MAX, EstargzToc
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout
from tests.registry.conftest import ROOT
from tests.registry.estargz_real import estargz_layout
from tests.registry.estargz_writer import footer
from tests.registry.tocimages import comparable, export
from tests.tools import require_tool

pytestmark = pytest.mark.registry

#: above the convert chunk size: the file is chunks in the TOC, read whole for its cataloger
DPKG_STATUS = b"".join(
    b"Package: pkg%d\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.%d-2\n"
    b"Description: package number %d\n %s\n\n" % (i, i, i, b"x" * 60) for i in range(60))
ELF = b"\x7fELF\x02\x01\x01" + bytes(57) + bytes(range(256)) * 40
CHUNK = 4096
XATTR = {"SCHILY.xattr.user.note": "kept", "SCHILY.xattr.security.capability": "\x01\x00\x00\x02"}
LAYERS = [
    make_layer({
        "etc/": Entry("dir"), "etc/os-release": b"ID=debian\nVERSION_ID=12\n",
        "var/lib/dpkg/status": DPKG_STATUS,
        "usr/bin/hello": Entry("file", ELF, mode=0o755),
        "usr/bin/run": Entry("file", b"#!/bin/sh\necho hi\n" * 300, mode=0o4750, uid=7, gid=9),
        "usr/bin/tool.py": Entry("file", b"#!/usr/bin/python3\nprint(1)\n", mode=0o755,
                                 pax=XATTR),
        "usr/bin/hi": Entry("hardlink", target="usr/bin/hello"),
        "usr/bin/sh": Entry("symlink", target="dash"),
        "srv/": Entry("dir", mode=0o2775, uid=33, gid=33),
        "srv/fifo": Entry("fifo", mode=0o600),
        "opt/old/a": b"a" * 1000, "opt/keep/b": b"b" * 2000,
        "data/big.bin": bytes(range(256)) * 400,
        "empty": b"",
    }),
    make_layer({"opt/new": b"new\n", "usr/bin/hello2": Entry("hardlink", target="usr/bin/hello"),
                "usr/bin/run": Entry("file", b"#!/bin/bash\nexec true\n", mode=0o755)},
               whiteouts=["opt/old"], opaque=["opt/keep"]),
]
#: name → (source layout builder, ref, convert options)
VARIANTS = {
    # no record: each layer starts with .no.prefetch.landmark; small chunks
    "mixed": ("mixed", {"chunk_size": CHUNK}),
    # a record: the prefetched files come first, then .prefetch.landmark
    "mixed-prefetch": ("mixed", {"chunk_size": CHUNK, "record": ("usr/bin/run", "etc/os-release")}),
    # a real distribution: packages, thousands of files, the default chunk size
    "debian": ("debian-12-slim", {}),
}


def _push(layout, dest: str) -> None:
    subprocess.run(["skopeo", "copy", "-q", "--dest-tls-verify=false", f"oci:{layout}:v1",
                    f"docker://{dest}"], check=True, capture_output=True, timeout=300)


@pytest.fixture(scope="session")
def esgz_layouts(tmp_path_factory) -> dict:
    """name → the converted OCI layout (cached across runs, see ``estargz_real``)."""
    require_tool("skopeo")
    src = tmp_path_factory.mktemp("esgz-src")
    write_oci_layout(src, [ImageSpec(LAYERS, ref_name="mixed")])
    sources = {"mixed": src, "debian-12-slim": ROOT / "sample_images" / "oci"}
    return {name: estargz_layout(name, sources[ref], ref, **opts)
            for name, (ref, opts) in VARIANTS.items()}


@pytest.fixture(scope="session")
def esgz_images(plain_registry, esgz_layouts) -> dict[str, str]:
    out = {}
    for name, layout in esgz_layouts.items():
        out[name] = f"{plain_registry.host}/esgz/{name}:v1"
        _push(layout, out[name])
    return out


def _layers(ref: str):
    return open_registry(ref, Options(no_cache=True), reference=ref).layers


def test_ctr_remote_wrote_estargz_layers(esgz_images):
    """What the real writer produced (the other tests would pass vacuously without it)."""
    for name, ref in esgz_images.items():
        layers = _layers(ref)
        assert layers and all(isinstance(la.toc, EstargzToc) for la in layers), name


@pytest.mark.parametrize("name", list(VARIANTS))
def test_estargz_toc_export_equals_full_pull(esgz_images, tmp_path, name):
    ref = esgz_images[name]
    full, notes_full = export(ref, Options(cache_dir=tmp_path / "a", full=True))
    toc, notes_toc = export(ref, Options(cache_dir=tmp_path / "b"))
    assert notes_toc == notes_full == []
    assert {la["verified"] for la in full["layers"]} == {"diff_id"}
    assert {la["verified"] for la in toc["layers"]} == {"toc"}
    assert comparable(toc) == comparable(full)
    paths = {f["path"] for f in toc["files"]}
    if name == "debian":
        assert len(toc["packages"]) > 50
    else:
        assert {"/usr/bin/tool.py", "/srv/fifo"} <= paths
        assert {p["name"] for p in toc["packages"]} >= {"pkg0", "pkg59"}


@pytest.fixture
def via_proxy(proxy, esgz_images):
    return lambda name: esgz_images[name].replace(esgz_images[name].split("/")[0], proxy.host)


@pytest.mark.parametrize("name", ["mixed", "debian"])
def test_estargz_lists_each_layer_with_few_ranged_requests(proxy, via_proxy, tmp_path, name):
    ref = via_proxy(name)
    image = open_registry(ref, Options(cache_dir=tmp_path), reference=ref)
    analyze(image, Options(cache_dir=tmp_path))
    for layer in image.layers:
        sent = proxy.requests_to(f"/blobs/{layer.digest}")
        assert sent and all("Range" in r["headers"] for r in sent)
        # footer, TOC, then the catalogers' files and prefixes of executables' heads,
        # batched (debian: 9 requests, 1.13 MB = 3.6 % of the blob; issue 28's target: 5 %)
        assert layer.toc.requests == len(sent) <= 12
        if layer.compressed_size > 1 << 20:
            assert layer.toc.fetched < layer.compressed_size * 0.05


FALLBACKS = [
    # (name, fault, words of the one notice)
    ("registry ignores Range", lambda f, d: setattr(f, "ignore_range", True), "HTTP 200"),
    # a flipped byte at the end of each ranged answer: the footer's trailer (the footer
    # and the TOC come in one GET)
    ("ranged answers damaged in transit", lambda f, d: f.corrupt_ranges.add(d),
     "no eStargz footer"),
]


@pytest.mark.parametrize("name,fault,words", FALLBACKS, ids=[f[0] for f in FALLBACKS])
def test_unusable_estargz_toc_falls_back_to_the_full_pull(
        proxy, via_proxy, esgz_images, tmp_path, name, fault, words):
    full, _ = export(esgz_images["mixed"], Options(cache_dir=tmp_path / "a", full=True))
    ref = via_proxy("mixed")
    layers = _layers(ref)
    for layer in layers:
        fault(proxy.faults, layer.digest)
    doc, notices = export(ref, Options(cache_dir=tmp_path / "b"))
    assert len(notices) == len(layers)
    assert all(words in n and "reading the whole layer instead" in n for n in notices)
    assert {la["verified"] for la in doc["layers"]} == {"diff_id"}
    assert comparable(doc) == comparable(full)


def test_toc_is_checked_against_the_toc_digest_annotation(plain_registry, esgz_layouts,
                                                          tmp_path):
    """The same blobs, the annotation of the first layer changed: that layer is pulled
    whole (one notice), the other still listed from its TOC."""
    layout = tmp_path / "edited"
    shutil.copytree(esgz_layouts["mixed"], layout)
    index = json.loads((layout / "index.json").read_text())
    blobs = layout / "blobs" / "sha256"
    manifest = json.loads((blobs / index["manifests"][0]["digest"][7:]).read_bytes())
    annotations = manifest["layers"][0]["annotations"]
    annotations[ANNOTATION] = "sha256:" + hashlib.sha256(annotations[ANNOTATION].encode()).hexdigest()
    data = json.dumps(manifest).encode()
    digest = hashlib.sha256(data).hexdigest()
    (blobs / digest).write_bytes(data)
    index["manifests"][0].update(digest=f"sha256:{digest}", size=len(data))
    (layout / "index.json").write_text(json.dumps(index))
    ref = f"{plain_registry.host}/esgz/edited:v1"
    _push(layout, ref)
    doc, notices = export(ref, Options(cache_dir=tmp_path / "c"))
    assert len(notices) == 1 and "hashes to" in notices[0]
    assert [la["verified"] for la in doc["layers"]] == ["diff_id", "toc"]


class _BlobToc(EstargzToc):
    """The reader over a blob held in memory: each ranged GET is answered with the slice a
    registry's 206 carries (the registry path itself is tested above)."""

    def __init__(self, blob: bytes, toc_digest: str) -> None:
        super().__init__(None, "sha256:" + "0" * 64, len(blob), TocPlace(toc_digest),  # type: ignore[arg-type]
                         what="layer")
        self.data = blob

    def _get(self, batch, on_chunk=None):
        self.requests += 1
        self.fetched += sum(e - s for s, e in batch)
        got = {(s, e): self.data[s:e] for s, e in batch}
        if on_chunk is not None:
            for data in got.values():
                on_chunk(data)
        return got


def _flip(blob: bytes, at: int) -> bytes:
    return blob[:at] + bytes([blob[at] ^ 0xFF]) + blob[at + 1:]


def _bigger(entry):
    entry.size += 100_000
    c = entry.chunks[0]
    entry.chunks = [type(c)(c.start, c.end, c.size + 100_000, c.digest)]


#: (name, path, first bytes asked for, edit of the TOC entry, edit of the blob (chunk start
#: → blob), expected: the head's length at least and the most compressed bytes fetched, or
#: error words)
HEADS = [
    ("ELF, its first byte: a 512-byte prefix of its 628 KB member", "usr/bin/bash", 1, None,
     None, (64, 512)),
    ("ELF, the Go window: its first 8 KiB from a prefix", "usr/bin/bash", 8192, None, None,
     (8192, 20 << 10)),
    ("script in an 11 KB member: its first bytes from the first prefix", "usr/sbin/adduser",
     1, None, None, (64, 512)),
    ("script in a 277-byte member: the whole file, checked", "usr/sbin/policy-rc.d", 1, None,
     None, (255, 512)),
    ("member shorter than its TOC says", "usr/sbin/policy-rc.d", 1, _bigger, None,
     "shorter than"),
    ("damaged member", "usr/sbin/policy-rc.d", 1, None, lambda start, b: _flip(b, start + 150),
     "does not inflate|does not match"),
    ("not a gzip member", "usr/bin/bash", 1, None, lambda start, b: _flip(b, start),
     "does not inflate"),
]


@pytest.fixture(scope="session")
def debian_layer(esgz_layouts) -> tuple[bytes, str, dict[str, bytes]]:
    """The eStargz debian layer: (blob, toc.digest, the HEADS files' content as the blob's
    whole tar holds them)."""
    layout = esgz_layouts["debian"]
    index = json.loads((layout / "index.json").read_text())
    blobs = layout / "blobs" / "sha256"
    desc = json.loads((blobs / index["manifests"][0]["digest"][7:]).read_bytes())["layers"][0]
    blob = (blobs / desc["digest"][7:]).read_bytes()
    paths, content = {h[1] for h in HEADS}, {}
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
        for member in tar:
            if member.name in paths:
                content[member.name] = tar.extractfile(member).read()  # type: ignore[union-attr]
                if len(content) == len(paths):
                    break
    return blob, desc["annotations"][ANNOTATION], content


@pytest.mark.parametrize("name,path,upto,edit,damage,expected", HEADS,
                         ids=[h[0] for h in HEADS])
def test_executable_heads_are_prefixes_of_their_member(debian_layer, name, path, upto, edit,
                                                       damage, expected):
    blob, toc_digest, content = debian_layer
    toc = _BlobToc(blob, toc_digest)
    entry = next(e for e in toc.entries() if e.name == path)
    if edit:
        edit(entry)
    if damage:
        toc.data = damage(entry.chunks[0].start, blob)
    before = toc.fetched
    if isinstance(expected, str):
        with pytest.raises(TocError, match=expected) as info:
            toc.read_files([(entry, upto)])
        assert "\n" not in str(info.value)
        return
    head = toc.read_files([(entry, upto)])[0]
    at_least, at_most = expected
    assert len(head) >= at_least and content[path].startswith(head)
    assert toc.fetched - before <= at_most


def test_whole_files_and_heads_are_fetched_in_one_round(debian_layer):
    """The catalogers' files (whole members) and executables' heads (prefixes of their
    first member) are asked together: one request, not one for each kind."""
    blob, toc_digest, content = debian_layer
    toc = _BlobToc(blob, toc_digest)
    entries = {e.name: e for e in toc.entries()}
    whole, exe = entries["usr/sbin/policy-rc.d"], entries["usr/bin/bash"]
    before = toc.requests
    got = toc.read_files([(whole, whole.size), (exe, 64)])
    assert toc.requests - before == 1
    assert got[0] == content["usr/sbin/policy-rc.d"]
    assert len(got[1]) >= 64 and content["usr/bin/bash"].startswith(got[1])


def _layer_blob(layout, n: int) -> tuple[bytes, str]:
    index = json.loads((layout / "index.json").read_text())
    blobs = layout / "blobs" / "sha256"
    desc = json.loads((blobs / index["manifests"][0]["digest"][7:]).read_bytes())["layers"][n]
    return (blobs / desc["digest"][7:]).read_bytes(), desc["annotations"][ANNOTATION]


def _huge(_layouts) -> tuple[bytes, str]:
    """A footer naming a TOC at offset 1 of a blob larger than ``MAX_TOC``."""
    return bytes(MAX_TOC + (1 << 20)) + footer(1), "sha256:" + "0" * 64


#: (name, blob and its toc.digest, the first read's cap (TAIL_MAX), expected: (GETs, most
#: bytes fetched) or error words)
TAILS = [
    ("small TOC: footer and TOC in one GET", lambda ls: _layer_blob(ls["mixed"], 1),
     TAIL_MAX, (1, TAIL)),
    ("debian's 194 KB TOC (0.62 % of its 31.4 MB blob): one GET of 1 %",
     lambda ls: _layer_blob(ls["debian"], 0), TAIL_MAX, (1, 315_000)),
    ("a TOC larger than the first read: the tail, then the rest",
     lambda ls: _layer_blob(ls["debian"], 0), 64 << 10, (2, 200_000)),
    ("a TOC larger than MAX_TOC: refused from the tail alone", _huge, TAIL_MAX, "larger than"),
]


@pytest.mark.parametrize("name,blob,tail_max,expected", TAILS, ids=[t[0] for t in TAILS])
def test_estargz_toc_read_from_the_blob_tail(esgz_layouts, monkeypatch, name, blob, tail_max,
                                             expected):
    monkeypatch.setattr(estargz, "TAIL_MAX", tail_max)
    data, toc_digest = blob(esgz_layouts)
    toc = _BlobToc(data, toc_digest)
    if isinstance(expected, str):
        with pytest.raises(TocError, match=expected):
            toc.entries()
        assert toc.requests == 1 and toc.fetched <= tail_max
        return
    entries = toc.entries()
    assert entries and entries[-1].name == "stargz.index.json"
    assert (toc.requests, toc.fetched <= expected[1]) == (expected[0], True)


def _bomb(header_bytes: int) -> bytes:
    """A gzip member: a header whose FNAME is ``header_bytes`` long (inflates to nothing),
    then 256 MB of zeros deflated (~250 KB)."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = b"".join(deflate.compress(bytes(1 << 20)) for _ in range(256)) + deflate.flush()
    return b"\x1f\x8b\x08\x08" + bytes(6) + b"x" * header_bytes + b"\0" + body


#: (name, the member, bytes asked for): a TOC claiming a 1 TB first chunk over it
BOMBS = [
    ("a bomb from its first byte", _bomb(0), 1),
    ("a bomb behind a 100 KB gzip header (the first prefixes inflate to nothing)",
     _bomb(100_000), 1),
    ("a bomb, the Go window asked for", _bomb(0), 8192),
]


@pytest.mark.parametrize("name,member,upto", BOMBS, ids=[b[0] for b in BOMBS])
def test_a_head_never_inflates_past_head_max(name, member, upto):
    toc = _BlobToc(member + footer(len(member)), "sha256:" + "0" * 64)
    size = 1 << 40
    entry = TocEntry("reg", "bomb", "", 0o755, 0, 0, size, "sha256:" + "1" * 64,
                     [Chunk(0, len(member), size, "")])
    head = toc.read_files([(entry, upto)])[0]
    assert upto <= len(head) <= HEAD_MAX


@pytest.fixture(scope="session")
def zstdchunked_images(plain_registry, esgz_layouts, tmp_path_factory) -> dict[str, str]:
    """The ``mixed`` layers (small chunks) converted by ``ctr-remote image convert
    --zstdchunked --oci`` (cached as the eStargz layouts): a zstd:chunked TOC with no
    ``endOffset``, each file's frames followed by the next tar header's frame."""
    src = tmp_path_factory.mktemp("zc-src")
    write_oci_layout(src, [ImageSpec(LAYERS, ref_name="mixed")])
    layout = estargz_layout("zc-mixed", src, "mixed", chunk_size=CHUNK, zstdchunked=True)
    ref = f"{plain_registry.host}/esgz/zc-mixed:v1"
    _push(layout, ref)
    return {"mixed": ref}


def test_ctr_remote_zstdchunked_toc_is_read_not_pulled(zstdchunked_images, tmp_path):
    """Its TOC was refused (".no.prefetch.landmark has chunks out of order") and every
    layer pulled whole; now listed from it, equal to the full pull, every frame checked
    against its chunk digest."""
    from inspector.sources.registry.toc import RemoteToc

    ref = zstdchunked_images["mixed"]
    layers = _layers(ref)
    assert all(type(la.toc) is RemoteToc for la in layers)  # zstd:chunked, not eStargz
    toc_entries = layers[0].toc.entries()
    assert any(len(e.chunks or ()) > 1 for e in toc_entries)  # chunked files are covered
    full, notes_full = export(ref, Options(cache_dir=tmp_path / "a", full=True))
    toc, notes_toc = export(ref, Options(cache_dir=tmp_path / "b"))
    assert notes_toc == notes_full == []
    assert {la["verified"] for la in toc["layers"]} == {"toc"}
    assert comparable(toc) == comparable(full)
    assert {p["name"] for p in toc["packages"]} >= {"pkg0", "pkg59"}
    # every regular file's bytes, read by range, are the full pull's
    from inspector.content import read_member

    options = Options(cache_dir=tmp_path / "b")
    image = open_registry(ref, options, reference=ref)
    analysis = analyze(image, options)
    files = [f for f in full["files"] if f["type"] == "file" and f["size"]]
    assert files
    for f in files:
        layer = f["layer"]
        got, cut = read_member(image, layer, f["path"], cap=1 << 30)
        assert not cut and len(got) == f["size"], f["path"]
    assert analysis.notices == []
