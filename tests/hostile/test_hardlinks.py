"""Hardlinks are their inodes (issue 23, items 4–5), against the real part: each image is
built here, unpacked by ``umoci unpack``, and the rootfs is ``lstat``ed.

- a hardlink's mode, owner and kind are its inode's, whatever its own tar header says
  (umoci applies no metadata to a hardlink), in the export (C and Python renderers),
  findings and ``check``;
- a group whose regular file a later layer removed or replaced still holds its data in
  the links: ``size.files`` is the distinct-inode bytes of the rootfs (``st_ino`` deduped),
  and ``reclaimable_bytes`` is the tars' regular-file bytes minus that.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest

from inspector import cli
from inspector.analysis import analyze
from inspector.content import render_content, view_text
from inspector.index.merge import merge
from inspector.options import Options
from inspector.sources.resolve import open_image
from tests.builders import Entry, ImageSpec, make_layer, make_tar, write_oci_layout
from tests.hostile.test_links import accelerator
from tests.index.helpers import walk_bytes
from tests.tools import require_tool

DATA = b"E" * 100


def H(target: str, mode: int = 0o644, uid: int = 0, gid: int = 0) -> Entry:
    """A hardlink whose own header says ``mode``/``uid``/``gid`` (0644 root by default)."""
    return Entry("hardlink", target=target, mode=mode, uid=uid, gid=gid)


SU = Entry("file", DATA, mode=0o4755, uid=1000, gid=1000)
#: (name, layers as (files, whiteouts)) — each legal, each unpacked by umoci
CASES = [
    ("header-0644-to-4755-same-layer",
     [({"usr/bin/su": SU, "usr/bin/su2": H("usr/bin/su")}, [])]),
    ("header-0644-to-4755-upper-layer",
     [({"usr/bin/su": SU}, []), ({"opt/su": H("usr/bin/su", 0o600, 7, 7)}, [])]),
    ("to-2777-setgid-world-writable",
     [({"f": Entry("file", b"w" * 10, mode=0o2777, uid=5, gid=6), "g": H("f")}, [])]),
    ("target-removed-later",
     [({"f": DATA, "h": H("f")}, []), ({"keep": b"k"}, ["f"])]),
    ("target-replaced-later",
     [({"f": SU, "h": H("f")}, []), ({"f": b"new"}, [])]),
    ("target-dir-removed-later",
     [({"d/f": DATA, "h": H("d/f")}, []), ({}, ["d"])]),
    ("two-links-target-removed",
     [({"f": DATA, "z": H("f"), "a": H("f")}, []), ({}, ["f"])]),
    ("chain-target-and-first-link-removed",
     [({"f": DATA, "h1": H("f")}, []), ({"h2": H("h1")}, []), ({}, ["f", "h1"])]),
    ("link-written-before-whiteout-same-layer",
     [({"f": SU}, []), ({"h": H("f")}, ["f"])]),
    ("to-fifo", [({"p": Entry("fifo", mode=0o622, uid=3), "q": H("p")}, [])]),
    ("to-symlink", [({"t": b"x", "s": Entry("symlink", target="t"), "h": H("s")}, [])]),
]


def _layers(case) -> list[bytes]:
    return [make_layer(files, whiteouts) for files, whiteouts in case]


def _tar_file_bytes(blobs: list[bytes]) -> int:
    total = 0
    for blob in blobs:
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob))) as tar:
            total += sum(m.size for m in tar.getmembers() if m.isreg())
    return total


def _rootfs(root: Path) -> tuple[dict[str, tuple], int]:
    """path → (kind, mode, uid, gid, symlink target) and the distinct-inode bytes."""
    out, inodes = {}, {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            kind = ("dir" if stat.S_ISDIR(st.st_mode) else "symlink" if stat.S_ISLNK(st.st_mode)
                    else "fifo" if stat.S_ISFIFO(st.st_mode) else "file")
            out["/" + os.path.relpath(full, root)] = (
                kind, None if kind == "symlink" else stat.S_IMODE(st.st_mode), st.st_uid,
                st.st_gid, os.readlink(full) if kind == "symlink" else None)
            if kind == "file":
                inodes[st.st_ino] = st.st_size
    return out, sum(inodes.values())


def _export_view(doc: dict) -> dict[str, tuple]:
    out = {}
    for f in doc["files"]:
        kind = "file" if f["type"] == "hardlink" else f["type"]
        out[f["path"]] = (kind, None if kind == "symlink" else int(f["mode"], 8), f["uid"],
                          f["gid"], f["target"] if kind == "symlink" else None)
    return out


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory) -> dict[str, tuple[str, dict, int, int]]:
    """Per case: the image reference, umoci's rootfs view, its distinct-inode bytes and
    the tars' regular-file bytes."""
    umoci = require_tool("umoci")
    if os.geteuid() != 0:
        pytest.skip("umoci unpack keeps owners and setuid bits only as root")
    out = {}
    for name, case in CASES:
        root = tmp_path_factory.mktemp(name)
        blobs = _layers(case)
        write_oci_layout(root / "oci", [ImageSpec(blobs, ref_name="t")])
        subprocess.run([umoci, "unpack", "--image", f"{root / 'oci'}:t", str(root / "bundle")],
                       check=True, capture_output=True)
        view, inode_bytes = _rootfs(root / "bundle" / "rootfs")
        out[name] = (f"oci:{root / 'oci'}:t", view, inode_bytes, _tar_file_bytes(blobs))
    return out


