"""Symlinks at the edges (issue 23, items 1–3): links to ``/``, ``.`` and ``..``, links
whose targets run through themselves, and targets of 100,000 components. They are legal
images: every analysing command answers normally (exit 0, never "please report this"),
resolution is iterative with the kernel's 40 hops and says "symlink loop", and a long
target costs linear memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from inspector import cli
from inspector.catalog import fspath
from inspector.catalog.fspath import LOOP, MISSING, NOT_DIR, TOO_LONG, Lookup, Resolver
from inspector.index import tarscan
from inspector.index.merge import merge
from tests.builders import Entry, ImageSpec, make_layer, make_tar, write_oci_layout
from tests.hostile.clirun import assert_one_line_error, export
from tests.hostile.tarbytes import archive, gnu_long, member, pax
from tests.index.helpers import walk_bytes

ROOT = Path(__file__).resolve().parents[2]
DEEP = "/".join(["x"] * 100_000)  # 200 kB: one PAX linkpath


def accelerator(monkeypatch, pure: str) -> None:
    """In this process, the C loops on (``"0"``) or the Python references (``"1"``, as
    ``INSPECTOR_PURE=1`` gives a fresh process)."""
    monkeypatch.setenv("INSPECTOR_PURE", pure)
    if pure == "1":
        for name in ("prefix_sums", "render_rows", "json_strings", "parents", "classify_rows"):
            monkeypatch.setattr(tarscan, name, None)


def L(target: str) -> Entry:
    return Entry("symlink", target=target)


def _chain(n: int) -> dict:
    """``l0 -> l1 -> … -> l{n}``, ``l{n}`` a file: following ``l0`` takes ``n`` hops."""
    return {**{f"l{i}": L(f"l{i + 1}") for i in range(n)}, f"l{n}": b"end"}


def _fs(files: dict):
    return merge([walk_bytes(make_tar(files))])


BASE = {"d/x": b"x", "usr/bin/sh": b"#!", "f": b"file"}
#: (name, extra entries, path looked up, expected Lookup)
RESOLVE = [
    ("link-to-root", {"r": L("/")}, "/r", Lookup("/")),
    ("through-link-to-root", {"r": L("/")}, "/r/r/d/x", Lookup("/d/x")),
    ("link-to-dot", {"d/dot": L(".")}, "/d/dot", Lookup("/d")),
    ("link-to-dotdot", {"d/up": L("..")}, "/d/up", Lookup("/")),
    ("dotdot-above-root", {"d/up": L("../../../..")}, "/d/up/d/x", Lookup("/d/x")),
    ("dotdot-is-physical", {"d/in": L("/usr/bin")}, "/d/in/../bin/sh", Lookup("/usr/bin/sh")),
    ("usrmerge", {"bin": L("usr/bin")}, "/bin/sh", Lookup("/usr/bin/sh")),
    ("self-through", {"c": L("c/c")}, "/c", Lookup(None, LOOP)),
    ("lib-lib", {"lib": L("lib/lib")}, "/lib/x", Lookup(None, LOOP)),
    ("two-cycle", {"a": L("b"), "b": L("a")}, "/a", Lookup(None, LOOP)),
    ("self", {"s": L("s")}, "/s", Lookup(None, LOOP)),
    ("40-hops", _chain(40), "/l0", Lookup("/l40")),
    ("41-hops", _chain(41), "/l0", Lookup(None, LOOP)),
    ("dangling", {"g": L("nowhere")}, "/g", Lookup(None, MISSING)),
    ("through-a-file", {"t": L("f/x")}, "/t", Lookup(None, NOT_DIR)),
    ("file-then-dotdot", {"t": L("f/..")}, "/t", Lookup(None, NOT_DIR)),
    ("100k-components-missing", {"x": Entry("dir"), "a": L(DEEP)}, "/a", Lookup(None, MISSING)),
    ("100k-components-to-root", {"a": L("/" + "/".join([".."] * 100_000))}, "/a",
     Lookup("/")),
    ("empty-target", {"e": L("")}, "/e", Lookup("/")),
]


@pytest.mark.parametrize("case,extra,path,expected", RESOLVE, ids=[c[0] for c in RESOLVE])
def test_resolve(case, extra, path, expected):
    resolver = Resolver(_fs({**BASE, **extra}))
    assert resolver.lookup(path) == expected
    assert resolver.lookup(path) == expected  # again, from what the first walk kept
    assert resolver.resolve(path) == expected.path


def test_a_loop_met_late_is_still_a_loop_and_kept_links_count_their_hops():
    """``l0``'s 30 hops are kept after the first lookup; a second path that spends 20 hops
    before reaching ``l0`` must still fail (50 > 40), as the kernel counts every hop."""
    files = {**_chain(30), **{f"m{i}": L(f"m{i + 1}") for i in range(19)}, "m19": L("l0")}
    resolver = Resolver(_fs(files))
    assert resolver.lookup("/l0") == Lookup("/l30")
    assert resolver.lookup("/m0") == Lookup(None, LOOP)
    assert Resolver(_fs(files)).lookup("/m0") == Lookup(None, LOOP)  # cold: the same


def test_deep_real_directories_resolve_within_the_budget():
    """A symlink to a 3,000-level directory tree resolves (bisection over the run, not one
    probe per level); a walk that must build more than the budget says so."""
    deep = "/".join(["d"] * 3000)
    resolver = Resolver(_fs({deep + "/leaf": b"x", "to": L(deep + "/leaf")}))
    assert resolver.lookup("/to") == Lookup("/" + deep + "/leaf")
    back = "/".join([deep] + [".."] * 2999 + ["d"] * 2999) + "/leaf"  # ~3000 × 6 kB of ..
    resolver = Resolver(_fs({deep + "/leaf": b"x", "to": L(back)}))
    assert resolver.lookup("/to") == Lookup(None, TOO_LONG)


def test_follow_last_false_keeps_the_link():
    resolver = Resolver(_fs({**BASE, "c": L("c/c"), "d/up": L("..")}))
    assert resolver.lookup("/c", follow_last=False) == Lookup("/c")
    assert resolver.lookup("/d/up/d/x", follow_last=False) == Lookup("/d/x")
    assert resolver.parent_resolved("/d/up/f") == "/f"


# ---- every analysing command on such images ---------------------------------------------

IMAGES = [
    ("root-dot-dotdot", {"r": L("/"), "d/up": L(".."), "d/dot": L("."), "d/x": b"x",
                         "etc/passwd": b"root:x:0:0::/root:/r\n"}),
    ("loops", {"c": L("c/c"), "lib": L("lib/lib"), "bin/sh": L("/bin/sh"),
               "etc/passwd": b"root:x:0:0::/root:/bin/sh\n"}),
    ("100k-component-target", {"x": Entry("dir"), "a": L(DEEP), "b": L("a/x")}),
]
COMMANDS = [
    ("export", ["export", "{ref}", "-q"]),
    ("export-cyclonedx", ["export", "{ref}", "-q", "--format", "cyclonedx"]),
    ("compare", ["compare", "{ref}", "{ref}", "-q", "--format", "json"]),
    ("check", ["check", "{ref}", "-q", "--format", "json"]),
    ("audit", ["audit", "{ref}", "-q", "--format", "json"]),
]


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("links")
    refs = {}
    for name, files in IMAGES:
        write_oci_layout(root / name, [ImageSpec([make_layer(files)], ref_name="t")])
        refs[name] = f"oci:{root / name}:t"
    return refs


@pytest.mark.parametrize("pure", ["0", "1"], ids=["c", "pure"])
@pytest.mark.parametrize("command,argv", COMMANDS, ids=[c[0] for c in COMMANDS])
@pytest.mark.parametrize("image", [i[0] for i in IMAGES])
def test_every_command_analyses_the_image(images, capsys, monkeypatch, tmp_path, image,
                                          command, argv, pure):
    accelerator(monkeypatch, pure)
    capsys.readouterr()
    code = cli.main([a.format(ref=images[image]) for a in argv] + ["--no-cache"])
    out, err = capsys.readouterr()
    assert "please report this" not in err and "Traceback" not in err, err
    # check and audit exit 1 when a rule fails (the images have a shell or a login user)
    assert code in ((0, 1) if command in ("check", "audit") else (0,)), (code, err)
    if command == "audit":  # a failed image is a row with an error, not a crash
        assert [row.get("error") for row in json.loads(out)["images"]] == [None], out


#: the child's address-space limit and the peak resident memory it may report (~30 MB
#: here; the old walk kept every prefix of the target: past 8.7 GB, then MemoryError);
#: under AddressSanitizer (``make sanitize``) no address-space limit, 4× the memory
AS_LIMIT, RSS_LIMIT = 1 << 30, 256 << 20
ASAN = "asan" in os.environ.get("LD_PRELOAD", "")
_CHILD = """
import os, resource, sys
if "asan" not in os.environ.get("LD_PRELOAD", ""):  # ASan reserves terabytes of shadow
    resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from inspector import cli
