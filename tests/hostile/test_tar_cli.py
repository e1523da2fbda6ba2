"""Hostile layers through the real CLI (issue 11, items 1, 2 and 7): every malformed tar
field, record and stream below ends the run with exit 1 and exactly one line on stderr
naming the layer and the problem: no traceback, no hang (a subprocess with a generous
timeout), and nothing left in the cache that a rerun would answer from."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import zstandard

from tests.builders import ImageSpec, diff_id_of, write_oci_layout
from tests.hostile.tarbytes import (
    archive,
    base256,
    gnu_long,
    header,
    member,
    old_gnu_sparse,
    pax,
    pax_record,
)

ROOT = Path(__file__).resolve().parents[2]
#: a hang guard only (a healthy run takes about a second): no assertion on speed
TIMEOUT = 120
OK = member("ok", b"fine")


def _pax_member(records: dict, data: bytes = b"abc") -> bytes:
    return archive(pax(records), member("victim", data), OK)


def _truncated_zstd() -> bytes:
    blob = zstandard.ZstdCompressor().compress(archive(member("big", bytes(range(256)) * 4000)))
    return blob[:len(blob) // 2]


#: (case, layer blob as stored, words the one stderr line must contain)
CASES = [
    # --- item 1: numbers that would move the walker backwards or past the format ---------
    ("pax-size-negative", _pax_member({"size": "-1024"}), ["victim", "size", "negative"]),
    ("pax-size-minus-one-block", _pax_member({"size": "-512"}), ["negative"]),
    ("pax-size-non-numeric", _pax_member({"size": "12abc"}), ["size", "not a decimal"]),
    ("pax-size-plus-sign", _pax_member({"size": "+3"}), ["size", "not a decimal"]),
    ("pax-size-2^63", _pax_member({"size": str(2**63)}), ["size", "beyond"]),
    ("pax-uid-2^32", _pax_member({"uid": str(2**32)}), ["uid", "beyond"]),
    ("pax-gid-negative", _pax_member({"gid": "-5"}), ["gid", "negative"]),
    ("pax-uid-text", _pax_member({"uid": "root"}), ["uid", "not a decimal"]),
    ("pax-mtime-text", _pax_member({"mtime": "yesterday"}), ["mtime", "not a time"]),
    ("ustar-size-not-octal", archive(member("victim", b"x", size=b"0000000009x"), OK),
     ["victim", "size", "octal"]),
    ("ustar-size-signed-octal", archive(member("victim", b"", size=b"-0000001000"), OK),
     ["size", "octal"]),
    ("base256-size-negative", archive(member("victim", b"", size=base256(-512, 12)), OK),
     ["victim", "negative size"]),
    ("base256-size-huge", archive(member("victim", b"", size=base256(2**80, 12)), OK),
     ["size", "beyond"]),
    ("base256-uid-2^40", archive(member("victim", b"x", uid=base256(2**40, 8)), OK),
     ["uid", "beyond"]),
    ("base256-mode-negative", archive(member("victim", b"x", mode=base256(-1, 8)), OK),
     ["negative mode"]),
    ("octal-gid-garbage", archive(member("victim", b"x", gid=b"12 34 5"), OK), ["gid", "octal"]),
    ("mtime-garbage", archive(member("victim", b"x", mtime=b"yesterday"), OK), ["mtime"]),
    ("devmajor-garbage", archive(member("dev", typeflag=b"3", devmajor=b"ab"), OK), ["devmajor"]),
    ("sparse-realsize-negative",
     archive(old_gnu_sparse(b"victim", b"abc", base256(-1, 12), [(0, 3)]), OK),
     ["victim", "negative realsize"]),
    ("sparse-entry-beyond-realsize",
     archive(old_gnu_sparse(b"victim", b"abc", 10, [(8, 3)]), OK), ["sparse map entry"]),
    ("sparse-entry-not-octal",
     archive(old_gnu_sparse(b"victim", b"abc", 10, [(b"zz", 3)]), OK), ["sparse offset"]),
    ("sparse-extension-entry-beyond",
     archive(old_gnu_sparse(b"victim", b"abcd", 100, [(0, 1)] * 4, [[(200, 1)]]), OK),
     ["sparse map entry"]),
    ("pax-sparse-map-odd", _pax_member({"GNU.sparse.realsize": 10, "GNU.sparse.map": "0,1,5"}),
     ["GNU.sparse.map", "odd"]),
    ("pax-sparse-map-beyond", _pax_member({"GNU.sparse.size": 10, "GNU.sparse.map": "9,5"}),
     ["sparse map entry"]),
    ("pax-sparse-realsize-negative", _pax_member({"GNU.sparse.realsize": "-1"}),
     ["GNU.sparse.realsize", "negative"]),
    ("pax-record-length-text", archive(pax(b"ab path=x\n"), member("victim"), OK),
     ["malformed PAX record"]),
    ("pax-record-length-past-end", archive(pax(b"99 path=x\n"), member("victim"), OK),
     ["malformed PAX record"]),
    ("pax-record-length-zero", archive(pax(b"0 path=x\n"), member("victim"), OK),
     ["malformed PAX record"]),
    ("pax-record-no-newline", archive(pax(pax_record("path", "x")[:-1] + b"y"), OK),
     ["malformed PAX record"]),
    ("pax-header-too-large", archive(header("PaxHeader/x", typeflag=b"x", size=2**21)),
     ["PAX header", "too large"]),
    ("gnu-long-name-too-large", archive(header("././@LongLink", typeflag=b"L", size=2**30)),
     ["GNU long name", "too large"]),
    ("multi-volume", archive(member("victim", b"x", typeflag=b"M"), OK), ["multi-volume"]),
    # --- truncation -------------------------------------------------------------------
    ("truncated-in-data", archive(member("big", b"x" * 5000), end=False)[:2048],
     ["truncated"]),
    ("truncated-gnu-long-name", gnu_long(b"n" * 2000)[:1024], ["truncated"]),
    ("truncated-zstd", _truncated_zstd(), ["truncated zstd"]),
    # --- item 7: unsafe members are flagged (the export still lists the rest) -----------
    ("whiteout-dotdot", archive(member("d/.wh..."), OK), ["unsafe", "whiteout of '..'"]),
    ("whiteout-dot", archive(member("d/.wh.."), OK), ["unsafe", "whiteout of '.'"]),
    ("dotdot-escape", archive(member("../../etc/shadow", b"x"), OK), ["unsafe", "'..'"]),
]


def _run(ref: str, out: Path, cache: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "inspector", "export", ref, "-o", str(out), "-q",
         "--cache-dir", str(cache)],
        capture_output=True, text=True, cwd=ROOT, timeout=TIMEOUT)


@pytest.mark.parametrize("case,blob,words", CASES, ids=[c[0] for c in CASES])
def test_hostile_layer_is_one_line_exit_1(tmp_path, case, blob, words):
    write_oci_layout(tmp_path / "oci", [ImageSpec([blob], ref_name="t")])
    ref, cache = f"oci:{tmp_path / 'oci'}:t", tmp_path / "cache"
    first = _run(ref, tmp_path / "out.json", cache)
    assert first.returncode == 1, (first.returncode, first.stderr)
    assert "Traceback" not in first.stderr and "please report" not in first.stderr
    lines = first.stderr.strip().splitlines()
    assert len(lines) == 1, first.stderr
    assert lines[0].startswith("inspector: ") and "layer 1" in lines[0], lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])
    # nothing wrong cached: a rerun reaches the same verdict, and a rejected layer left
    # no index entry and no temporary file behind
    again = _run(ref, tmp_path / "out2.json", cache)
    assert (again.returncode, again.stderr) == (first.returncode, first.stderr)
    names = [p.name for p in cache.rglob("*")]
    assert not [n for n in names if n.startswith(".tmp")], names
    if "unsafe" not in words:
        hexdigest = diff_id_of(blob).split(":")[1]
        assert not [n for n in names if hexdigest in n], names


def test_backslash_names_are_exported(tmp_path):
    """A backslash is an ordinary byte in a Linux file name (systemd's unit names escape
    "-" as ``\\x2d``): such members are files like any other, and the export succeeds."""
    unit = "etc/systemd/system/system-systemd\\x2dcryptsetup.slice"
    blob = archive(member(unit, b"[Unit]\n"), member("C:\\not-windows", b"x"))
    write_oci_layout(tmp_path / "oci", [ImageSpec([blob], ref_name="t")])
    proc = _run(f"oci:{tmp_path / 'oci'}:t", tmp_path / "out.json", tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr
    exported = (tmp_path / "out.json").read_text()
    assert "system-systemd\\\\x2dcryptsetup.slice" in exported  # JSON escapes the backslash
    assert "C:\\\\not-windows" in exported


#: sparse members whose apparent sizes add past a signed 64-bit integer (each is legal:
#: up to 2**63 - 1, with only the mapped bytes stored), for every C and Python sum
HUGE_SPARSE = [
    ("three at 2**62", [2**62] * 3),
    ("two at the maximum", [2**63 - 1] * 2),
]


@pytest.mark.parametrize("case,sizes", HUGE_SPARSE, ids=[c[0] for c in HUGE_SPARSE])
@pytest.mark.parametrize("pure", ["0", "1"], ids=["c", "pure"])
def test_apparent_sizes_past_int64_are_summed_exactly(tmp_path, case, sizes, pure):
    """The export writes the exact total (a Python int) on both paths, warm and cold; no
    C sum overflows into an internal error."""
    members = []
    for i, size in enumerate(sizes):
        name = f"sparse{i}"
        members += [pax({"GNU.sparse.realsize": size, "GNU.sparse.map": "0,3"},
                        name=b"PaxHeader/" + name.encode()), member(name, b"abc")]
    write_oci_layout(tmp_path / "oci", [ImageSpec([archive(*members, OK)], ref_name="t")])
    ref, cache = f"oci:{tmp_path / 'oci'}:t", tmp_path / "cache"
    for run in ("cold", "warm"):
        out = tmp_path / f"{run}.json"
        proc = subprocess.run(
            [sys.executable, "-m", "inspector", "export", ref, "-o", str(out), "-q",
             "--cache-dir", str(cache)], capture_output=True, text=True, cwd=ROOT,
            timeout=TIMEOUT, env={**os.environ, "INSPECTOR_PURE": pure})
        assert proc.returncode == 0, (run, proc.stderr)
        doc = json.loads(out.read_text())
        assert doc["size"]["files"] == sum(sizes) + len(b"fine"), run
        assert doc["categories"]["application"]["bytes"] == sum(sizes) + len(b"fine"), run
