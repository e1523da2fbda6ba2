"""Files and layers side by side, on images written in code: only-in, changed by
type/size/mode/target, common; shared layers; three images; errors close every image."""

from __future__ import annotations

import pytest

import inspector.analysis as analysis_mod
from inspector.compare import compare_references
from inspector.errors import ImageNotFound
from tests.builders import diff_id_of
from tests.compare.helpers import Entry, layer, layout

SH = Entry("file", b"#!/bin/sh\n", mode=0o755)

# (name, image a's layers, image b's layers, only_in [a, b], changed {path: reasons}, common)
FILE_CASES = [
    ("only in a", [{"bin/sh": SH, "etc/hostname": b"a\n"}], [{"etc/hostname": b"a\n"}],
     [["/bin/sh"], []], {}, 1),
    ("only in b", [{"etc/hostname": b"a\n"}], [{"etc/hostname": b"a\n", "app": b"x"}],
     [[], ["/app"]], {}, 1),
    ("changed by size", [{"etc/os-release": b"12\n"}], [{"etc/os-release": b"12.5\n"}],
     [[], []], {"/etc/os-release": ("size",)}, 0),
    ("changed by mode", [{"bin/x": Entry("file", b"x", mode=0o755)}],
     [{"bin/x": Entry("file", b"x", mode=0o4755)}],
     [[], []], {"/bin/x": ("mode",)}, 0),
    ("changed by target", [{"bin/sh": Entry("symlink", target="dash")}],
     [{"bin/sh": Entry("symlink", target="bash")}],
     [[], []], {"/bin/sh": ("target",)}, 0),
    ("changed by type: file vs symlink", [{"bin/sh": Entry("file", b"", mode=0o777)}],
     [{"bin/sh": Entry("symlink", target="busybox", mode=0o777)}],
     [[], []], {"/bin/sh": ("type", "target")}, 0),
    ("changed by type: directory vs file", [{"opt/app": Entry("dir", mode=0o755)}],
     [{"opt/app": Entry("file", b"", mode=0o755)}],
     [[], []], {"/opt/app": ("type",)}, 0),
    ("hardlink vs copy of the same size", [{"a": b"12345", "b": Entry("hardlink", target="a")}],
     [{"a": b"12345", "b": b"12345"}],
     [[], []], {"/b": ("type", "target")}, 1),
    ("owner alone is not a change", [{"f": Entry("file", b"x", uid=0)}],
     [{"f": Entry("file", b"x", uid=1000)}], [[], []], {}, 1),
    ("whiteout in an upper layer removes the file",
     [{"usr/bin/apt": b"apt", "etc/x": b"1"}, layer({}, whiteouts=["usr/bin/apt"])],
     [{"etc/x": b"1"}], [[], []], {}, 1),
    ("directories alone are not counted", [{"usr/share/doc": Entry("dir")}],
     [{"var/empty": Entry("dir")}], [[], []], {}, 0),
    ("identical images", [{"etc/passwd": b"root:x:0:0::/root:/sbin/nologin\n"}],
     [{"etc/passwd": b"root:x:0:0::/root:/sbin/nologin\n"}], [[], []], {}, 1),
]


def _layers(specs) -> list[bytes]:
    return [s if isinstance(s, bytes) else layer(s) for s in specs]


@pytest.mark.parametrize(("name", "a", "b", "only_in", "changed", "common"), FILE_CASES,
                         ids=[c[0] for c in FILE_CASES])
def test_file_diff(tmp_path, options, name, a, b, only_in, changed, common):
    refs = layout(tmp_path / "oci", {"a": _layers(a), "b": _layers(b)})
    result = compare_references([refs["a"], refs["b"]], options)
    fd = result.files
    assert [[r.path for r in refs_] for refs_ in fd.only_in] == only_in
    assert {c.path: c.reasons for c in fd.changed} == changed
    assert fd.common == common
    assert fd.partial == 0


def test_changed_file_carries_both_sides(tmp_path, options):
    refs = layout(tmp_path / "oci", {
        "a": [layer({"bin/sh": Entry("symlink", target="dash")})],
        "b": [layer({"bin/sh": Entry("file", b"busybox!", mode=0o755)})]})
    (change,) = compare_references([refs["a"], refs["b"]], options).files.changed
    a, b = change.per_image
    assert (a.type, a.target, a.size) == ("symlink", "dash", 0)
    assert (b.type, b.target, b.size, b.mode) == ("file", None, 8, 0o755)
    assert change.reasons == ("type", "size", "mode", "target")


def test_only_in_records_size_mode_and_type(tmp_path, options):
    refs = layout(tmp_path / "oci", {
        "a": [layer({"usr/bin/su": Entry("file", b"s" * 1234, mode=0o4755)})],
        "b": [layer({"app": b"x"})]})
    result = compare_references([refs["a"], refs["b"]], options)
    (su,) = result.files.only_in[0]
    assert (su.path, su.type, su.size, su.mode) == ("/usr/bin/su", "file", 1234, 0o4755)


