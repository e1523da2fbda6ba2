"""Reviewed category tables (golden files under ``golden/``): every bundled sample and a
real ``debootstrap --variant=minbase bookworm`` root, per category files, bytes and the ten
largest paths. Regenerate on purpose, then review the diff:

    INSPECTOR_UPDATE_GOLDEN=1 .venv/bin/pytest tests/classify/test_golden.py

The samples are pinned (their .debs are committed), so their tables compare exactly. A
debootstrap root is built from the live mirror: point releases change sizes and versioned
file names. Its golden records the package set it was made from; on the same set the table
compares exactly except for bytes debootstrap writes from the build host and run (its own
log, /etc/hostname, /etc/resolv.conf: files no package owns), on another the reviewed
labels of the listed paths that still exist must hold and the same categories must be
non-empty.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pytest

from inspector.catalog.builder import catalog_image
from inspector.classify import classify_image
from inspector.index.merge import merge
from inspector.sources.samples import sample_names
from tests.catalog.fsbuild import debootstrap_root, tar_directory_index
from tests.catalog.samples import analysis
from tests.classify.golden_table import render

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("INSPECTOR_UPDATE_GOLDEN") == "1"
DEBOOTSTRAP = "debootstrap-bookworm-minbase"
#: a listed path in a golden table: "- `PATH` SIZE (OWNER)" under "## CATEGORY"
LISTED = re.compile(r"^- `(?P<path>[^`]+)` ")


#: byte figures that include files written from the build host (debootstrap's own log
#: names its temp directory, /etc/hostname is the host's): the totals, the category table's
#: bytes column, and the sizes of listed paths no package owns
HOST_BYTES = [
    (re.compile(r"^(\d[\d,]* files), [\d,]+ bytes \(the merged filesystem: [\d,]+ bytes\)$", re.M),
     r"\1, N bytes (the merged filesystem: N bytes)"),
    (re.compile(r"^(\| \w+ \| [\d,]+ \| )[\d,]+( \|)$", re.M), r"\1N\2"),
    (re.compile(r"^(- `[^`]+` )[\d,]+( \(-\))$", re.M), r"\1N\2"),
]


def without_host_bytes(text: str) -> str:
    for pattern, replacement in HOST_BYTES:
        text = pattern.sub(replacement, text)
    return text


def _check(path: Path, got: str, normalise=lambda text: text) -> None:
    if UPDATE:
        path.write_text(got, encoding="utf-8")
        return
    assert path.exists(), f"{path} is missing: run with INSPECTOR_UPDATE_GOLDEN=1"
    assert normalise(path.read_text(encoding="utf-8")) == normalise(got), \
        f"{path.name} differs from golden (INSPECTOR_UPDATE_GOLDEN=1 regenerates; review the diff)"


@pytest.mark.parametrize("sample", sample_names())
def test_sample_golden(sample):
    a = analysis(f"sample:{sample}")
    _check(GOLDEN / f"{sample}.md", render(f"sample:{sample}", a.fs, a.catalog, a.classification))


def listed_labels(text: str) -> dict[str, str]:
    """path → category for every path a golden table lists."""
    labels, category = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            category = line[3:].strip()
        elif (m := LISTED.match(line)) and category:
            labels[m["path"]] = category
    return labels


@pytest.fixture(scope="module")
def debootstrap_analysis():
    fs = merge([tar_directory_index(debootstrap_root())])
    catalog = catalog_image(fs)
    return fs, catalog, classify_image(fs, catalog)


@pytest.mark.slow
def test_debootstrap_golden(debootstrap_analysis):
    fs, catalog, cls = debootstrap_analysis
    packages = sorted(f"{p.name} {p.version}" for p in catalog.packages)
    fingerprint = hashlib.sha256("\n".join(packages).encode()).hexdigest()[:16]
    got = render(f"{DEBOOTSTRAP} ({len(packages)} packages, set {fingerprint})",
                 fs, catalog, cls)
    path = GOLDEN / f"{DEBOOTSTRAP}.md"
    if UPDATE or fingerprint in path.read_text(encoding="utf-8").split("\n", 1)[0]:
        _check(path, got, without_host_bytes)
        return
    golden = path.read_text(encoding="utf-8")
    labels = listed_labels(golden)
    assert len(labels) > 50
    moved = {p: (c, cls.categories[p]) for p, c in labels.items()
             if p in cls.categories and cls.categories[p] != c}
    assert moved == {}
    nonempty = set(re.findall(r"^## (\w+)$", golden, re.M))
    assert nonempty == {name for name, t in cls.totals.items() if t.files}
