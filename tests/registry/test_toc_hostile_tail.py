"""eStargz's first tail read (``estargz.tail_guess``: 1 % of the blob, 16 KiB..1 MiB) and
the footer it finds, on hostile blobs: each read is bounded — the guess, then at most the
bytes from the footer's offset to the tail, never more than ``MAX_TOC`` — in at most two
ranged GETs, and a footer or TOC that cannot be used is one ``TocError`` line."""

from __future__ import annotations

import gzip

import pytest

from inspector.sources.registry.chunked import MAX_TOC, TocError, TocPlace
from inspector.sources.registry.estargz import FOOTER, EstargzToc, tail_guess
from tests.builders import make_tar
from tests.registry.estargz_writer import estargz, footer

GIB = 1 << 30


class _Sparse:
    """A blob of ``size`` bytes, zeros but for its ``tail`` (no memory for the zeros)."""

    def __init__(self, size: int, tail: bytes) -> None:
        self.size, self.tail = size, tail

    def __getitem__(self, cut: slice) -> bytes:
        at = self.size - len(self.tail)
        start, end = cut.start, cut.stop
        lead = bytes(max(0, min(end, at) - start))
        return lead + self.tail[max(0, start - at):max(0, end - at)]


class _Toc(EstargzToc):
    def __init__(self, blob: _Sparse, digest: str = "sha256:" + "0" * 64) -> None:
        super().__init__(None, "sha256:" + "1" * 64, blob.size, TocPlace(digest),  # type: ignore[arg-type]
                         what="layer")
        self.blob, self.asked = blob, []

    def _get(self, batch, on_chunk=None):
        self.asked += batch
        self.requests += 1
        self.fetched += sum(e - s for s, e in batch)
        return {(s, e): self.blob[s:e] for s, e in batch}


def _tail(size: int, offset: int, member: bytes = b"") -> _Sparse:
    """A blob whose footer names ``offset``, ``member`` (a gzip member) just before it."""
    return _Sparse(size, member + footer(offset))


JUNK = gzip.compress(b"not a tar", mtime=0)
#: (name, the blob, the error's words (None: it lists))
TAILS = [
    ("empty", _Sparse(0, b""), "no eStargz footer"),
    ("shorter than a footer", _Sparse(40, b"\x1f\x8b" * 20), "no eStargz footer"),
    ("a footer alone", _tail(FOOTER, 1), "outside the blob"),
    ("an offset of 0", _tail(1 << 20, 0), "outside the blob"),
    ("the offset inside the footer", _tail(1 << 20, (1 << 20) - 10), "outside the blob"),
    ("the offset past the blob", _tail(1 << 20, 1 << 40), "outside the blob"),
    ("a TOC in the tail read, not a tar", _tail(1 << 20, (1 << 20) - FOOTER - len(JUNK),
                                                 JUNK), "eStargz"),
    ("a TOC 2 MiB before a 10 MB blob's tail", _tail(10 << 20, (8 << 20) - FOOTER), "eStargz"),
    ("a 100 GiB blob, its TOC in the first 1 MiB read", _tail(100 * GIB, 100 * GIB - 4096),
     "eStargz"),
    ("a 100 GiB blob, its TOC larger than MAX_TOC", _tail(100 * GIB, GIB), "larger than"),
    ("a 100 GiB blob, a TOC of MAX_TOC bytes exactly", _tail(
        100 * GIB, 100 * GIB - FOOTER - MAX_TOC), "eStargz"),
]


@pytest.mark.parametrize("name,blob,words", TAILS, ids=[t[0] for t in TAILS])
def test_a_hostile_tail_is_read_within_bounds(name, blob, words):
    toc = _Toc(blob)
    with pytest.raises(TocError, match=words) as info:
        toc.entries()
    assert "\n" not in str(info.value)
    guess = tail_guess(blob.size)
    assert toc.requests <= 2
    assert toc.fetched <= guess + MAX_TOC
    if toc.requests == 2:  # the bytes from the offset to the tail's start, no more
        (s1, e1), (s2, e2) = toc.asked
        assert (e1 - s1, e2) == (guess, s1)


def test_a_real_toc_larger_than_the_guess_is_read_in_two_gets():
    """Files of random bytes (a TOC is ~46 bytes a file): the first 16 KiB tail holds the
    footer but not the TOC; the second GET reads from its offset to the tail, and the
    entries are the writer's."""
    import random

    files = {f"f{i:05}": random.Random(i).randbytes(64) for i in range(600)}
    blob, digest = estargz(make_tar(files))
    toc = _Toc(_Sparse(len(blob), blob), digest)
    names = [e.name for e in toc.entries()]
    assert toc.requests == 2 and len(blob) < 100 * tail_guess(len(blob))
    assert [n for n in names if n.startswith("f")] == sorted(files)


def test_an_executable_toc_member_past_the_go_floor_is_listed_as_the_full_pull():
    """``stargz.index.json`` is a member of the layer tar: a writer may mark it executable,
    and a 3,000-file TOC is past the Go check's floor — the member has no frames of its
    own in the TOC; the listing equals the full pull's (which inflates the blob)."""
    import io
    import json
    import random

    from inspector.analysis import analyze
    from inspector.index import capture
    from inspector.options import Options
    from inspector.report.export import write_export
    from tests.registry.chunked_mem import image_of, layer_of
    from tests.registry.tocimages import comparable

    files = {f"opt/f{i:05}": random.Random(i).randbytes(20) for i in range(3000)}
    blob, digest = estargz(make_tar(files), toc_mode=0o755)
    docs = []
    for toc in (None, _Toc(_Sparse(len(blob), blob), digest)):
        analysis = analyze(image_of([layer_of(gzip.decompress(blob), toc)]),
                           Options(no_cache=True))
        out = io.StringIO()
        write_export(analysis, out)
        docs.append((comparable(json.loads(out.getvalue())), analysis.warnings))
    member = next(f for f in docs[0][0]["files"] if f["path"] == "/stargz.index.json")
    assert member["mode"] == "0755" and member["size"] >= capture.GO_FLOOR  # the case is real
    assert docs[1] == docs[0]
