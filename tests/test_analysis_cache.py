"""The analysis cache: a warm open gives the same packages, categories, owners, findings
and efficiency as a cold one, without cataloguing or classifying again; a damaged cache
file is discarded, never trusted."""

from __future__ import annotations

from pathlib import Path

import pytest

import inspector.analysis as analysis_mod
from inspector import analysis_cache
from inspector.analysis import analyze
from inspector.classify import Classification, categories_map
from inspector.options import Options
from inspector.sources.resolve import open_image


def _summary(a):
    return (
        [p.as_json() for p in a.catalog.packages],
        dict(a.catalog.owners),
        dict(a.classification.categories),
        {n: t.as_json() for n, t in a.classification.totals.items()},
        a.classification.findings,
        a.efficiency.as_json(),
        a.efficiency.inefficient,
    )


def _run(ref: str, cache: Path, **kw):
    options = Options(cache_dir=cache, **kw)
    with open_image(ref, options) as image:
        return analyze(image, options)


@pytest.mark.parametrize("ref", ["sample:distroless-static-debug", "sample:hello-distroless"])
def test_warm_analysis_equals_cold_and_skips_classification(ref, tmp_path, monkeypatch):
    cold = _summary(_run(ref, tmp_path))
    assert list((tmp_path / "analysis").rglob("*.bin")), "nothing was cached"

    def forbidden(*a, **k):
        raise AssertionError("catalog/classify ran on a warm cache")

    monkeypatch.setattr(analysis_mod, "catalog_image", forbidden)
    monkeypatch.setattr(analysis_mod, "classify_image", forbidden)
    assert _summary(_run(ref, tmp_path)) == cold


