"""The walker agrees with ``tarfile`` (the reference reader) on random archives, in every
format ``tarfile`` writes, whatever the chunk boundaries of the stream."""

from __future__ import annotations

import io
import tarfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.index.helpers import random_sizes, reference_rows, rows, walk_bytes

FORMATS = {"ustar": tarfile.USTAR_FORMAT, "gnu": tarfile.GNU_FORMAT, "pax": tarfile.PAX_FORMAT}
TYPES = {"file": tarfile.REGTYPE, "afile": tarfile.AREGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
         "hardlink": tarfile.LNKTYPE, "char": tarfile.CHRTYPE, "block": tarfile.BLKTYPE,
         "fifo": tarfile.FIFOTYPE}
#: name characters: ASCII, unicode, and surrogate escapes (non-UTF-8 bytes once encoded)
ALPHABET = "abcxyz019-_. " + "éß日本" + "\udcff\udc80\udce9"
component = st.one_of(
    st.text(ALPHABET, min_size=1, max_size=12),
    st.text("abcdef", min_size=60, max_size=130),  # long: total names pass 100 and 255
    st.sampled_from([".", "..", "x" * 99, "y" * 100]),
)
name = st.builds(
    lambda prefix, parts, slash: prefix + "/".join(parts) + slash,
    st.sampled_from(["", "./", "/"]),
    st.lists(component, min_size=1, max_size=5),
    st.sampled_from(["", "", "/"]),
)
member = st.fixed_dictionaries({
    "name": name,
    "type": st.sampled_from(list(TYPES)),
    "size": st.sampled_from([0, 1, 100, 511, 512, 513, 1024, 5000]),
    "mode": st.sampled_from([0o644, 0o755, 0o4755, 0o2755, 0o1777, 0o600, 0o7777, 0]),
    "uid": st.sampled_from([0, 1000, 65534, 2097151, 2097152, 2**31 + 5]),
    "gid": st.sampled_from([0, 50, 2097151, 2097152, 123456789]),
    "link": name,
    "xattr": st.sampled_from([None, "\udc81\x00\x00\x02\x00 \x00", "plain"]),
})


def build(fmt: str, members: list[dict], global_pax: bool) -> bytes:
    if global_pax and not members:  # tarfile cannot read a global header alone
        members = [{"name": "g", "type": "file", "size": 1, "mode": 0o644, "uid": 0, "gid": 0,
                    "link": "", "xattr": None}]
    buf = io.BytesIO()
    kwargs = {"pax_headers": {"comment": "global header"}} if global_pax and fmt == "pax" else {}
    with tarfile.open(fileobj=buf, mode="w", format=FORMATS[fmt], encoding="utf-8",
                      errors="surrogateescape", **kwargs) as tar:
        for m in members:
            if m["type"] == "afile" and (len(m["name"].encode("utf-8", "surrogateescape")) > 99
                                         or not m["name"].isascii()):
                m = {**m, "type": "file"}  # tarfile reads AREGTYPE+"/" from the name field only
            if m["type"] == "afile" and m["name"].endswith("/"):
                m = {**m, "size": 0}  # a V7 directory: tarfile would not skip its data (Go does)
            info = tarfile.TarInfo(m["name"])
            info.type = TYPES[m["type"]]
            info.mode, info.uid, info.gid = m["mode"], m["uid"], m["gid"]
            if m["type"] in ("symlink", "hardlink"):
                info.linkname = m["link"]
            if m["type"] in ("char", "block"):
                info.devmajor, info.devminor = 1, 3
            if m["xattr"] is not None and fmt == "pax":
                info.pax_headers = {"SCHILY.xattr.security.capability": m["xattr"]}
            data = None
            if m["type"] in ("file", "afile"):
                info.size = m["size"]
                data = io.BytesIO(bytes(range(256)) * (m["size"] // 256 + 1))
            try:
                tar.addfile(info, data)
            except ValueError:  # does not fit this format (USTAR long names, big ids)
                continue
    return buf.getvalue()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fmt=st.sampled_from(list(FORMATS)), members=st.lists(member, min_size=0, max_size=12),
       global_pax=st.booleans(), seed=st.integers(0, 2**32))
def test_walker_matches_tarfile(fmt, members, global_pax, seed):
    data = build(fmt, members, global_pax)
    expected = reference_rows(data)
    assert rows(walk_bytes(data)) == expected
    # chunk boundaries anywhere: small random reads, and 1-byte-biased ones
    assert rows(walk_bytes(data, random_sizes(seed))) == expected
    assert rows(walk_bytes(data, random_sizes(seed, 1, 16))) == expected


@settings(max_examples=50, deadline=None)
@given(members=st.lists(member, min_size=1, max_size=6), seed=st.integers(0, 2**32))
def test_duplicates_kept_in_order(members, seed):
    """The walker keeps every member, duplicates included (the merge makes the last win)."""
    data = build("pax", members + members, False)
    assert rows(walk_bytes(data, random_sizes(seed))) == reference_rows(data)