code = cli.main(["export", sys.argv[1], "-q", "--no-cache", "-o", sys.argv[2]])
# VmHWM is this process's own peak: ru_maxrss would also carry the peak of the (v)forked
# pytest process, which Linux keeps across exec
hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")]
print(int(hwm[0].split()[1]) * 1024)
raise SystemExit(code)
"""


def test_a_100k_component_target_costs_linear_memory(tmp_path):
    """The whole analysis of a 200 kB layer holding one 100,000-component symlink target
    runs in a process of its own under a 1 GiB address-space limit, and its peak resident
    memory stays small."""
    write_oci_layout(tmp_path / "oci", [ImageSpec([make_layer(
        {"x": Entry("dir"), "a": L(DEEP), "b": L("a/x"), "c": L(DEEP.replace("x", "..")),
         "etc/passwd": b"root:x:0:0::/root:/a\n"})], ref_name="t")])
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD.format(limit=AS_LIMIT), f"oci:{tmp_path / 'oci'}:t",
         str(tmp_path / "out.json")],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "please report" not in proc.stderr
    assert int(proc.stdout.split()[-1]) < RSS_LIMIT * (4 if ASAN else 1)


def test_budget_constants_are_the_kernels_and_bounded():
    assert fspath.MAX_HOPS == 40
    assert fspath.WORK_BUDGET <= 1 << 24


#: a symlink target travels in the same extended headers as a long name, under the same
#: cap (``tarfields.MAX_EXT_HEADER``): past it the layer is refused with one line, as a
#: name of that length is — (name, layer tar, words the line names)
OVERLONG = 2 << 20
TARGET_BUDGET = [
    ("pax-linkpath-2MiB", archive(pax({"linkpath": "x" * OVERLONG}),
                                  member("l", typeflag=b"2"), member("ok", b"1")),
     ["PAX header", "too large"]),
    ("gnu-long-link-2MiB", archive(gnu_long(b"x" * OVERLONG, typeflag=b"K"),
                                   member("l", typeflag=b"2"), member("ok", b"1")),
     ["GNU long", "too large"]),
    ("pax-path-2MiB-for-comparison", archive(pax({"path": "x" * OVERLONG}),
                                             member("l", b"1")),
     ["PAX header", "too large"]),
]


@pytest.mark.parametrize("case,tar,words", TARGET_BUDGET, ids=[t[0] for t in TARGET_BUDGET])
def test_link_targets_have_the_names_budget(tmp_path, capsys, case, tar, words):
    write_oci_layout(tmp_path / "oci", [ImageSpec([tar], ref_name="t")])
    run = export(capsys, f"oci:{tmp_path / 'oci'}:t", tmp_path / "cache")
    assert_one_line_error(run, "layer 1", *words)
