"""``inspector fit --build`` (and the TUI's ``b``) on a base listed from its zstd:chunked
table of contents: the image it writes holds the base's layer blobs, so those are fetched
whole — and it says so on stderr (how many layers, how many bytes), with a progress line
on a terminal, and in the "building …" toast. The real CLI in a child process, real
skopeo-written zstd:chunked layers on the real registry."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.options import Options
from inspector.report.sizes import human
from inspector.sources.registry import open_registry
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout
from tests.registry.tocimages import copy_image
from tests.terminal import open_terminal, read_terminal
from tests.tools import require_tool
from tests.tui.helpers import settle, sync

pytestmark = pytest.mark.registry

ROOT = str(Path(__file__).resolve().parents[2])
PASSWD = (b"root:x:0:0:root:/root:/sbin/nologin\n"
          b"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")
#: a base smaller than every bundled one that a static program fits: fit chooses it
BASE = [make_layer({"etc/": Entry("dir"), "etc/passwd": PASSWD,
                    "etc/group": b"root:x:0:\nnonroot:x:65532:\n"}),
        make_layer({"home/nonroot/": Entry("dir", mode=0o700, uid=65532, gid=65532),
                    "tmp/": Entry("dir", mode=0o1777)})]


@pytest.fixture(scope="module")
def toc_base(plain_registry, tmp_path_factory) -> str:
    require_tool("skopeo")
    work = tmp_path_factory.mktemp("fit-base")
    write_oci_layout(work / "base", [ImageSpec(BASE, ref_name="v1")])
    copy_image(f"oci:{work}/base:v1", f"oci:{work}/base-zc:v1", "--dest-compress-format",
               "zstd:chunked")
    ref = f"{plain_registry.host}/toc/fit-base-zc:v1"
    copy_image(f"oci:{work}/base-zc:v1", f"docker://{ref}")
    return ref


def _fit_build(ref: str, dest: Path, cache: Path, *flags: str, stderr=subprocess.PIPE):
    return subprocess.Popen(
        [sys.executable, "-m", "inspector", "fit", "sample:hello-debian", "--base", ref,
         "--build", f"oci:{dest}", "-o", os.devnull, "--cache-dir", str(cache), *flags],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
        env={**os.environ, "PYTHONPATH": ROOT})


def _notice(ref: str) -> str:
    image = open_registry(ref, Options(no_cache=True), reference=ref)
    size = human(sum(layer.compressed_size for layer in image.layers))
    return (f"base {ref}: its {len(image.layers)} layers ({size}) were listed from their "
            "table of contents; fetching them whole for the image being written")


#: (name, extra flags, whether the notice is said)
RUNS = [
    ("listed from the TOC: said once", (), True),
    ("--full: the base was pulled whole already", ("--full",), False),
    ("-q: nothing but errors", ("-q",), False),
]


@pytest.mark.parametrize("name,flags,said", RUNS, ids=[r[0] for r in RUNS])
def test_fit_build_says_it_fetches_a_toc_listed_base_whole(toc_base, tmp_path, name, flags,
                                                           said):
    proc = _fit_build(toc_base, tmp_path / "out", tmp_path / "cache", *flags)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    lines = err.decode().splitlines()
    assert lines.count(_notice(toc_base)) == (1 if said else 0), lines
    image = open_registry(toc_base, Options(no_cache=True), reference=toc_base)
    blobs = tmp_path / "out" / "blobs" / "sha256"
    assert all((blobs / layer.digest.split(":")[1]).stat().st_size == layer.compressed_size
               for layer in image.layers)  # the base's blobs, whole, in the image written


def test_fit_build_draws_its_copy_on_a_terminal(toc_base, tmp_path):
    """stderr on a real pseudo-terminal: the notice, then a line redrawn in place while the
    base's blobs are copied, ending at every layer and every byte."""
    image = open_registry(toc_base, Options(no_cache=True), reference=toc_base)
    total = human(sum(layer.compressed_size for layer in image.layers))
    master, slave = open_terminal()
    proc = _fit_build(toc_base, tmp_path / "out", tmp_path / "cache", stderr=slave)
    os.close(slave)
    out = read_terminal(master, 300)
    assert proc.wait(120) == 0, out
    text = out.decode()
    assert _notice(toc_base) in text
    draws = [d for d in text.split("\r") if d.startswith("fit --build: base layers")]
    n = len(image.layers)
    assert draws and draws[-1].startswith(f"fit --build: base layers {n}/{n}  {total} of {total}")


async def build_on_the_fit_screen(pilot, toc_base: str):
    """The Fit screen of sample:hello-debian against ``toc_base`` (the TOC-listed base),
    its fit computed, then ``b``: the pane, once the build has settled."""
    from inspector.tui.screens.fit import FitScreen
    from inspector.tui.widgets.fit import FitPane

    await settle(pilot)
    await pilot.app.push_screen(FitScreen("sample:hello-debian", (toc_base,)))
    await settle(pilot, rounds=6)
    pane = pilot.app.screen.query_one(FitPane)
    assert pane.done is not None and pane.done.base is not None
    await pilot.press("b")
    await settle(pilot, rounds=6)
    return pane


@sync
async def test_the_tuis_build_toast_says_it_too(toc_base, tmp_path, monkeypatch):
    """The Fit screen's ``b`` on the TOC-listed base: the "building …" toast carries the
    notice, and the image is written."""
    from inspector.tui.app import InspectorApp

    monkeypatch.chdir(tmp_path)
    app = InspectorApp(["sample:hello-debian"], Options(cache_dir=tmp_path / "cache"))
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await build_on_the_fit_screen(pilot, toc_base)
        toasts = [str(n.message) for n in app._notifications]
        assert any(t.startswith("building ") and t.endswith("\n" + _notice(toc_base))
                   for t in toasts), toasts
        assert pane.built.startswith("built oci:"), toasts