def test_shared_layers_named_by_diff_id(tmp_path, options):
    base = layer({"etc/os-release": b"ID=debian\n"})
    app = layer({"app": b"app"})
    tools = layer({"bin/sh": SH})
    refs = layout(tmp_path / "oci", {"a": [base, app], "b": [base, tools], "c": [base]})
    result = compare_references([refs["a"], refs["b"], refs["c"]], options)
    assert [(s.diff_id, s.images) for s in result.shared_layers] == [(diff_id_of(base), [0, 1, 2])]
    shared = result.shared_layers[0]
    assert shared.compressed_size == len(base)
    assert [la.shared_with for la in result.images[0].layers] == [[1, 2], []]
    assert [la.shared_with for la in result.images[2].layers] == [[0, 1]]
    assert [im.compressed_size for im in result.images] == [
        len(base) + len(app), len(base) + len(tools), len(base)]


def test_shared_layer_is_indexed_once(tmp_path, options, monkeypatch):
    """One LayerMemo for the run: with the cache off, a layer that all images share is
    still read once."""
    base = layer({"etc/os-release": b"ID=debian\n", "usr/lib/libc.so.6": b"\x7fELF" * 100})
    refs = layout(tmp_path / "oci", {"a": [base, layer({"a": b"1"})],
                                     "b": [base, layer({"b": b"2"})],
                                     "c": [base, layer({"c": b"3"})]})
    seen: list[str] = []
    real = analysis_mod.index_layer

    def counting(layer_, **kw):
        seen.append(layer_.diff_id)
        return real(layer_, **kw)

    monkeypatch.setattr(analysis_mod, "index_layer", counting)
    options.no_cache = True
    compare_references([refs["a"], refs["b"], refs["c"]], options)
    assert seen.count(diff_id_of(base)) == 1
    assert len(seen) == 4


def test_three_images(tmp_path, options):
    refs = layout(tmp_path / "oci", {
        "a": [layer({"bin/sh": SH, "etc/x": b"1", "etc/ab": b"ab"})],
        "b": [layer({"etc/x": b"1", "etc/ab": b"ab", "etc/bc": b"bc"})],
        "c": [layer({"etc/x": b"22", "etc/bc": b"bc", "app": b"app"})]})
    result = compare_references([refs["a"], refs["b"], refs["c"]], options)
    fd = result.files
    assert [[r.path for r in x] for x in fd.only_in] == [["/bin/sh"], [], ["/app"]]
    assert [(c.path, c.reasons) for c in fd.changed] == [("/etc/x", ("size",))]
    assert fd.changed[0].per_image[1].size == 1
    assert fd.partial == 2  # /etc/ab in a and b, /etc/bc in b and c
    assert fd.common == 0
    assert result.labels == ["oci:a", "oci:b", "oci:c"]  # layout directory "oci", tags a b c
    assert [len(r.per_image) for r in result.categories] == [3] * len(result.categories)


def test_missing_image_closes_the_others(tmp_path, options):
    refs = layout(tmp_path / "oci", {"a": [layer({"x": b"x"})]})
    closed: list[str] = []

    def analyze(reference, opts, memo):
        from inspector.analysis import analyze as real
        from inspector.sources.resolve import open_image

        image = open_image(reference, opts)
        image.closer = lambda: closed.append(reference)
        return real(image, opts, memo=memo)

    with pytest.raises(ImageNotFound):
        compare_references([refs["a"], f"oci:{tmp_path}/nowhere:a"], options, analyze=analyze)
    assert closed == [refs["a"]]


def test_images_are_closed_after_compare(tmp_path, options):
    refs = layout(tmp_path / "oci", {"a": [layer({"x": b"x"})], "b": [layer({"y": b"y"})]})
    closed: list[str] = []

    def analyze(reference, opts, memo):
        from inspector.analysis import analyze as real
        from inspector.sources.resolve import open_image

        image = open_image(reference, opts)
        image.closer = lambda: closed.append(reference)
        return real(image, opts, memo=memo)

    compare_references([refs["a"], refs["b"]], options, analyze=analyze)
    assert sorted(closed) == sorted(refs.values())


def test_switch_interval_restored(tmp_path, options):
    """Concurrent images must not leave analysis's short GIL switch interval behind."""
    import sys

    refs = layout(tmp_path / "oci", {n: [layer({f"{n}{i}": b"x"}) for i in range(3)]
                                     for n in ("a", "b", "c")})
    before = sys.getswitchinterval()
    for _ in range(3):
        options.no_cache = True
        compare_references(list(refs.values()), options)
        assert sys.getswitchinterval() == before
