"""The command line on bad input (one line on stderr, exit 1, no traceback) and the
``inspector.export/v1`` contract."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from inspector import cli  # noqa: E402
from tests import builders  # noqa: E402
from tests.builders import Entry, ImageSpec, make_layer, make_tar, sha256, write_oci_layout  # noqa: E402


def run(*args: str, cache: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inspector", *args, "--cache-dir", str(cache)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def layout(tmp_path: Path, layers: list[bytes], **spec) -> str:
    write_oci_layout(tmp_path / "oci", [ImageSpec(layers, ref_name="t", **spec)])
    return f"oci:{tmp_path / 'oci'}:t"


def blob_path(tmp_path: Path, blob: bytes) -> Path:
    return tmp_path / "oci" / "blobs" / "sha256" / sha256(blob).split(":")[1]


def _missing(tmp_path):
    return f"oci:{tmp_path / 'nowhere'}:t", "nowhere"


def _unknown_tag(tmp_path):
    ref = layout(tmp_path, [make_layer({"a": b"1"})])
    return ref[:-2] + ":nope", "nope"


def _truncated_blob(tmp_path):
    blob = make_layer({"a": os.urandom(5000)})
    ref = layout(tmp_path, [blob])
    p = blob_path(tmp_path, blob)
    p.write_bytes(blob[: len(blob) // 2])
    return ref, "layer"


def _corrupt_gzip(tmp_path, monkeypatch):
    good = make_layer({"a": b"hello " * 5000})
    blob = good[:30] + bytes(b ^ 0xA5 for b in good[30:60]) + good[60:]
    monkeypatch.setattr(builders, "diff_id_of", lambda b: "sha256:" + "0" * 64)
    return layout(tmp_path, [blob]), "layer"


def _digest_mismatch(tmp_path):
    blob = make_layer({"a": b"x" * 2000}, compression=None)
    ref = layout(tmp_path, [blob])
    p = blob_path(tmp_path, blob)
    p.write_bytes(blob.replace(b"x" * 10, b"y" * 10, 1))  # same size, tar still valid
    return ref, "layer"


def _diff_id_mismatch(tmp_path):
    blob = make_layer({"a": b"1"})
    return layout(tmp_path, [blob], config_extra={
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "1" * 64]}}), "diff_id"


def _unknown_media_type(tmp_path):
    return layout(tmp_path, [make_layer({"a": b"1"})],
                  layer_media_types=["application/vnd.example.mystery.v1"]), "mystery"


def _bad_tar_checksum(tmp_path):
    tar = bytearray(make_tar({"a": b"1", "b": b"2"}))
    tar[0] ^= 0x20  # first header's name: checksum no longer matches
    return layout(tmp_path, [gzip.compress(bytes(tar), mtime=0)]), "layer"


def _not_a_tar(tmp_path):
    return layout(tmp_path, [gzip.compress(b"just some text, not a tar" * 100, mtime=0)]), "layer"


BAD = [
    ("missing-path", _missing),
    ("unknown-tag", _unknown_tag),
    ("truncated-blob", _truncated_blob),
    ("corrupt-gzip", _corrupt_gzip),
    ("digest-mismatch", _digest_mismatch),
    ("diff-id-mismatch", _diff_id_mismatch),
    ("unknown-media-type", _unknown_media_type),
    ("bad-tar-checksum", _bad_tar_checksum),
    ("not-a-tar", _not_a_tar),
]


@pytest.mark.parametrize("name,make", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_line_exit_1(tmp_path, monkeypatch, name, make):
    args = (tmp_path, monkeypatch) if make is _corrupt_gzip else (tmp_path,)
    ref, mention = make(*args)
    proc = run("export", ref, "-o", str(tmp_path / "out.json"), "-q", cache=tmp_path / "cache")
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("inspector: ")
    assert mention.lower() in lines[0].lower(), lines[0]


def test_unsafe_names_are_flagged_and_not_followed(tmp_path):
    """``..`` members and whiteouts of ``..`` are skipped: the export is still written
    without them, and the command fails with one line naming the layer and the members."""
    ref = layout(tmp_path, [make_layer({"../escape": b"x", "ok": b"1", "d/.wh...": b"2"})])
    out = tmp_path / "out.json"
    proc = run("export", ref, "-o", str(out), "-q", cache=tmp_path / "cache")
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "layer 1" in lines[0] and "'../escape'" in lines[0] and ".wh..." in lines[0], lines[0]
    assert "2 unsafe" in lines[0]
    assert proc.returncode == 1
    assert [f["path"] for f in json.loads(out.read_text())["files"]] == ["/ok"]


# --- the export contract ------------------------------------------------------------

RAW = os.fsdecode(b"/raw-\xe9\xff")


@pytest.fixture
def exported(tmp_path) -> dict:
    layers = [
        make_layer({"bin": Entry("dir"), "bin/su": Entry("file", b"\x7fELF" + b"\0" * 60, mode=0o4755),
                    "bin/link": Entry("hardlink", target="bin/su"),
                    "bin/sh": Entry("symlink", target="/bin/busybox"),
                    "usr/lib/deep/file": b"implied parents",
                    "etc/passwd": b"root:x:0:0:root:/root:/bin/sh\n",
                    RAW[1:]: b"latin-1 name", "uni-日本": b""}),
        make_layer({"etc/passwd": b"root:x:0:0:root:/root:/bin/bash\n", "tmp": Entry("dir", mode=0o1777)},
                   whiteouts=["uni-日本"]),
    ]
    ref = layout(tmp_path, layers)
    out = tmp_path / "out.json"
    assert cli.main(["export", ref, "--format", "json", "-o", str(out), "-q",
                     "--cache-dir", str(tmp_path / "cache")]) == 0
    raw = out.read_bytes()
    raw.decode("ascii")  # escaped: pure ASCII on disk
    return json.loads(raw)


def test_export_top_level_keys_and_types(exported):
    types = {"schema": str, "reference": str, "source": str, "manifest_digest": str,
             "platform": str, "config": dict, "size": dict, "layers": list, "files": list,
             "packages": list, "categories": dict, "findings": dict, "efficiency": dict}
    for key, kind in types.items():
        assert isinstance(exported[key], kind), key
    assert exported["schema"] == "inspector.export/v1"
    assert exported["source"] == "oci" and exported["platform"] == "linux/amd64"
    assert set(exported["size"]) == {"compressed", "uncompressed", "files"}
    assert all(isinstance(v, int) for v in exported["size"].values())
    assert set(exported["efficiency"]) == {"score", "wasted_bytes", "reclaimable_bytes",
                                           "inefficient_count", "inefficient_files"}
    passwd = len(b"root:x:0:0:root:/root:/bin/sh\n") + len(b"root:x:0:0:root:/root:/bin/bash\n")
    assert exported["efficiency"]["inefficient_files"] == [  # dive's inefficientFiles
        {"path": "/etc/passwd", "copies": 2, "layers": [0, 1], "wasted_bytes": passwd},
        {"path": "/uni-日本", "copies": 2, "layers": [0, 1], "wasted_bytes": 0}]  # whited out
    layer_keys = {"index", "digest", "diff_id", "media_type", "compressed_size",
                  "uncompressed_size", "created_by", "added", "modified", "removed"}
    assert [set(layer) >= layer_keys for layer in exported["layers"]] == [True, True]
    assert [layer["index"] for layer in exported["layers"]] == [0, 1]
    assert exported["layers"][1]["removed"] == 1 and exported["layers"][1]["modified"] == 1
    base_files = 64 + len(b"implied parents") + len(b"latin-1 name") + 30  # the link adds 0
    assert [(la["added_bytes"], la["modified_bytes"], la["removed_bytes"])
            for la in exported["layers"]] == [(base_files, 0, 0), (0, 32, 0)]


def test_export_files(exported):
    files = exported["files"]
    keys = {"path", "type", "size", "mode", "uid", "gid", "target", "layer", "package", "category"}
    assert all(set(f) == keys for f in files)
    paths = [f["path"] for f in files]
    assert paths == sorted(paths) and "/" not in paths and len(set(paths)) == len(paths)
    by = {f["path"]: f for f in files}
    assert by["/bin/su"]["mode"] == "4755" and by["/bin/su"]["size"] == 64
    assert by["/tmp"]["mode"] == "1777" and by["/tmp"]["layer"] == 1
    assert by["/etc/passwd"]["mode"] == "0644" and by["/etc/passwd"]["layer"] == 1
    assert by["/bin/link"] == {**by["/bin/link"], "type": "hardlink", "target": "/bin/su",
                               "size": 64}
    assert by["/bin/sh"]["target"] == "/bin/busybox" and by["/bin/sh"]["size"] == 0
    for implied in ("/usr", "/usr/lib", "/usr/lib/deep"):
        assert (by[implied]["type"], by[implied]["mode"], by[implied]["size"]) == ("dir", "0755", 0)
    assert by[RAW]["size"] == len(b"latin-1 name")  # non-UTF-8 bytes survive, escaped
    assert os.fsencode(RAW) == b"/raw-\xe9\xff"
    assert "/uni-日本" not in by
    assert exported["size"]["files"] == sum(f["size"] for f in files if f["type"] == "file")


#: ``python -m inspector`` run in-process, then what the GC saw: (collections while it ran,
#: objects frozen out of later passes, whether the GC is on afterwards)
GC_PROBE = """
import gc, runpy, sys
sys.argv = ["inspector", "--version"]
before = sum(s["collections"] for s in gc.get_stats())
try:
    runpy.run_module("inspector", run_name="__main__")
except SystemExit:
    pass
print(sum(s["collections"] for s in gc.get_stats()) - before, gc.get_freeze_count(), gc.isenabled())
"""


def test_the_cli_modules_load_without_gc_passes_and_are_frozen_out_of_later_ones():
    proc = subprocess.run([sys.executable, "-c", GC_PROBE], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    _collections, frozen, enabled = proc.stdout.splitlines()[-1].split()
    # every object the command line's modules made is frozen (no pass ran while they loaded,
    # and none goes over them later); the GC is back on for a command that is not a batch
    # (here --version)
    assert int(frozen) > 5000 and enabled == "True"
