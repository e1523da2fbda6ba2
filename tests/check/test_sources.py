"""``inspector check`` gives the same verdicts from every source, and a warm check of a
cached image reads no layer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import (
    Entry,
    ImageSpec,
    make_layer,
    tar_directory,
    write_docker_archive,
    write_oci_layout,
)
from tests.registry.servers import RegistryProcess
from tests.tools import require_tool

ROOT = Path(__file__).resolve().parents[2]
LAYERS = [
    {"etc/passwd": b"root:x:0:0:root:/root:/bin/bash\n",
     "bin/bash": Entry("file", data=b"\x7fELF" + b"\0" * 200, mode=0o755)},
    {"usr/bin/apt": Entry("file", data=b"\x7fELF" + b"\0" * 100, mode=0o755), "tmp": Entry("dir", mode=0o1777)},
]


def spec() -> ImageSpec:
    return ImageSpec([make_layer(files) for files in LAYERS], ref_name="gate",
                     config_extra={"config": {"User": "65532"}})


def check(reference: str, cache: Path) -> tuple[int, list | str]:
    """(exit code, verdicts without the image name), or (exit code, stderr) on an error."""
    proc = subprocess.run([sys.executable, "-m", "inspector", "check", reference, "--format",
                           "json", "-q", "--cache-dir", str(cache)], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)
    if not proc.stdout:
        return proc.returncode, proc.stderr
    doc = json.loads(proc.stdout)
    (image,) = doc["images"]
    return proc.returncode, [{k: v for k, v in verdict.items() if k != "image"}
                             for verdict in image["verdicts"]]


def oci(tmp: Path) -> str:
    write_oci_layout(tmp / "oci", [spec()])
    return f"oci:{tmp / 'oci'}:gate"


def oci_archive(tmp: Path) -> str:
    write_oci_layout(tmp / "oci", [spec()])
    return f"oci-archive:{tar_directory(tmp / 'oci', tmp / 'oci.tar')}:gate"


def docker_archive(tmp: Path) -> str:
    write_docker_archive(tmp / "img.tar", [spec()], flavour="docker25")
    return f"docker-archive:{tmp / 'img.tar'}"


SOURCES = [("oci", oci), ("oci-archive", oci_archive), ("docker-archive", docker_archive)]


@pytest.fixture(scope="module")
def expected(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("expected")
    return check(oci(tmp), tmp / "cache")


@pytest.mark.parametrize(("name", "make"), SOURCES, ids=[s[0] for s in SOURCES])
def test_same_verdicts_from_each_source(name, make, expected, tmp_path):
    code, verdicts = check(make(tmp_path), tmp_path / "cache")
    assert (code, verdicts) == expected
    failed = {v["rule"] for v in verdicts if v["status"] == "fail"}
    assert failed == {"forbid_categories", "forbid_login_users"}


def test_same_verdicts_from_a_registry(expected, tmp_path):
    require_tool("docker-registry")
    skopeo = require_tool("skopeo")
    registry = RegistryProcess(tmp_path / "reg", tmp_path / "storage")
    try:
        subprocess.run([skopeo, "copy", "-q", "--dest-tls-verify=false", oci(tmp_path)[:-len(":gate")] + ":gate",
                        f"docker://{registry.host}/gate:1"], check=True, capture_output=True, timeout=120)
        proc = subprocess.run([sys.executable, "-m", "inspector", "check", f"{registry.host}/gate:1",
                               "--no-tls-verify", "--format", "json", "-q",
                               "--cache-dir", str(tmp_path / "cache")],
                              capture_output=True, text=True, cwd=ROOT, timeout=300)
    finally:
        registry.stop()
    assert proc.returncode == expected[0], proc.stderr
    (image,) = json.loads(proc.stdout)["images"]
    assert [{k: v for k, v in x.items() if k != "image"} for x in image["verdicts"]] == expected[1]


def test_warm_check_reads_no_layer(tmp_path):
    (built,) = write_oci_layout(tmp_path / "oci", [spec()]).images
    reference = f"oci:{tmp_path / 'oci'}:gate"
    cold = check(reference, tmp_path / "cache")
    for digest in built.layer_digests:
        # same size (the layout's presence checks pass), but a layer read now would fail
        blob = tmp_path / "oci" / "blobs" / "sha256" / digest.split(":")[1]
        blob.write_bytes(b"\0" * blob.stat().st_size)
    assert check(reference, tmp_path / "other-cache")[0] == 1  # cold: the damage is seen
    assert check(reference, tmp_path / "cache") == cold
