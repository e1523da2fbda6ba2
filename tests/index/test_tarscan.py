"""The tar walker's C accelerator (``_tarscan``) against its pure-Python loop.

The C side records plain members and hands every other one back to Python; so the
walker's result — the whole index, or the error and its message — must be the same on
both paths for any input. Checked on a table of members (what the C side does with each),
and as properties on random archives: well-formed (``tarfile``), byte-built with unusual
field encodings, and either of those with random bytes overwritten."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from inspector.errors import TarError
from inspector.index import tarscan
from inspector.index.entries import LayerIndex
from inspector.index.tarwalk import walk_tar
from tests.hostile.tarbytes import archive, base256, gnu_long, header, member, padded, pax
from tests.index.helpers import chunked, random_sizes
from tests.index.test_tarwalk_property import build
from tests.index.test_tarwalk_property import member as tarfile_member
from tests.walkpaths import require_accelerator

ELF = b"\x7fELF" + b"\x02" * 60 + b"x" * 100

# (name, member bytes, why the scanner stops at it: "end" = recorded, buffer used up)
CASES = [
    ("plain file", member("usr/share/doc/a", b"text"), "end"),
    ("empty file", member("a"), "end"),
    ("leading ./", member("./etc/motd", b"hi"), "end"),
    ("hidden file", member("root/.bashrc", b"x"), "end"),
    ("non-ascii name", member("caf\xe9/\xff\xfe".encode("latin-1"), b"x"), "end"),
    ("ustar prefix", member("b", b"x", prefix=b"usr/lib"), "end"),
    ("directory", member("usr/lib/", typeflag=b"5", size=7), "end"),
    ("symlink", member("bin/sh", typeflag=b"2", linkname=b"../usr/bin/dash"), "end"),
    ("hardlink", member("bin/b", typeflag=b"1", linkname=b"./bin/a"), "end"),
    ("empty executable", member("bin/true", mode=0o755), "end"),
    ("space-padded fields", member("a", b"x", uid=b" 1750 \x00", mode=b"644 "), "end"),
    ("executable", member("bin/x", ELF, mode=0o755), "capture"),
    ("captured base", member("etc/passwd", b"root:x:0:0::/root:/bin/sh\n"), "capture"),
    ("-info path", member("lib/a.dist-info/RECORD", b"x"), "capture"),
    ("dpkg database", member("var/lib/dpkg/info/a.list", b"/a\n"), "capture"),
    ("bad checksum", member("a", chksum=b"0000000\x00"), "checksum"),
    ("checksum with junk", member("a", chksum=b"12x\x00"), "checksum"),
    ("end marker", b"\x00" * 1024, "checksum"),
    ("base-256 uid", member("a", uid=base256(7, 8)), "field"),
    ("octal junk in size", member("a", size=b"12a"), "field"),
    ("mtime with a space inside", member("a", mtime=b"12345 123456"), "field"),
    ("devmajor junk", member("a", devmajor=b"-1"), "field"),
    ("pax header", pax({"path": "long"}), "type"),
    ("gnu long name", gnu_long(b"x" * 200), "type"),
    ("contiguous file", member("a", typeflag=b"7"), "type"),
    ("char device", member("dev/null", typeflag=b"3"), "type"),
    ("absolute name", member("/etc/a"), "name"),
    ("dot-dot", member("a/../../etc/a"), "name"),
    ("double slash", member("a//b"), "name"),
    ("dot component", member("a/./b"), "name"),
    ("./ twice", member("././a"), "name"),
    ("root", member("./", typeflag=b"5"), "name"),
    ("file ending /", member("a/", typeflag=b"0"), "name"),
    ("V7 directory", member("a/", typeflag=b"\x00"), "name"),
    ("dir ending //", member("a//", typeflag=b"5"), "name"),
    ("whiteout", member("etc/.wh.passwd"), "whiteout"),
    ("opaque marker", member("etc/.wh..wh..opq"), "whiteout"),
    ("absolute hardlink target", member("b", typeflag=b"1", linkname=b"/a"), "link"),
    ("hardlink to the root", member("b", typeflag=b"1", linkname=b"./"), "link"),
]


def walk(data: bytes, sizes=None) -> tuple:
    """The walker's whole result on ``data``: every index column (also those filled before
    an error), and the error if any."""
    index = LayerIndex()
    try:
        walk_tar(chunked(data, sizes), index, what="layer 0")
    except TarError as exc:
        return ("error", str(exc), exc.hint, vars(index))
    return ("ok", vars(index))


def both(data: bytes, seed: int | None = None) -> tuple[tuple, tuple]:
    """``walk`` on the C path and on the pure path (same chunking)."""
    results = []
    for pure in (False, True):
        os.environ.pop("INSPECTOR_PURE", None)
        if pure:
            os.environ["INSPECTOR_PURE"] = "1"
        try:
            results.append(walk(data, None if seed is None else random_sizes(seed, 1, 2000)))
        finally:
            os.environ.pop("INSPECTOR_PURE", None)
    return results[0], results[1]


@pytest.fixture(autouse=True)
def _accelerated():
    require_accelerator()


def test_accelerator_built():
    """Under CI=true the fixture above fails when the extension is missing; here: it is
    the one ``scanner`` hands out, and INSPECTOR_PURE turns it off."""
    assert tarscan.scanner(LayerIndex()) is not None
    os.environ["INSPECTOR_PURE"] = "1"
    try:
        assert tarscan.scanner(LayerIndex()) is None
    finally:
        del os.environ["INSPECTOR_PURE"]


@pytest.mark.parametrize(("data", "why"), [(d, w) for _, d, w in CASES],
                         ids=[n for n, _, _ in CASES])
def test_scanner_stops_where_python_must_go_on(data, why):
    index = LayerIndex()
    scan = tarscan.scanner(index)
    pos = scan(data, 0)
    expected = (why, len(data), 1) if why == "end" else (why, 0, 0)
    assert (scan.__self__.why, pos, len(index)) == expected
    # and whatever the C side did, the walker's result is the pure loop's
    c, pure = both(archive(data))
    assert c == pure


def test_scanner_leaves_data_outside_the_buffer():
    data = member("a", b"x" * 600)
    index = LayerIndex()
    scan = tarscan.scanner(index)
    assert (scan(data[:1000], 0), scan.__self__.why, len(index)) == (0, "data", 0)
    assert (scan(data, 0), scan.__self__.why, len(index)) == (len(data), "end", 1)


def test_scanner_rows_match_python():
    data = archive(*(d for _, d, why in CASES if why == "end"))
    c, pure = both(data)
    assert c == pure and c[0] == "ok" and len(c[1]["paths"]) == sum(
        why == "end" for _, _, why in CASES)


# ---- properties -----------------------------------------------------------------------
# (good values, odd values) per field: a plain member takes good ones only (the C side
# records it), an odd member any (the C side hands it back, or the walk fails)
NAMES = ([b"a", b"usr/bin/x", b"./etc/b", b"d/", b".hidden", "日本/é".encode(), b"y" * 100,
          b"usr/lib/python3/dist-packages/p-1.dist-info/METADATA", b"etc/os-release",
          b"var/lib/dpkg/status", b"var/lib/dpkg/info/p.list", b"lib/p.egg-info", b"etc/passwd",
          b"s/a-info/x"],
         [b"/abs", b"a/../b", b"a//b", b"x/.wh.y", b"x/.wh..wh..opq", b"\xff\xfe/n", b"",
          b"./", b"./.", b"a/./b"])
NUMS = ([0, 0o755, 0o644, 7, 0o7777, 2097151, b"", b" 17 ", b"17 \x00", b"\x0017"],
        [b"1 2", b"x", b"0o7", b"-1", b"+7", base256(5, 8), base256(-1, 8), b"\x80" + b"\xff" * 7])
TIMES = ([0, 1700000000, b"123456701234", b"\x00" * 12, b"1234567 \x00"],
         [b"12345 123456", base256(-5, 12), b"9", b"1_0"])
SIZES = ([0, 1, 511, 512, 513, 3000], [b"1 0", b"-1", base256(10, 12), b"8"])
TYPES = ([b"0", b"\x00", b"1", b"2", b"5"], [b"3", b"7", b"S", b"D", b"x", b"L", b"V", b"Z"])
PREFIXES = ([b""] * 4 + [b"usr"], [b"./p", b"/"])
CHECKSUMS = ([None], [b"0000000\x00", b"7", b" 1 2"])


def raw(name, typeflag, size, mode, uid, gid, mtime, major, minor, link, prefix, chk) -> bytes:
    """A byte-built member; an integer size gets that many data bytes (ELF-looking) unless
    the type carries none."""
    data = (b"\x7fELF" * 800)[:size] if isinstance(size, int) and typeflag not in b"123456" \
        else b""
    return header(name, typeflag=typeflag, size=size, mode=mode, uid=uid, gid=gid, mtime=mtime,
                  devmajor=major, devminor=minor, linkname=link, prefix=prefix,
                  chksum=chk) + padded(data)


#: raw()'s arguments, in order
FIELDS = (NAMES, TYPES, SIZES, NUMS, NUMS, NUMS, TIMES, NUMS, NUMS, NAMES, PREFIXES, CHECKSUMS)


@st.composite
def raw_member(draw) -> bytes:
    """A plain member, or (half the time) one with a single odd field."""
    odd = draw(st.sampled_from([None] * len(FIELDS) + list(range(len(FIELDS)))))
    return raw(*(draw(st.sampled_from(good + bad if i == odd else good))
                 for i, (good, bad) in enumerate(FIELDS)))


patch = st.tuples(st.integers(0, 1 << 14), st.binary(min_size=1, max_size=4))


def overwrite(data: bytes, patches: list[tuple[int, bytes]]) -> bytes:
    out = bytearray(data)
    for offset, raw in patches:
        if offset < len(out):
            out[offset:offset + len(raw)] = raw[:len(out) - offset]
    return bytes(out)


#: no "explain" phase: on a failure it re-runs thousands of walks to annotate the example
PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=PHASES)
@given(members=st.lists(raw_member(), max_size=10), end=st.booleans(),
       patches=st.lists(patch, max_size=3), seed=st.integers(0, 2**32))
def test_c_equals_pure_on_byte_built_archives(members, end, patches, seed):
    data = overwrite(archive(*members, end=end), patches)
    for chunks in (None, seed):  # one buffer; and chunk ends anywhere (the C side stops)
        c, pure = both(data, chunks)
        assert c == pure


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=PHASES)
@given(fmt=st.sampled_from(["ustar", "gnu", "pax"]),
       members=st.lists(tarfile_member, max_size=10), patches=st.lists(patch, max_size=2),
       seed=st.integers(0, 2**32))
def test_c_equals_pure_on_tarfile_archives(fmt, members, patches, seed):
    data = overwrite(build(fmt, members, False), patches)
    for chunks in (None, seed):
        c, pure = both(data, chunks)
        assert c == pure
