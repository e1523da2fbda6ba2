"""Every command on images listed from their table of contents (zstd:chunked, eStargz)
gives what it gives on the same image pushed gzip and pulled whole — and never downloads
a layer blob whole to do it: ``compare`` (a TOC image beside a gzip one, and beside another
TOC image, with ``--files``), ``check``, ``fit`` (which reads the program and its libraries'
bytes: ``index.toc_files``), ``audit`` (arguments and ``--from``, with ``--fit``), the
SBOMs (``export --format cyclonedx|spdx-json``). Real skopeo-written zstd:chunked images on
the real CNCF registry, the TOC images read through the counting proxy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from inspector.cli import main
from inspector.options import Options
from inspector.sources.registry import open_registry

pytestmark = pytest.mark.registry

#: fields that say how the layers were stored or read, not what they hold
VOLATILE = {"digest", "manifest_digest", "compressed_size", "media_type", "verified",
            "uncompressed_size", "compressed", "serialNumber", "timestamp", "created",
            "documentNamespace", "bytes_read", "bytes_saved"}
#: a layer blob this large must never come whole (smaller ones: still only by range)
LARGE = 64 << 10


@pytest.fixture
def refs(proxy, toc_images):
    """``name:kind`` → reference: TOC images through the counting proxy, gzip ones
    straight to the registry (so the proxy sees the TOC images' requests only)."""
    def ref(key: str) -> str:
        got = toc_images[key]
        return got.replace(got.split("/")[0], proxy.host) if key.endswith(":zc") else got
    return ref


def run(capsys, tmp_path: Path, *argv: str) -> tuple[int, str]:
    cache = tmp_path / f"cache-{len(list(tmp_path.glob('cache-*')))}"
    code = main([*argv, "--cache-dir", str(cache), "-q"])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    return code, out


def normal(text: str, names: dict[str, str]) -> object:
    """A command's JSON with each reference replaced by its image's name, each layer
    blob's and manifest's digest by what it is (they differ between the gzip and the
    zstd:chunked push of one image), the ``VOLATILE`` fields dropped."""
    for ref, name in sorted(names.items(), key=lambda kv: -len(kv[0])):
        image = open_registry(ref, Options(no_cache=True), reference=ref)
        text = text.replace(image.manifest_digest, f"<manifest of {name}>")
        for i, layer in enumerate(image.layers):
            text = text.replace(layer.digest, f"<layer {i} of {name}>")
            text = text.replace(layer.digest.split(":")[1], f"<layer {i} of {name}>")
        text = text.replace(image.manifest_digest.split(":")[1], f"<manifest of {name}>")
        text = text.replace(ref, name)
    text = re.sub(r"\b(mixed|debian|cpp)-(zc|gzip)\b", r"\1", text)

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in VOLATILE}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value
    return strip(json.loads(text))


def fetched_by_range_only(proxy, toc_refs: list[str]) -> dict[str, int]:
    """Per TOC layer blob: the bytes the proxy relayed; asserts every request for it was
    ranged and a large blob came far from whole."""
    out = {}
    for ref in toc_refs:
        image = open_registry(ref, Options(no_cache=True), reference=ref)
        for layer in image.layers:
            assert layer.toc is not None
            sent = proxy.requests_to(f"/blobs/{layer.digest}")
            assert all("Range" in r["headers"] for r in sent), (ref, layer.digest)
            total = sum(r["sent"] for r in sent)
            if layer.compressed_size > LARGE:
                assert total < layer.compressed_size / 2, (ref, layer.digest, total)
            out[layer.digest] = total
    return out


def both(capsys, tmp_path, refs, keys: list[str], *argv: str, fmt: str = "json"):
    """The command ``argv`` (``{0}``, ``{1}``… stand for the images) run on ``keys`` and
    on the same images pushed gzip: both outputs, normalised; and the TOC refs."""
    outs = []
    toc = [refs(k) for k in keys if k.endswith(":zc")]
    for chosen in (keys, [k.split(":")[0] + ":gzip" for k in keys]):
        names = {refs(k): k.split(":")[0] for k in chosen}
        args = [a.format(*[refs(k) for k in chosen]) for a in argv]
        code, out = run(capsys, tmp_path, *args, "--format", fmt)
        outs.append((code, normal(out, names)))
    return outs[0], outs[1], toc