def _export(capsys, ref: str, *extra: str) -> dict:
    capsys.readouterr()
    assert cli.main(["export", ref, "-q", "--no-cache", *extra]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("pure", ["0", "1"], ids=["c", "pure"])
@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_export_is_what_umoci_unpacks(unpacked, capsys, monkeypatch, name, pure):
    accelerator(monkeypatch, pure)
    ref, view, inode_bytes, tar_bytes = unpacked[name]
    doc = _export(capsys, ref)
    got = _export_view(doc)
    diff = {p: (got.get(p), view.get(p)) for p in set(got) | set(view) if got.get(p) != view.get(p)}
    assert not diff, diff
    # bytes: each inode once (the rootfs), the categories summing to it, squash savings
    assert doc["size"]["files"] == inode_bytes
    assert sum(c["bytes"] for c in doc["categories"].values()) == inode_bytes
    assert sum(f["size"] for f in doc["files"] if f["type"] == "file") == inode_bytes
    assert doc["efficiency"]["reclaimable_bytes"] == tar_bytes - inode_bytes
    # findings: exactly the rootfs' setuid / setgid non-directories
    for key, bit in (("setuid", stat.S_ISUID), ("setgid", stat.S_ISGID)):
        want = sorted(p for p, (kind, mode, *_) in view.items()
                      if kind != "dir" and mode is not None and mode & bit)
        assert doc["findings"][key] == want, key
    # a hardlink row points at a regular file of the export, holding its inode
    rows = {f["path"]: f for f in doc["files"]}
    for f in doc["files"]:
        if f["type"] == "hardlink":
            assert rows[f["target"]]["type"] == "file", f


def test_check_fails_the_setuid_hardlink(unpacked, capsys):
    """The gate sees the link as the setuid file it is (offending paths from findings)."""
    ref = unpacked["header-0644-to-4755-upper-layer"][0]
    capsys.readouterr()
    code = cli.main(["check", ref, "-q", "--no-cache", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    verdicts = {v["rule"]: v for v in doc["images"][0]["verdicts"]}
    setuid = [v for rule, v in verdicts.items() if "setuid" in rule]
    assert code == 1 and setuid and "/opt/su" in setuid[0]["offending"], setuid


#: (name, layers, path, expected (kind, size, mode, uid) of the merged row), no umoci
MERGED = [
    ("dangling-keeps-its-header", [{"h": H("nowhere", 0o600, 9)}], "/h",
     ("hardlink", 0, 0o600, 9)),
    ("shared-layer-not-rewritten", [{"f": SU, "h": H("f")}], "/h", ("hardlink", 100, 0o4755, 1000)),
]


@pytest.mark.parametrize("case,layers,path,expected", MERGED, ids=[m[0] for m in MERGED])
def test_merged_rows(case, layers, path, expected):
    indexes = [walk_bytes(make_tar(files)) for files in layers]
    before = [bytes(ix.modes) for ix in indexes]
    fs = merge(indexes)
    assert (fs.kind_name(path), fs.size(path), fs.mode(path), fs.owner(path)[0]) == expected
    # the layer indexes themselves (cached, shared between images) are never rewritten
    assert [bytes(ix.modes) for ix in indexes] == before
    assert fs.tar_layers == indexes


#: (case, path): a link whose file's path is gone shows the data umoci unpacked there
VIEWED = [("target-removed-later", "/h"), ("target-replaced-later", "/h"),
          ("two-links-target-removed", "/z"), ("chain-target-and-first-link-removed", "/h2"),
          ("header-0644-to-4755-upper-layer", "/opt/su")]


@pytest.mark.parametrize("case,path", VIEWED, ids=[v[0] for v in VIEWED])
def test_viewer_reads_the_inodes_data(unpacked, tmp_path, case, path):
    ref = unpacked[case][0]
    options = Options(no_cache=True)
    image = open_image(ref, options)
    fs = analyze(image, options).fs
    rootfs = Path(ref[len("oci:"):-len(":t")]).parent / "bundle" / "rootfs"
    assert view_text(image, fs, path) == render_content((rootfs / path[1:]).read_bytes(), False)


@pytest.mark.parametrize("case,path", VIEWED[:2], ids=[v[0] for v in VIEWED[:2]])
def test_tui_viewer_reads_the_inodes_data(unpacked, tmp_path, case, path):
    """``v`` on the link in the TUI shows the bytes umoci unpacked at it."""
    from inspector.tui.app import InspectorApp
    from inspector.tui.screens.viewer import ContentScreen
    from inspector.tui.widgets.file_view import FileView
    from tests.tui.helpers import settle, sync

    ref = unpacked[case][0]
    rootfs = Path(ref[len("oci:"):-len(":t")]).parent / "bundle" / "rootfs"
    want = render_content((rootfs / path[1:]).read_bytes(), False)

    @sync
    async def run() -> None:
        app = InspectorApp([ref], Options(cache_dir=tmp_path / "cache"))
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            assert app.screen.query_one("#files", FileView).go_to(path)
            await pilot.press("v")
            await settle(pilot)
            assert isinstance(app.screen, ContentScreen)
            assert app.screen.text == want

    run()
