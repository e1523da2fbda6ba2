"""An SBOM of the same image is the same bytes from run to run.

Each document is written by a child process with its own ``PYTHONHASHSEED`` (set and
dict iteration of strings, and ``id()``-based hashes, differ between them), so an order
that comes from hashing rather than from the data shows as a difference. Without
``SOURCE_DATE_EPOCH`` only the fields meant to change may differ (CycloneDX's
``metadata.timestamp`` and ``serialNumber``, SPDX's ``creationInfo.created``); with it
(reproducible builds) nothing does, and the CycloneDX serial number is derived from the
content, so a different image still gets a different one."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.sbom.test_sbom import ROOT

SAMPLE = "sample:debian-12-slim"
OTHER = "sample:distroless-static-debug"
#: the fields each format may change between runs of the same image (JSON paths)
VARYING = {"cyclonedx": [("metadata", "timestamp"), ("serialNumber",)],
           "spdx-json": [("creationInfo", "created")]}


def export(reference: str, fmt: str, cache: Path, seed: str, epoch: str | None = None
           ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env["PYTHONHASHSEED"] = seed
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = epoch
    return subprocess.run([sys.executable, "-m", "inspector", "export", reference, "--format", fmt,
                           "-q", "--cache-dir", str(cache)], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=600)


def document(reference: str, fmt: str, cache: Path, seed: str, epoch: str | None = None) -> str:
    proc = export(reference, fmt, cache, seed, epoch)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def normalised(text: str, fmt: str) -> str:
    """``text`` with only the fields in ``VARYING`` blanked, written back in its own key
    order and indentation (so an order difference anywhere else still shows)."""
    doc = json.loads(text)
    for path in VARYING[fmt]:
        node = doc
        for key in path[:-1]:
            node = node[key]
        assert path[-1] in node, path
        node[path[-1]] = "<varies>"
    return json.dumps(doc, indent=2, ensure_ascii=False)


@pytest.mark.parametrize("fmt", ["cyclonedx", "spdx-json"])
def test_same_image_same_document_whatever_the_hash_seed(fmt, tmp_path):
    first = document(SAMPLE, fmt, tmp_path, seed="1")
    second = document(SAMPLE, fmt, tmp_path, seed="2")
    assert normalised(first, fmt) == normalised(second, fmt)
    if fmt == "cyclonedx":
        # the occurrences are the package's files in path order (the order ``describe``
        # gives them), not the order of a set
        for component in json.loads(first)["components"]:
            paths = [o["location"] for o in component.get("evidence", {}).get("occurrences", [])]
            assert paths == sorted(paths), component["bom-ref"]


@pytest.mark.parametrize("fmt", ["cyclonedx", "spdx-json"])
def test_source_date_epoch_makes_the_bytes_identical(fmt, tmp_path):
    first = document(SAMPLE, fmt, tmp_path, seed="1", epoch="1700000000")
    second = document(SAMPLE, fmt, tmp_path, seed="3", epoch="1700000000")
    assert first == second
    doc = json.loads(first)
    if fmt == "spdx-json":
        assert doc["creationInfo"]["created"] == "2023-11-14T22:13:20Z"
        return
    assert doc["metadata"]["timestamp"] == "2023-11-14T22:13:20+00:00"
    serial = uuid.UUID(doc["serialNumber"].removeprefix("urn:uuid:"))
    assert doc["serialNumber"].startswith("urn:uuid:") and serial.version == 5
    other = json.loads(document(OTHER, fmt, tmp_path, seed="1", epoch="1700000000"))
    later = json.loads(document(SAMPLE, fmt, tmp_path, seed="1", epoch="1700000001"))
    assert len({doc["serialNumber"], other["serialNumber"], later["serialNumber"]}) == 3


def test_without_source_date_epoch_every_cyclonedx_serial_is_new(tmp_path):
    """The CycloneDX spec: every BOM generated gets a unique serial number, even if its
    content has not changed — unless the user asks for reproducible output."""
    serials = {json.loads(document(SAMPLE, "cyclonedx", tmp_path, seed="1"))["serialNumber"]
               for _ in range(2)}
    assert len(serials) == 2


#: SOURCE_DATE_EPOCH values that are not a UNIX time (reproducible-builds.org: "If the
#: value is malformed, the build process SHOULD exit with a non-zero error code")
BAD_EPOCHS = [
    ("a word", "yesterday"),
    ("negative", "-1"),
    ("fraction", "1700000000.5"),
    ("leading space", " 1700000000"),
    ("non-ASCII digits", "\u0661\u0667\u0660\u0660"),
    ("past the year 9999", "9" * 30),
]


@pytest.mark.parametrize(("name", "epoch"), BAD_EPOCHS, ids=[c[0] for c in BAD_EPOCHS])
@pytest.mark.parametrize("fmt", ["cyclonedx", "spdx-json"])
def test_a_malformed_source_date_epoch_is_a_clear_error(fmt, name, epoch, tmp_path):
    proc = export(OTHER, fmt, tmp_path, seed="1", epoch=epoch)
    assert proc.returncode != 0 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "SOURCE_DATE_EPOCH" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and "report this" not in proc.stderr
    assert re.search(r"unset it|integer", lines[0])