CORRUPTIONS = [
    ("flipped byte", lambda b: b[:40] + bytes([b[40] ^ 0xFF]) + b[41:]),
    ("truncated", lambda b: b[: len(b) // 2]),
    ("empty", lambda b: b""),
    ("wrong magic", lambda b: b"XXXXXXXX" + b[8:]),
]


@pytest.mark.parametrize("name,damage", CORRUPTIONS, ids=[c[0] for c in CORRUPTIONS])
def test_damaged_cache_file_is_discarded_and_rebuilt(name, damage, tmp_path):
    ref = "sample:distroless-static"
    cold = _summary(_run(ref, tmp_path))
    (path,) = (tmp_path / "analysis").rglob("*.bin")
    path.write_bytes(damage(path.read_bytes()))
    assert _summary(_run(ref, tmp_path)) == cold
    assert path.read_bytes()[:8] == analysis_cache.MAGIC  # rewritten whole


def test_no_cache_writes_nothing(tmp_path):
    _run("sample:distroless-static", tmp_path, no_cache=True)
    assert not (tmp_path / "analysis").exists()


# --- the rendered files array of `export` ---------------------------------------------

def _export(ref: str, cache: Path, out: Path, *extra: str) -> bytes:
    from inspector.cli import main

    assert main(["export", ref, "-q", "-o", str(out), "--cache-dir", str(cache), *extra]) == 0
    return out.read_bytes()


EXPORT_DAMAGE = [
    ("flipped byte", lambda b: b[:-20] + bytes([b[-20] ^ 0xFF]) + b[-19:]),
    ("truncated", lambda b: b[: len(b) // 2]),
    ("not zstd", lambda b: b"{}" + b[2:]),
]


@pytest.mark.parametrize("name,damage", EXPORT_DAMAGE, ids=[d[0] for d in EXPORT_DAMAGE])
def test_export_files_cache_is_exact_and_never_trusted_damaged(name, damage, tmp_path):
    ref = "sample:distroless-static-debug"
    cold = _export(ref, tmp_path / "c", tmp_path / "cold.json")
    assert _export(ref, tmp_path / "nc", tmp_path / "nc.json", "--no-cache") == cold
    assert not (tmp_path / "nc").exists()
    # the files array, and the document's tail (packages, base/own sides): each damaged
    entries = sorted((tmp_path / "c" / "export").rglob("*.zst"))
    assert len(entries) == 2
    assert _export(ref, tmp_path / "c", tmp_path / "warm.json") == cold
    for path in entries:
        path.write_bytes(damage(path.read_bytes()))
        assert _export(ref, tmp_path / "c", tmp_path / "again.json") == cold


# --- caches are keyed by the code that wrote them ----------------------------------------

def test_entries_written_by_other_code_are_not_used(tmp_path, monkeypatch):
    """A walker fix or a new cataloger must not be answered from an entry an older build
    wrote: the source digest is part of every cache key."""
    import inspector.codehash as codehash
    from inspector.analysis_cache import AnalysisCache
    from inspector.index.cache import IndexCache

    ref = "sample:distroless-static"
    a = _run(ref, tmp_path)
    diff_id = a.layers[0].diff_id
    assert IndexCache(tmp_path).get(diff_id) is not None
    assert AnalysisCache(tmp_path).get([i.diff_id for i in a.layers], a.fs) is not None

    monkeypatch.setattr(codehash, "source_digest", lambda parts: "0" * 16)
    assert IndexCache(tmp_path).get(diff_id) is None
    assert AnalysisCache(tmp_path).get([i.diff_id for i in a.layers], a.fs) is None


def test_source_digest_changes_with_the_source(tmp_path, monkeypatch):
    import inspector.codehash as codehash

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").write_text("y = 2\n")
    monkeypatch.setattr(codehash, "PACKAGE", tmp_path)
    codehash.forget()
    first = codehash.source_digest(("pkg", "b.py"))
    (tmp_path / "pkg" / "a.py").write_text("x = 3\n")
    codehash.forget()
    assert codehash.source_digest(("pkg", "b.py")) != first
    codehash.forget()


def _reference_categories(paths, cats, names):
    """The per-path loop ``categories_map`` and ``_per_category`` replace (what the cache
    decoded before)."""
    categories = {p: names[c] for p, c in zip(paths, cats, strict=True) if c != analysis_cache.NO_CODE}
    per_name: dict[str, list[str]] = {}
    for path, name in categories.items():
        per_name.setdefault(name, []).append(path)
    return categories, per_name


def test_category_columns_decode_as_the_per_path_loop_did():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.text(min_size=1, max_size=3), unique=True, max_size=40),
           st.lists(st.text(max_size=4), unique=True, min_size=1, max_size=6), st.data())
    def check(paths, names, data):
        paths.sort()
        codes = st.sampled_from([*range(len(names)), analysis_cache.NO_CODE])
        cats = bytes(data.draw(st.lists(codes, min_size=len(paths), max_size=len(paths))))
        categories = categories_map(paths, cats, names)
        per_code = analysis_cache._per_category(paths, cats, names)
        want, want_per_name = _reference_categories(paths, cats, names)
        assert list(categories.items()) == list(want.items())  # same order too
        assert dict(per_code) == want_per_name and len(per_code) == len(want_per_name)
        cls = Classification(codes=cats, names=names, paths=paths)
        assert [cls.category_of(p) for p in paths] == [want.get(p) for p in paths]
        assert cls.category_of("\U0010ffff" * 5) is None  # after every path
        assert cls.count() == len(want)
        assert cls.column(paths) == (cats, names)
        assert cls.categories == want

    check()


BAD_COLUMNS = [
    ("code past the names", ["a", "b"], bytes([0, 2])),
    ("duplicate names", ["a", "a"], bytes([0, 1])),
    ("a name not a string", ["a", 3], bytes([0, 1])),
]


@pytest.mark.parametrize("name,names,cats", BAD_COLUMNS, ids=[b[0] for b in BAD_COLUMNS])
def test_category_columns_that_do_not_match_their_names_are_rejected(name, names, cats):
    with pytest.raises(ValueError):
        analysis_cache._per_category(["/x", "/y"], cats, names)


def test_warm_categories_and_owners_are_the_cold_ones_in_path_order(tmp_path):
    ref = "sample:distroless-static-debug"
    cold = _run(ref, tmp_path)
    warm = _run(ref, tmp_path)
    order = {p: i for i, p in enumerate(warm.fs.sorted_paths())}
    for a, b in ((cold.classification.categories, warm.classification.categories),
                 (cold.catalog.owners, warm.catalog.owners)):
        assert a and b == a
        assert list(b) == sorted(b, key=order.__getitem__)
