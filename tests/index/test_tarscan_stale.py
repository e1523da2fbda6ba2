"""A build of the accelerator that does not fit the code degrades to the pure loops: no
import error, no warning, the same output, and ``inspector --version`` says why it is off.

Each case runs the CLI on a copy of the package whose accelerator is altered as an
editable install leaves it: built from an older ``_tarscan.c`` (another ``ABI``, or none),
for another packed entry (``packed.py``'s ``SHIFT``), not built at all, or a file that does
not load."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.index import tarscan

SAMPLES = Path(tarscan.__file__).resolve().parents[2] / "sample_images" / "oci"


def _so(index: Path) -> list[Path]:
    return sorted(index.glob("_tarscan*.so"))


def _another_abi(index: Path) -> None:
    loader = index / "tarscan.py"
    text = loader.read_text()
    assert f"\nABI = {tarscan.ABI}\n" in text
    loader.write_text(text.replace(f"\nABI = {tarscan.ABI}\n", f"\nABI = {tarscan.ABI + 1}\n"))


def _another_packing(index: Path) -> None:
    """The Python side's packed entry widened (``packed.SHIFT``), the C built for 32 bits."""
    module = index / "packed.py"
    text = module.read_text()
    assert "\nSHIFT = 32\n" in text
    module.write_text(text.replace("\nSHIFT = 32\n", "\nSHIFT = 40\n"))


def _before_the_abi(index: Path) -> None:
    """A module with some of the loops and no ``ABI`` (what a build of last month exports)."""
    for so in _so(index):
        so.unlink()
    (index / "_tarscan.py").write_text("def parents(paths):\n    raise AssertionError('stale')\n")


def _not_built(index: Path) -> None:
    for so in _so(index):
        so.unlink()


def _not_loadable(index: Path) -> None:
    for so in _so(index):
        so.write_bytes(b"\x7fELF not really")


#: (name, how the copy's accelerator is altered, what --version says of it)
CASES = [
    ("built for another ABI", _another_abi,
     f"accelerator: off (a stale build (ABI {tarscan.ABI}, this code needs {tarscan.ABI + 1})"),
    ("built for another packed entry", _another_packing,
     "accelerator: off (built for another packed entry (SHIFT, MASK (32, 4294967295), "
     "packed.py says (40, 1099511627775))"),
    ("built before the ABI existed", _before_the_abi,
     f"accelerator: off (a stale build (ABI None, this code needs {tarscan.ABI})"),
    ("not built", _not_built, "accelerator: off (not built"),
    ("not loadable", _not_loadable, "accelerator: off (could not be loaded"),
]


def _run(root: Path, *args: str, pure: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root), "INSPECTOR_SAMPLES": str(SAMPLES)}
    env.pop("INSPECTOR_PURE", None)
    if pure:
        env["INSPECTOR_PURE"] = "1"
    return subprocess.run([sys.executable, "-m", "inspector", *args], capture_output=True,
                          text=True, env=env, cwd=root, timeout=300)


@pytest.fixture(scope="module")
def expected(tmp_path_factory) -> str:
    """The export with the pure loops, from the real tree."""
    root = Path(tarscan.__file__).resolve().parents[2]
    proc = _run(root, "export", "sample:distroless-static", "-q", "--no-cache", pure=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.skipif(not tarscan.available() and os.environ.get("CI") != "true",
                    reason="needs the built accelerator to alter a copy of it")
@pytest.mark.parametrize(("name", "alter", "says"), CASES, ids=[c[0] for c in CASES])
def test_a_stale_accelerator_degrades(tmp_path, expected, name, alter, says):
    package = Path(tarscan.__file__).resolve().parents[1]
    copy = tmp_path / "inspector"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    alter(copy / "index")
    version = _run(tmp_path, "--version")
    assert version.returncode == 0 and version.stderr == "", version.stderr
    assert version.stdout.splitlines()[-1].startswith(says), version.stdout
    export = _run(tmp_path, "export", "sample:distroless-static", "-q", "--no-cache")
    assert (export.returncode, export.stderr) == (0, "")
    assert export.stdout == expected


def test_version_says_the_accelerator_is_on():
    root = Path(tarscan.__file__).resolve().parents[2]
    line = _run(root, "--version").stdout.splitlines()[-1]
    assert line == ("accelerator: on" if tarscan.available() else f"accelerator: off ({tarscan.UNAVAILABLE})")
    pure = _run(root, "--version", pure=True).stdout.splitlines()[-1]
    assert pure == ("accelerator: off (INSPECTOR_PURE=1)" if tarscan.available() else line)
