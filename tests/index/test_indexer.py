"""``index_layer``: both digests checked for every compression, with one hash per byte.

An uncompressed blob is its own tar, so its diff_id is checked against its verified digest
instead of being hashed a second time (issue 16); compressed blobs hash the inflated tar on
a thread of its own. The table covers what must fail, and how, in each arrangement.
"""

from __future__ import annotations

import hashlib
import io
import tarfile

import pytest

from inspector.errors import DigestMismatch, SizeMismatch
from inspector.index.indexer import index_layer
from inspector.sources.base import Layer
from inspector.sources.streams import VerifyingReader
from tests.builders import compress, make_tar

TAR = make_tar({"etc/os-release": b"ID=test\n", "usr/bin/tool": b"\x7fELF" + b"\0" * 3000,
                "big": bytes(range(256)) * 20000})  # several chunks once inflated


def _sha(data: bytes, algo: str = "sha256") -> str:
    return f"{algo}:" + hashlib.new(algo, data).hexdigest()


def _layer(compression: str | None, *, digest: str | None = None, diff_id: str | None = None,
           algo: str = "sha256", body: bytes | None = None) -> Layer:
    blob = compress(TAR, compression)
    stored = blob if body is None else body
    return Layer(digest=digest or _sha(blob, algo), diff_id=_sha(TAR) if diff_id is None else diff_id,
                 media_type="application/vnd.oci.image.layer.v1.tar", compressed_size=len(blob),
                 opener=lambda: io.BytesIO(stored))


WRONG = "sha256:" + "1" * 64
COMPRESSIONS = [None, "gzip", "zstd"]

#: name, layer factory (given a compression), expected error, words its message must hold
CASES = [
    ("good", lambda c: _layer(c), None, ()),
    ("good, no diff_id known", lambda c: _layer(c, diff_id=""), None, ()),
    ("good, sha512 digest", lambda c: _layer(c, algo="sha512"), None, ()),
    ("diff_id wrong", lambda c: _layer(c, diff_id=WRONG), DigestMismatch, ("diff_id", WRONG)),
    ("diff_id wrong, sha512 digest", lambda c: _layer(c, diff_id=WRONG, algo="sha512"),
     DigestMismatch, ("diff_id", WRONG)),
    ("digest wrong", lambda c: _layer(c, digest=WRONG), DigestMismatch, ("expected", WRONG)),
    ("digest and diff_id wrong", lambda c: _layer(c, digest=WRONG, diff_id=WRONG),
     DigestMismatch, ("expected", WRONG)),
    ("blob damaged, same size", lambda c: _layer(c, body=_damaged(compress(TAR, c))),
     DigestMismatch, ("hashes to",)),
    ("blob truncated", lambda c: _layer(c, body=compress(TAR, c)[:-700]), SizeMismatch,
     ("truncated",)),
]


def _damaged(blob: bytes) -> bytes:
    """The same length, one byte in the middle changed (in ``big``'s data for a plain
    tar, inside the deflate or zstd stream otherwise)."""
    at = len(blob) // 2
    return blob[:at] + bytes([blob[at] ^ 0x01]) + blob[at + 1:]


@pytest.mark.parametrize("compression", COMPRESSIONS, ids=lambda c: c or "plain")
@pytest.mark.parametrize("name,make,error,words", CASES, ids=[c[0] for c in CASES])
def test_digests_are_checked(compression, name, make, error, words):
    layer = make(compression)
    if error is None:
        index = index_layer(layer)
        assert index.uncompressed_size == len(TAR)
        with tarfile.open(fileobj=io.BytesIO(TAR)) as tar:
            assert sorted(index.paths) == sorted("/" + m.name.lstrip("./") for m in tar)
        return
    with pytest.raises(Exception) as info:
        index_layer(layer)
    if compression is not None and name == "blob damaged, same size":
        # a damaged compressed stream may fail to inflate first: either way the digest
        # mismatch is what is reported (the reader drains and checks before complaining)
        assert isinstance(info.value, DigestMismatch), info.value
    else:
        assert isinstance(info.value, error), info.value
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_plain_blob_is_hashed_once(monkeypatch):
    """The point of the shortcut: an uncompressed blob's bytes go through sha256 once."""
    hashed = []
    real, real_new = hashlib.sha256, hashlib.new

    class Counting:
        def __init__(self, *args):
            self.inner = real(*args)
            self.name = "sha256"

        def update(self, data):
            hashed.append(len(data))
            self.inner.update(data)

        def hexdigest(self):
            return self.inner.hexdigest()

    monkeypatch.setattr(hashlib, "sha256", Counting)
    monkeypatch.setattr(hashlib, "new", lambda algo, *a: Counting(*a) if algo == "sha256"
                        else real_new(algo, *a))
    index_layer(_layer(None))
    assert sum(hashed) == len(TAR)
    hashed.clear()
    gz = _layer("gzip")
    index_layer(gz)
    assert sum(hashed) == len(compress(TAR, "gzip")) + len(TAR)  # digest, then diff_id


def test_a_reader_that_acts_on_its_check_keeps_its_hashing():
    """Registry readers commit (or evict) their blob-cache file when ``_check`` verifies:
    the indexer hands the hashing of an uncompressed blob to its own thread only for the
    plain reader, never taking it from one of these."""
    checked = []

    class Committing(VerifyingReader):
        def _check(self):
            super()._check()
            checked.append(self.verified)

    blob = compress(TAR, None)
    layer = Layer(digest=_sha(blob), diff_id=_sha(TAR), media_type="application/vnd.oci.image.layer.v1.tar",
                  compressed_size=len(blob),
                  opener=lambda: Committing(io.BytesIO(blob), _sha(blob), len(blob), what="blob"))
    assert index_layer(layer).uncompressed_size == len(TAR)
    assert checked == [True]  # verified by the reader itself, once
    with pytest.raises(TypeError):
        Committing(io.BytesIO(b""), _sha(b""), 0, what="blob").hand_off()