COMPARES = [
    # (name, images)
    ("TOC image beside a gzip image", ["debian:zc", "cpp:gzip"]),
    ("TOC image beside another TOC image", ["debian:zc", "cpp:zc"]),
    ("mixed layers, whiteouts and hardlinks", ["mixed:zc", "debian:zc"]),
]


@pytest.mark.parametrize("name,keys", COMPARES, ids=[c[0] for c in COMPARES])
def test_compare_on_toc_images_equals_the_full_pull(capsys, tmp_path, proxy, refs, name, keys):
    toc, full, toc_refs = both(capsys, tmp_path, refs, keys, "compare", "{0}", "{1}",
                               "--files")
    assert toc == full
    assert fetched_by_range_only(proxy, toc_refs)


def test_check_on_a_toc_image_equals_the_full_pull(capsys, tmp_path, proxy, refs):
    toc, full, toc_refs = both(capsys, tmp_path, refs, ["debian:zc", "mixed:zc"], "check",
                               "{0}", "{1}")
    assert toc == full and toc[0] == 1  # debian has a shell: the default rules fail it
    fetched_by_range_only(proxy, toc_refs)


@pytest.mark.parametrize("fmt", ["cyclonedx", "spdx-json"])
def test_sboms_of_a_toc_image_equal_the_full_pulls(capsys, tmp_path, proxy, refs, fmt):
    toc, full, toc_refs = both(capsys, tmp_path, refs, ["debian:zc"], "export", "{0}",
                               fmt=fmt)
    assert toc == full
    fetched_by_range_only(proxy, toc_refs)


def test_fit_reads_the_program_and_its_libraries_by_range(capsys, tmp_path, proxy, refs):
    """fit reads bytes no index keeps (the C++ program's dynamic section, each library's
    in its closure): through the TOC, frames by range, verified."""
    toc, full, toc_refs = both(capsys, tmp_path, refs, ["cpp:zc"], "fit", "{0}")
    assert toc == full
    assert toc[1]["chosen"]["label"] == "distroless-cc"
    assert not toc[1]["warnings"]
    fetched_by_range_only(proxy, toc_refs)


def test_audit_over_toc_images_equals_the_full_pull(capsys, tmp_path, proxy, refs):
    listed = tmp_path / "images.txt"
    listed.write_text(f"# the fleet\n{refs('mixed:zc')}\n")
    toc, full, toc_refs = both(capsys, tmp_path, refs, ["debian:zc", "cpp:zc"], "audit",
                               "{0}", "{1}", "--fit", "--workers", "1")
    assert toc == full
    fetched_by_range_only(proxy, toc_refs)
    code, out = run(capsys, tmp_path, "audit", "--from", str(listed), "--workers", "1",
                    "--format", "json")
    _, gz = run(capsys, tmp_path, "audit", refs("mixed:gzip"), "--workers", "1",
                "--format", "json")
    names = {refs("mixed:zc"): "mixed", refs("mixed:gzip"): "mixed"}
    assert normal(out, names) == normal(gz, names)
    fetched_by_range_only(proxy, [refs("mixed:zc")])


@pytest.fixture(scope="module")
def esgz_cpp(plain_registry) -> str:
    """sample:hello-cpp-debian converted to eStargz by ``ctr-remote`` (cached across
    runs, ``estargz_real``), pushed: compared with its own full pull (``--full``: an
    eStargz layer's tar holds the landmark and the TOC, a gzip push's does not)."""
    from tests.registry.estargz_real import estargz_layout
    from tests.registry.tocimages import SAMPLES, copy_image

    layout = estargz_layout("cpp", SAMPLES, "hello-cpp-debian")
    ref = f"{plain_registry.host}/esgz/cpp:v1"
    copy_image(f"oci:{layout}:v1", f"docker://{ref}")
    return ref


