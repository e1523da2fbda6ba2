"""The classifier's per-entry loop in C (``_tarscan.classify_rows``) decides exactly as the
Python loop (``classify.rows.tally_rows``), with the real rules: on random multi-layer
filesystems built from paths the rules care about (shells, package managers, docs,
libraries, certificates, bin directories, busybox links, scripts and ELF heads), with a
catalog owning some of them (OS and language packages, listed and unlisted)."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.catalog.builder import Catalog, Package
from inspector.classify import classify_image, default_rules
from inspector.index import tarscan
from inspector.index.entries import CHAR, DIR, FILE, HARDLINK, SYMLINK, LayerIndex
from inspector.index.merge import merge

pytestmark = pytest.mark.skipif(
    not tarscan.available() and os.environ.get("CI") != "true",
    reason="the C accelerator was not built (no compiler); under CI=true this fails")

DIRS = ["/usr/bin", "/bin", "/usr/sbin", "/usr/share/doc/bash", "/usr/lib/x86_64-linux-gnu",
        "/etc/ssl/certs", "/usr/share/zoneinfo/Europe", "/usr/local/man", "/opt/app", "/etc",
        "/usr/share/locale/de/LC_MESSAGES", "/var/lib/dpkg", "/usr/include", "/app", "",
        "/usr/lib/python3/site-packages/requests", "/usr/local/lib/node_modules/x"]
BASES = ["bash", "sh", "busybox", "ls", "apt", "dpkg", "python3", "gcc", "libc.so.6", "README",
         "copyright", "x.h", "app", "curl", "Paris", "ca.pem", "config.yaml", "é", "\udcff", "man"]
TARGETS = ["/bin/busybox", "busybox", "busybox/", "/usr/bin/bash", "../lib", "/usr/share/doc",
           "nowhere", "/usr/local/man", "/etc/ssl/certs/ca.pem", "/bin",
           # files outside the bin directories (a hardlink to one is decided as the file)
           "/opt/app/python3", "/app/curl", "/usr/lib/x86_64-linux-gnu/gcc", "/etc/apt"]
HEADS = [None, b"\x7fELF\x02\x01", b"#!/bin/sh\n", b"MZ", b""]
PACKAGES = [Package("deb", "bash", "5"), Package("deb", "coreutils", "9"),
            Package("deb", "dpkg", "1"), Package("deb", "not-in-the-table", "1"),
            Package("python", "requests", "2"), Package("apk", "busybox", "1")]

member = st.tuples(st.sampled_from(DIRS), st.sampled_from(BASES),
                   st.sampled_from([FILE, FILE, FILE, SYMLINK, HARDLINK, DIR, CHAR]),
                   st.integers(0, 1 << 40), st.sampled_from([0o644, 0o755, 0o4755, 0o700]),
                   st.sampled_from(TARGETS), st.sampled_from(HEADS))


def _layer(members) -> LayerIndex:
    index = LayerIndex(diff_id="sha256:test")
    seen = set()
    for directory, base, kind, size, mode, target, head in members:
        path = f"{directory}/{base}"
        if path in seen:
            continue
        seen.add(path)
        row = index.add(path, kind, size if kind == FILE else 0, mode, 0, 0)
        if kind in (SYMLINK, HARDLINK):
            index.targets[row] = target
        if kind == FILE and head is not None:
            index.heads[row] = head
    return index


def _classify(fs, catalog, loop):
    saved = tarscan.classify_rows
    tarscan.classify_rows = loop
    try:
        return classify_image(fs, catalog, default_rules())
    finally:
        tarscan.classify_rows = saved


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(member, max_size=25), min_size=1, max_size=3), st.data())
def test_c_loop_decides_as_the_python_loop(layers, data):
    fs = merge([_layer(m) for m in layers])
    owned = [p for p in fs.sorted_paths() if data.draw(st.booleans())]
    owners = {p: data.draw(st.integers(0, len(PACKAGES) - 1)) for p in owned}
    catalog = data.draw(st.sampled_from([None, Catalog(packages=PACKAGES, owners=owners)]))
    fast = _classify(fs, catalog, tarscan._tarscan.classify_rows)
    slow = _classify(fs, catalog, None)
    paths = fs.sorted_paths()
    assert [fast.category_of(p) for p in paths] == [slow.category_of(p) for p in paths]
    assert {n: (t.files, t.bytes, t.paths) for n, t in fast.totals.items()} == \
        {n: (t.files, t.bytes, t.paths) for n, t in slow.totals.items()}
    assert fast.findings == slow.findings


def test_bytes_past_int64_fall_back_to_the_python_loop():
    """The C loop declines a category whose bytes would not fit 64 bits; Python sums them."""
    index = LayerIndex(diff_id="sha256:test")
    for name in ("a", "b", "c"):
        index.add(f"/opt/{name}", FILE, 2**62, 0o644, 0, 0)
    cls = classify_image(merge([index]), None, default_rules())
    assert cls.totals["application"].bytes == 3 * 2**62
    assert cls.totals["application"].files == 3


def test_samples_classify_the_same_in_c_and_python(tmp_path):
    """End to end on every sample's analysis (real rules, real catalogs)."""
    from inspector.analysis import analyze
    from inspector.options import Options
    from inspector.sources.resolve import open_image
    from inspector.sources.samples import sample_names

    options = Options(cache_dir=None)
    for name in sample_names():
        a = analyze(open_image(f"sample:{name}", options), options)
        fast = _classify(a.fs, a.catalog, tarscan._tarscan.classify_rows)
        slow = _classify(a.fs, a.catalog, None)
        assert fast.categories == slow.categories, name
        assert {n: (t.files, t.bytes, t.paths) for n, t in fast.totals.items()} == \
            {n: (t.files, t.bytes, t.paths) for n, t in slow.totals.items()}, name
