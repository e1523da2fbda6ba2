"""The layer index cache: exact round trips on real layers; corrupt, truncated or foreign
entries are discarded and rebuilt (never trusted); a warm analysis reads no blob."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from inspector.analysis import analyze
from inspector.index import cache as cache_mod
from inspector.index.cache import IndexCache, dumps, loads
from inspector.index.indexer import index_layer
from inspector.options import Options
from inspector.report.export import write_export
from inspector.sources.resolve import open_image
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout

FIELDS = ("diff_id", "digest", "compressed_size", "uncompressed_size", "paths", "kinds",
          "sizes", "modes", "uids", "gids", "targets", "heads", "whiteouts", "opaque",
          "captured", "go_buildinfo", "flagged")


def same(a, b) -> None:
    for name in FIELDS:
        assert getattr(a, name) == getattr(b, name), name


@pytest.mark.parametrize("sample", ["debian-12-slim", "distroless-static", "hello-distroless"])
def test_round_trip_on_sample_layers(sample):
    image = open_image(f"sample:{sample}", Options(no_cache=True))
    try:
        sizes = []
        for layer in image.layers:  # empty layers included (distroless has one)
            index = index_layer(layer)
            sizes.append(len(index))
            back = loads(dumps(index))
            assert back is not None
            same(index, back)
        assert max(sizes) > 0
    finally:
        image.close()


def _odd_layer() -> bytes:
    return make_layer({
        "etc/os-release": b"ID=test\n", "bin/x": Entry("file", b"\x7fELF" + b"\0" * 80, mode=0o4755),
        "l": Entry("symlink", target="/bin/x"), "h": Entry("hardlink", target="bin/x"),
        "raw-\udce9": b"non-utf8", "d": Entry("dir", mode=0o1777, uid=3000000),
    }, whiteouts=["gone"], opaque=["var"], compression=None)


@pytest.fixture
def built(tmp_path):
    layers = [make_layer({"a/b": b"1" * 100, "etc/passwd": b"root:x:0:0::/root:/bin/sh\n"}),
              _odd_layer()]
    write_oci_layout(tmp_path / "oci", [ImageSpec(layers, ref_name="t")])
    return f"oci:{tmp_path / 'oci'}:t"


def export_text(reference: str, options: Options, opened: list | None = None) -> str:
    image = open_image(reference, options)
    if opened is not None:  # count every blob read
        for layer in image.layers:
            inner = layer.opener

            def counting(inner=inner, digest=layer.digest):
                opened.append(digest)
                return inner()

            layer.opener = counting
    try:
        out = io.StringIO()
        write_export(analyze(image, options), out)
        return out.getvalue()
    finally:
        image.close()


def test_warm_export_reads_no_blob_and_is_identical(tmp_path, built):
    options = Options(cache_dir=tmp_path / "cache")
    opened: list[str] = []
    cold = export_text(built, options, opened)
    assert len(opened) == 2
    files = list((tmp_path / "cache").rglob("*.idx"))
    assert len(files) == 2
    opened.clear()
    warm = export_text(built, options, opened)
    assert opened == []
    assert warm == cold
    assert warm == export_text(built, Options(no_cache=True))


def _corrupt_byte(data: bytes) -> bytes:
    b = bytearray(data)
    b[len(b) // 2] ^= 0x01
    return bytes(b)


def _wrong_version(data: bytes) -> bytes:
    """A well-formed entry (valid CRC) that claims another format version."""
    index = loads(data)
    old = cache_mod.CACHE_VERSION
    cache_mod.CACHE_VERSION = old + 1
    try:
        return dumps(index)
    finally:
        cache_mod.CACHE_VERSION = old


DAMAGE = [
    ("corrupt-byte", _corrupt_byte),
    ("truncated", lambda d: d[: len(d) // 3]),
    ("empty", lambda d: b""),
    ("header-only", lambda d: d[:20]),
    ("wrong-magic", lambda d: b"NOTANIDX" + d[8:]),
    ("wrong-version", _wrong_version),
    ("garbage", lambda d: b"\xff" * len(d)),
]


@pytest.mark.parametrize("name,damage", DAMAGE, ids=[d[0] for d in DAMAGE])
def test_damaged_entry_is_discarded_and_rebuilt(tmp_path, built, name, damage):
    options = Options(cache_dir=tmp_path / "cache")
    good = export_text(built, options)
    entries = sorted((tmp_path / "cache").rglob("*.idx"))
    for path in entries:
        path.write_bytes(damage(path.read_bytes()))
        assert IndexCache(tmp_path / "cache").get(_diff_id(path)) is None
        assert not path.exists()  # discarded
    opened: list[str] = []
    assert export_text(built, options, opened) == good
    assert len(opened) == 2  # rebuilt from the blobs…
    opened.clear()
    assert export_text(built, options, opened) == good
    assert opened == []  # …and cached again


def test_damaged_entry_under_export_is_rebuilt(tmp_path, built):
    options = Options(cache_dir=tmp_path / "cache")
    good = export_text(built, options)
    for path in (tmp_path / "cache").rglob("*.idx"):
        path.write_bytes(_corrupt_byte(path.read_bytes()))
    opened: list[str] = []
    assert export_text(built, options, opened) == good
    assert len(opened) == 2


def _diff_id(path: Path) -> str:
    algo, _, hexdigest = path.stem.partition("-")
    return f"{algo}:{hexdigest}"


def test_entry_for_another_diff_id_is_not_trusted(tmp_path, built):
    options = Options(cache_dir=tmp_path / "cache")
    export_text(built, options)
    a, b = sorted((tmp_path / "cache").rglob("*.idx"))
    b.write_bytes(a.read_bytes())  # a valid entry under the wrong name
    assert IndexCache(tmp_path / "cache").get(_diff_id(b)) is None


def test_cache_format_header_is_json_and_versioned(tmp_path, built):
    from inspector.cache import unframe

    options = Options(cache_dir=tmp_path / "cache")
    export_text(built, options)
    path = next((tmp_path / "cache").rglob("*.idx"))
    header, _ = unframe(cache_mod.MAGIC, path.read_bytes())
    assert header["version"] == cache_mod.CACHE_VERSION
    assert header["key"] == _diff_id(path)  # the full key, inside the checksummed body
    assert header["code"] == IndexCache(tmp_path / "cache").store.code_digest


def _json_values():
    from hypothesis import strategies as st

    scalars = st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.text(max_size=8)
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=8)


def test_an_entry_of_any_header_shape_decodes_or_is_rejected():
    """A well-framed entry (valid CRC) whose header fields have random JSON shapes: the
    only outcomes are an index with the right field types or ``None``, never an exception."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    index = index_layer(_layer_of({"a": b"1", "b/c": b"22"}))
    header, sections = cache_mod.encode(index)
    body = memoryview(b"".join(sections))

    @settings(max_examples=300, deadline=None)
    @given(st.sampled_from(sorted(header)), _json_values())
    def check(field, value):
        changed = {**header, "key": index.diff_id, field: value}
        got = cache_mod.decode(changed, body)
        if got is not None:
            assert all(isinstance(w, str) for w in got.whiteouts + got.opaque)
            assert isinstance(got.compressed_size, int) and isinstance(got.digest, str)

    check()


def _layer_of(files: dict):
    from inspector.sources.base import Layer
    from tests.builders import diff_id_of, sha256

    blob = make_layer(files)
    return Layer(digest=sha256(blob), diff_id=diff_id_of(blob), media_type="", compressed_size=len(blob),
                 opener=lambda: io.BytesIO(blob))


@pytest.mark.parametrize("batch", [1, 2, 3, 5, 65536], ids=lambda b: f"batch={b}")
def test_put_streams_the_bytes_of_dumps_whatever_the_path_batch(tmp_path, monkeypatch, batch):
    """``put`` encodes the path column ``PATH_BATCH`` names at a time straight into the
    entry; the file is byte for byte the whole ``dumps`` and reads back the same."""
    monkeypatch.setattr(cache_mod, "PATH_BATCH", batch)
    index = index_layer(_layer_of({"a": b"1", "b/c": b"22", "b/d": b"", "é-\udce9": b"x"}))
    store = IndexCache(tmp_path)
    store.put(index)
    data = store.store.path(index.diff_id).read_bytes()
    assert data == dumps(index, store.store.code_digest)
    same(store.get(index.diff_id), index)
