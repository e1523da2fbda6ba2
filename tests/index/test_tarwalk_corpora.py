"""Named edge cases for the tar walker: archives made by GNU tar (sparse files, every
format), damaged streams, unsafe names, whiteout markers, captured content."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from inspector.errors import TarError
from inspector.index import capture
from tests.builders import Entry, make_tar
from tests.index.helpers import (
    GO_FLOOR_EDGES,
    chunked,
    random_sizes,
    reference_rows,
    rows,
    walk_bytes,
)
from tests.tools import require_tool

MIB = 1 << 20


def gnu_tar(src: Path, *args: str) -> bytes:
    tar = require_tool("tar")
    return subprocess.run([tar, "-C", str(src), "--numeric-owner", *args, "-cf", "-", "."],
                          check=True, capture_output=True).stdout


# --- sparse files: apparent size, never materialised ------------------------------------

@pytest.mark.parametrize("args", [
    pytest.param(["--sparse"], id="gnu-old-sparse"),
    pytest.param(["--format=posix", "--sparse", "--sparse-version=0.0"], id="pax-sparse-0.0"),
    pytest.param(["--format=posix", "--sparse", "--sparse-version=0.1"], id="pax-sparse-0.1"),
    pytest.param(["--format=posix", "--sparse", "--sparse-version=1.0"], id="pax-sparse-1.0"),
])
def test_sparse_file_reported_at_apparent_size(tmp_path, args):
    src = tmp_path / "src"
    src.mkdir()
    f = src / "f"
    with open(f, "wb") as fh:
        fh.truncate(10 * MIB)
        fh.seek(0, 2)
        fh.write(b"x\n")
    (src / "after").write_bytes(b"after the sparse member")
    data = gnu_tar(src, *args)
    assert len(data) < MIB  # the holes are not in the archive…
    got = {r[0]: r for r in rows(walk_bytes(data, random_sizes(7)))}
    assert got["/f"][1:3] == ("file", 10 * MIB + 2)  # …and not materialised by us
    assert got["/after"][1:3] == ("file", 23)
    assert not [p for p in got if "GNUSparse" in p]


# --- real GNU tar archives agree with tarfile ------------------------------------------

def _tree(root: Path) -> None:
    root.mkdir()
    deep = root / ("d" * 80) / ("e" * 90) / ("f" * 100)
    deep.mkdir(parents=True)
    (deep / ("long-file-" + "g" * 120)).write_bytes(b"long")
    os.symlink("/" + "t" * 200, root / "long-symlink")
    os.symlink("../etc/passwd", root / "rel-symlink")
    (root / "data").write_bytes(os.urandom(513))
    os.link(root / "data", root / "hardlink")
    os.link(deep / ("long-file-" + "g" * 120), root / "hl-long")
    os.mkfifo(root / "fifo")
    (root / "suid").write_bytes(b"#!/bin/sh\n")
    os.chmod(root / "suid", 0o4755)
    (root / "sticky").mkdir()
    os.chmod(root / "sticky", 0o1777)
    (root / "uni-é日本").write_bytes(b"")
    (root / os.fsdecode(b"latin1-\xe9\xff")).write_bytes(b"x" * 512)
    os.chown(root / "data", 3000000, 4000000)  # beyond 2097151: base-256 or PAX ids


@pytest.mark.parametrize("fmt", ["gnu", "posix", "oldgnu"])
def test_gnu_tar_archives_match_tarfile(tmp_path, fmt):
    _tree(tmp_path / "src")
    data = gnu_tar(tmp_path / "src", f"--format={fmt}")
    expected = reference_rows(data)
    assert len(expected) >= 14
    assert rows(walk_bytes(data)) == expected
    assert rows(walk_bytes(data, random_sizes(3, 1, 700))) == expected
    got = {r[0]: r for r in expected}
    assert got["/data"][4:6] == (3000000, 4000000)
    assert got["/suid"][3] == 0o4755 and got["/sticky"][3] == 0o1777
    assert got[os.fsdecode(b"/latin1-\xe9\xff")][2] == 512


# --- damaged streams -------------------------------------------------------------------

def _simple() -> bytes:
    return make_tar({"a": b"x" * 1000, "b": b"y" * 10})


def _corrupt_checksum(data: bytes) -> bytes:
    b = bytearray(data)
    b[512 * 4 + 10] ^= 0x55  # a byte of the second member's name (PAX: header blocks vary)
    return bytes(b)


def _ustar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


USTAR = _ustar({"a": b"x" * 1000, "b": b"y" * 10})  # headers at 0 and 1536

BAD = [
    ("bad-checksum", USTAR[:1536 + 3] + b"Z" + USTAR[1536 + 4:]),
    ("not-a-tar", b"hello world, this is not a tar archive" * 20),
    ("truncated-in-header", USTAR[:1536 + 200]),
    ("truncated-in-data", USTAR[:700]),
    ("truncated-in-pax-header", make_tar({"p" * 200: b"x"})[:700]),
    ("bad-octal-size", USTAR[:124] + b"9999" + USTAR[128:]),
]


@pytest.mark.parametrize("name,data", BAD, ids=[b[0] for b in BAD])
def test_damaged_stream_is_a_tar_error(name, data):
    with pytest.raises(TarError) as info:
        walk_bytes(data, random_sizes(1))
    assert "test layer" in str(info.value)


def test_end_marker_then_garbage_and_padding_is_drained():
    """Everything after the end marker is read (so the verifying reader checks its digest),
    never parsed: trailing garbage and 4 MiB of zeros are both fine."""
    for tail in (b"garbage after the end" * 100, b"\0" * (4 * MIB)):
        data = USTAR + tail
        served = []
        read = chunked(data, random_sizes(5, 1, 65536))

        def counting_read(read=read, served=served):
            piece = read()
            served.append(len(piece))
            return piece

        index = walk_tar_counting(counting_read)
        assert [r[0] for r in rows(index)] == ["/a", "/b"]
        assert sum(served) == len(data) and served[-1] == 0


def walk_tar_counting(read):
    from inspector.index.entries import LayerIndex
    from inspector.index.tarwalk import walk_tar
    return walk_tar(read, LayerIndex(), what="test layer")


def test_eof_without_end_marker_is_accepted():
    assert [r[0] for r in rows(walk_bytes(USTAR[:2560]))] == ["/a", "/b"]


# --- names ----------------------------------------------------------------------------

NAMES = [
    # (case, member name, expected path or None, flag reason substring or None)
    ("plain", "etc/x", "/etc/x", None),
    ("dot-slash", "./etc/x", "/etc/x", None),
    ("absolute", "/etc/x", "/etc/x", None),
    ("double-slash", "a//b", "/a/b", None),
    ("dot-component", "a/./b", "/a/b", None),
    ("root-dot-slash", "./", None, None),
    ("root-dot", ".", None, None),
    ("dotdot-escape", "../etc/shadow", None, "'..'"),
    ("dotdot-inner", "a/../../b", None, "'..'"),
    # a backslash is an ordinary byte on Linux (systemd escapes "-" as "\x2d")
    ("windows-drive-is-a-name", "C:\\Windows\\x", "/C:\\Windows\\x", None),
    ("backslash", "a\\b", "/a\\b", None),
    ("systemd-unit", "etc/system-systemd\\x2dcryptsetup.slice",
     "/etc/system-systemd\\x2dcryptsetup.slice", None),
    ("backslash-dotdot", "..\\x", "/..\\x", None),
    ("dotfile", ".bashrc", "/.bashrc", None),
    ("dotdot-prefix-name", "..foo", "/..foo", None),
]


@pytest.mark.parametrize("case,name,path,reason", NAMES, ids=[n[0] for n in NAMES])
def test_member_names(case, name, path, reason):
    index = walk_bytes(make_tar({name: b"data", "z": b""}))
    paths = [r[0] for r in rows(index)]
    assert paths == ([path] if path else []) + ["/z"]
    flags = [r for _, r in index.flagged]
    if reason:
        assert len(flags) == 1 and reason in flags[0]
    else:
        assert flags == []


def test_hardlink_target_escaping_is_flagged_not_followed():
    index = walk_bytes(make_tar({"a": b"x", "l": Entry("hardlink", target="../../etc/shadow")}))
    assert rows(index)[1][6] == ""
    assert index.flagged and "hardlink target" in index.flagged[0][1]


def test_symlink_targets_are_verbatim():
    index = walk_bytes(make_tar({"abs": Entry("symlink", target="/etc/../../x"),
                                 "rel": Entry("symlink", target="../../../etc/shadow")}))
    assert [r[6] for r in rows(index)] == ["/etc/../../x", "../../../etc/shadow"]
    assert index.flagged == []


def test_v7_directory_via_gnu_long_name():
    """AREGTYPE + trailing "/" is a directory (Go's archive/tar, which Docker uses, checks
    the final name, long names included)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        info = tarfile.TarInfo("v" * 150 + "/")
        info.type = tarfile.AREGTYPE
        tar.addfile(info)
    assert rows(walk_bytes(buf.getvalue()))[0][:2] == ("/" + "v" * 150, "dir")