@pytest.mark.parametrize("argv", [("fit",), ("check",), ("compare", "sample:distroless-cc")],
                         ids=lambda a: a[0])
def test_commands_on_an_estargz_image_equal_its_full_pull(capsys, tmp_path, proxy, esgz_cpp,
                                                          argv):
    ranged = esgz_cpp.replace(esgz_cpp.split("/")[0], proxy.host)
    outs = []
    for ref, extra in ((ranged, ()), (esgz_cpp, ("--full",))):
        code, out = run(capsys, tmp_path, argv[0], ref, *argv[1:], *extra, "--format", "json")
        outs.append((code, normal(out, {ref: "cpp"})))
    assert outs[0] == outs[1]
    fetched_by_range_only(proxy, [ranged])


def test_viewer_reads_an_estargz_file_by_range(proxy, esgz_cpp, tmp_path):
    """``content.read_member`` (the TUI's viewer): the first MiB of a library, and the
    whole program, as the full pull reads them; eStargz chunks are whole gzip members,
    each checked."""
    from inspector.analysis import analyze
    from inspector.content import read_member

    ranged = esgz_cpp.replace(esgz_cpp.split("/")[0], proxy.host)
    got = []
    for ref, full in ((ranged, False), (esgz_cpp, True)):
        options = Options(cache_dir=tmp_path / str(full), full=full)
        image = open_registry(ref, options, reference=ref)
        fs = analyze(image, options).fs
        if full:  # the reference: each file read from its layer's blob, streamed
            for layer in image.layers:
                layer.toc = None
        got.append([read_member(image, *fs.source(path)) for path in
                    ("/usr/lib/x86_64-linux-gnu/libc.so.6", "/app/hello-cpp")])
    assert got[0] == got[1] and got[0][0][1]  # the library is cut at the first MiB
    fetched_by_range_only(proxy, [ranged])


def test_fit_reads_the_blob_with_one_warning_when_the_toc_fails(proxy, refs, tmp_path):
    """The index came from the TOC; then the file frames fail their digests: each layer
    fit reads is streamed whole instead, once, said once per layer, the same verdict."""
    from inspector.analysis import analyze
    from inspector.fit import fit

    results = []
    for broken in (False, True):
        options = Options(cache_dir=tmp_path / str(broken))
        ref = refs("cpp:zc")
        image = open_registry(ref, options, reference=ref)
        current = analyze(image, options)
        assert {ix.verified for ix in current.layers} == {"toc"}
        if broken:
            for layer in image.layers:
                proxy.faults.corrupt_ranges.add(layer.digest)
        proxy.state.requests.clear()
        results.append(fit(current, []))
        whole = [r for r in proxy.requests_to("/blobs/") if "Range" not in r["headers"]
                 and any(r["path"].endswith(la.digest) for la in image.layers)]
        assert len(whole) == (len(image.layers) if broken else 0)
    good, bad = results
    assert good.warnings == [] and len(bad.warnings) == len(image.layers)
    assert all("reading the whole layer instead" in w for w in bad.warnings)
    assert (bad.program, bad.libraries, bad.missing) == (good.program, good.libraries,
                                                         good.missing)


def test_a_file_read_after_the_listing_fetches_its_frames_only(proxy, refs, tmp_path):
    """The TOC read for the listing is kept (by its digest): viewing a file then costs
    one ranged request, for that file's frames, never the TOC again."""
    from inspector.analysis import analyze
    from inspector.content import read_member

    ref = refs("debian:zc")
    options = Options(cache_dir=tmp_path)
    image = open_registry(ref, options, reference=ref)
    fs = analyze(image, options).fs
    proxy.state.requests.clear()
    layer, name = fs.source("/usr/bin/bash")
    data, _ = read_member(image, layer, name)
    sent = proxy.requests_to(f"/blobs/{image.layers[layer].digest}")
    assert len(sent) == 1 and data.startswith(b"\x7fELF")
    assert sent[0]["sent"] < 2 * fs.size("/usr/bin/bash")
