"""Header fields one by one, as the walker meets them: what each numeric form reads as,
and which forms are refused (the walker turns the refusal into a ``TarError`` naming the
layer and the member)."""

from __future__ import annotations

import pytest

from inspector.errors import TarError
from tests.hostile.tarbytes import archive, base256, member
from tests.index.helpers import rows, walk_bytes

#: (case, header field values, expected (size, mode, uid, gid) or an error substring)
FIELDS = [
    ("octal-nul-terminated", {"size": b"00000000005\x00"}, (5, 0o644, 0, 0)),
    ("octal-space-terminated", {"size": b"00000000005 "}, (5, 0o644, 0, 0)),
    ("octal-space-padded", {"uid": b"  1750 \x00"}, (5, 0o644, 1000, 0)),
    ("octal-empty-is-zero", {"gid": b"\x00" * 8}, (5, 0o644, 0, 0)),
    ("octal-max-uid", {"uid": b"77777777"}, (5, 0o644, 8**8 - 1, 0)),
    ("base256-uid", {"uid": base256(2**32 - 1, 8)}, (5, 0o644, 2**32 - 1, 0)),
    ("base256-size", {"size": base256(5, 12)}, (5, 0o644, 0, 0)),
    ("mode-type-bits-masked", {"mode": 0o100755}, (5, 0o755, 0, 0)),
    ("mtime-base256-negative", {"mtime": base256(-86400, 12)}, (5, 0o644, 0, 0)),
    ("mtime-space-padded", {"mtime": b"  14000000 \x00"}, (5, 0o644, 0, 0)),
    ("uid-2^32", {"uid": base256(2**32, 8)}, "uid 4294967296 is beyond"),
    ("uid-negative", {"uid": base256(-2, 8)}, "negative uid"),
    ("uid-decimal-digit", {"uid": b"0000009\x00"}, "uid field"),
    ("gid-embedded-space", {"gid": b"12 34\x00"}, "gid field"),
    ("size-sign", {"size": b"+0000000005"}, "size field"),
    ("size-underscore", {"size": b"0_000000005"}, "size field"),
    ("mode-negative", {"mode": base256(-1, 8)}, "negative mode"),
    ("mtime-embedded-space", {"mtime": b"12 34\x00"}, "mtime field"),
    ("mtime-decimal", {"mtime": b"19999999999\x00"}, "mtime field"),
    ("devminor-text", {"devminor": b"minor"}, "devminor"),
]


@pytest.mark.parametrize("case,fields,expected", FIELDS, ids=[f[0] for f in FIELDS])
def test_numeric_fields(case, fields, expected):
    data = archive(member("f", b"12345", **{"size": 5, **fields}))
    if isinstance(expected, str):
        with pytest.raises(TarError) as info:
            walk_bytes(data, what="layer 3")
        message = str(info.value)
        assert message.startswith("layer 3: tar member 'f': ") and expected in message, message
    else:
        (_, kind, size, mode, uid, gid, _), = rows(walk_bytes(data))
        assert (kind, size, mode, uid, gid) == ("file", *expected)