# --- whiteouts and AUFS metadata ------------------------------------------------------

def test_whiteout_markers_are_not_rows():
    tar = make_tar({"keep": b"k", "d/.wh..wh..opq": b"", "e/.wh.gone": b"",
                    ".wh..wh.plnk/123.456": b"aufs", ".wh..wh.aufs": b"", "f/.wh.": b"",
                    "g/.wh..": b"", "h/.wh...": b""})
    index = walk_bytes(tar)
    # AUFS link targets stay rows (hardlinks may name them); the merge drops them
    assert [r[0] for r in rows(index)] == ["/keep", "/.wh..wh.plnk/123.456"]
    assert index.opaque == ["/d"]
    assert index.whiteouts == ["/e/gone"]
    # a whiteout of "." or ".." would hide its own directory or its parent: flagged
    assert index.flagged == [("/f/.wh.", "empty whiteout name"), ("/g/.wh..", "whiteout of '.'"),
                             ("/h/.wh...", "whiteout of '..'")]


# --- captured content, heads, Go build info --------------------------------------------

def test_capture_heads_and_go_buildinfo_across_chunk_boundaries():
    os_release = b'ID=debian\nVERSION_ID="12"\n'
    big_passwd = b"x" * (capture.EXACT["/etc/passwd"] + 1)
    magic = capture.GO_BUILDINFO_MAGIC
    payload = bytes(range(256)) * 400  # 100 KiB after the magic: 64 KiB kept
    elf = b"\x7fELF" + b"\0" * capture.GO_FLOOR + magic + payload  # a Go binary's size
    files = {"etc/os-release": os_release, "etc/passwd": big_passwd,
             "usr/bin/app": Entry("file", elf, mode=0o755),
             "usr/bin/script": Entry("file", b"#!/bin/sh\necho hi\n", mode=0o755),
             "usr/share/data": b"\x7fELF not executable"}
    data = make_tar(files)
    for sizes in (None, random_sizes(11, 1, 64), random_sizes(12, 1, 4096)):
        index = walk_bytes(data, sizes)
        assert index.captured == {"/etc/os-release": os_release}
        heads = {index.paths[r]: h for r, h in index.heads.items()}
        assert heads == {"/usr/bin/app": elf[:capture.HEAD_BYTES],
                         "/usr/bin/script": b"#!/bin/sh\necho hi\n"}
        assert index.go_buildinfo == {"/usr/bin/app": (magic + payload)[:capture.GO_BUILDINFO_BYTES]}


@pytest.mark.parametrize(("name", "member", "kept"), GO_FLOOR_EDGES,
                         ids=[c[0] for c in GO_FLOOR_EDGES])
def test_go_check_floor(name, member, kept):
    data, mode = member
    index = walk_bytes(make_tar({"usr/bin/app": Entry("file", data, mode=mode)}),
                       random_sizes(13, 1, 64 << 10))
    assert ("/usr/bin/app" in index.go_buildinfo) == kept
    if kept:
        start = data.find(capture.GO_BUILDINFO_MAGIC)
        assert index.go_buildinfo["/usr/bin/app"] == data[start:start + capture.GO_BUILDINFO_BYTES]
