"""Property tests on the walker with hostile header fields (issue 11): archives written
byte by byte, then damaged: numeric fields set to negative, huge or non-numeric values,
hostile PAX records inserted, random truncation. The only outcomes allowed are the
correct index (undamaged: exactly the members written; truncated at a header: a prefix of
them) or an ``InspectorError``; never another exception, never a row that breaks the
index's invariants, never more rows than headers (no member read twice)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.errors import InspectorError
from inspector.index.entries import LayerIndex
from inspector.index.tarfields import MAX_ID, MAX_SIZE
from inspector.index.tarwalk import walk_tar
from tests.hostile.tarbytes import BLOCK, FIELDS, archive, base256, member, octal, pax
from tests.index.helpers import chunked, random_sizes, rows

KINDS = {b"0": "file", b"5": "dir", b"2": "symlink"}
component = st.text("abcxyz", min_size=1, max_size=8)
spec = st.fixed_dictionaries({
    "name": st.lists(component, min_size=1, max_size=4).map("/".join),
    "type": st.sampled_from(list(KINDS)),
    "size": st.integers(0, 1500),
    "mode": st.integers(0, 0o7777),
    "uid": st.one_of(st.integers(0, 2**21 - 1), st.integers(0, MAX_ID)),
    "gid": st.one_of(st.integers(0, 2**21 - 1), st.integers(0, MAX_ID)),
    "ids_as": st.sampled_from(["header", "pax"]),
})
#: values no field may hold: negative, huge, non-numeric, signed, empty-but-marked
HOSTILE_RAW = [base256(-1, 12), base256(-512, 12), base256(2**80, 12), b"garbage", b"-1",
               b"+7", b"9999", b"0o17", b"1_0", b"\xff" * 12, b"\x80" + b"\xff" * 11]
HOSTILE_PAX = ["-1", "-512", "abc", str(2**63), str(2**64), "", "1,2,3", "0x10", " 5", "1e3",
               "0", "1" * 40]
PAX_KEYS = ["size", "uid", "gid", "mtime", "atime", "GNU.sparse.realsize", "GNU.sparse.size",
            "GNU.sparse.map", "GNU.sparse.offset", "GNU.sparse.numblocks", "path", "linkpath"]
mutation = st.one_of(
    st.tuples(st.just("field"), st.integers(0, 20),
              st.sampled_from(["size", "uid", "gid", "mode", "mtime", "devmajor"]),
              st.sampled_from(HOSTILE_RAW)),
    st.tuples(st.just("pax"), st.integers(0, 20), st.sampled_from(PAX_KEYS),
              st.sampled_from(HOSTILE_PAX)),
    st.tuples(st.just("byte"), st.integers(0, 2**20), st.integers(0, 255), st.just(b"")),
)


def _member(s: dict, field: tuple[str, bytes] | None) -> tuple[bytes, tuple]:
    """The member's bytes and the row the walker must report for it."""
    kind = KINDS[s["type"]]
    data = bytes(range(256)) * (s["size"] // 256 + 1)
    data = data[:s["size"]] if kind == "file" else b""
    fields: dict = {"mode": s["mode"], "typeflag": s["type"]}
    if kind == "symlink":
        fields["linkname"] = b"target"
    prefix = b""
    if s["ids_as"] == "pax":
        prefix = pax({"uid": s["uid"], "gid": s["gid"]})
    else:
        for key in ("uid", "gid"):
            fields[key] = s[key] if s[key] < 2**21 else base256(s[key], 8)
    if field is not None:
        key, raw = field
        fields[key] = raw[:FIELDS[key][1]]
    row = ("/" + s["name"], kind, len(data), s["mode"], s["uid"], s["gid"],
           "target" if kind == "symlink" else None)
    return prefix + member(s["name"], data, **fields), row


def build(specs: list[dict], mutations: list[tuple]) -> tuple[bytes, list[tuple]]:
    fields = {m[1] % len(specs): (m[2], m[3]) for m in mutations if m[0] == "field"}
    pax_before = {m[1] % len(specs): {m[2]: m[3]} for m in mutations if m[0] == "pax"}
    parts, expected = [], []
    for i, s in enumerate(specs):
        if i in pax_before:
            parts.append(pax(pax_before[i]))
        data, row = _member(s, fields.get(i))
        parts.append(data)
        expected.append(row)
    data = bytearray(archive(*parts))
    for m in mutations:
        if m[0] == "byte":
            data[m[1] % len(data)] = m[2]
    return bytes(data), expected


def walk(data: bytes, seed: int) -> LayerIndex:
    return walk_tar(chunked(data, random_sizes(seed, 1, 3000)), LayerIndex(), what="layer 0")


def check_invariants(index: LayerIndex, data: bytes) -> None:
    assert len(index.paths) <= len(data) // BLOCK  # never a member twice
    for i, path in enumerate(index.paths):
        assert path.startswith("/") and "//" not in path and path != "/"
        assert ".." not in path.split("/")
        assert 0 <= index.sizes[i] <= MAX_SIZE
        assert 0 <= index.uids[i] <= MAX_ID and 0 <= index.gids[i] <= MAX_ID
        assert 0 <= index.modes[i] <= 0o7777


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=st.lists(spec, min_size=1, max_size=6), seed=st.integers(0, 2**32))
def test_undamaged_archives_index_exactly(specs, seed):
    data, expected = build(specs, [])
    assert rows(walk(data, seed)) == expected


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=st.lists(spec, min_size=1, max_size=6),
       mutations=st.lists(mutation, min_size=1, max_size=3), seed=st.integers(0, 2**32))
def test_hostile_fields_give_a_valid_index_or_an_inspector_error(specs, mutations, seed):
    data, _ = build(specs, mutations)
    try:
        index = walk(data, seed)
    except InspectorError as exc:
        assert "layer 0" in str(exc) and "\n" not in str(exc)
        return
    check_invariants(index, data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=st.lists(spec, min_size=1, max_size=6), cut=st.integers(0, 2**20),
       seed=st.integers(0, 2**32))
def test_truncation_gives_a_prefix_or_an_inspector_error(specs, cut, seed):
    data, expected = build(specs, [])
    data = data[:cut % (len(data) + 1)]
    try:
        got = rows(walk(data, seed))
    except InspectorError as exc:
        assert "truncated" in str(exc), exc
        return
    assert got == expected[:len(got)]


def test_hostile_values_are_really_hostile():
    """Every value of the hostile tables is refused where it stands (the property tests
    above would otherwise pass by never exercising a bad value)."""
    for raw in HOSTILE_RAW:
        data = archive(member("f", b"", size=raw[:12]))
        try:
            walk(data, 1)
        except InspectorError:
            continue
        raise AssertionError(f"size field {raw!r} accepted")
    refused = 0
    for value in HOSTILE_PAX:
        try:
            walk(archive(pax({"size": value}), member("f")), 1)
        except InspectorError:
            refused += 1
    assert refused == len(HOSTILE_PAX) - 1  # all but "0", the control value
    assert octal(8, 4) == b"010\x00"
