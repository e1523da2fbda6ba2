"""Images of one run that share a layer read its table of contents once: the TOC read
``RemoteToc.prefetch`` starts at manifest time is shared by TOC digest (``toc._reads``)
between every image of the process that announces it — compare and audit open their
images at once, so each would otherwise download it and one download would go unused. A
shared read that failed is read again by the other layer as its own (its error names that
layer, as before); and a successful run does not wait at exit for a prefetch nobody took."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from inspector import cli
from inspector.analysis import analyze, open_image
from inspector.options import Options
from inspector.sources.registry import open_registry

pytestmark = pytest.mark.registry
ROOT = Path(__file__).resolve().parents[2]
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _via(proxy, ref: str) -> str:
    return ref.replace(ref.split("/")[0], proxy.host)


def _twin(ref: str, tag: str) -> str:
    """Another image of ``ref``'s repository holding the same layers and config (its
    manifest carries one annotation more: another digest), pushed straight to the
    registry (not through the proxy); its reference."""
    host, rest = ref.split("/", 1)
    repo = rest.rsplit(":", 1)[0]
    base = f"http://{host}/v2/{repo}/manifests"
    got = requests.get(f"{base}/{rest.rsplit(':', 1)[1]}", headers={"Accept": OCI_MANIFEST},
                       timeout=30)
    got.raise_for_status()
    doc = got.json()
    assert doc["mediaType"] == OCI_MANIFEST
    doc.setdefault("annotations", {})["test.twin"] = tag
    put = requests.put(f"{base}/{tag}", data=json.dumps(doc).encode(),
                       headers={"Content-Type": OCI_MANIFEST}, timeout=30)
    put.raise_for_status()
    return f"{host}/{repo}:{tag}"


def _toc_gets(proxy, image) -> dict[str, int]:
    """layer digest → the GETs of its TOC (one range, from the TOC's offset)."""
    return {la.digest: sum(1 for r in proxy.requests_to(f"/blobs/{la.digest}")
                           if r["headers"].get("Range", "").startswith(
                               f"bytes={la.toc.place.offset}-")
                           and "," not in r["headers"]["Range"])
            for la in image.layers}


def test_two_images_sharing_layers_compared_read_each_toc_once(proxy, toc_images, tmp_path,
                                                                 capsys):
    """``inspector compare A A'`` (A' has A's two zstd:chunked layers): each image's
    opening prefetches its layers' TOCs; the layers are then indexed once (``LayerMemo``),
    so a second download of each TOC was never used (2 GETs per TOC before, 1 now)."""
    first = _via(proxy, toc_images["mixed:zc"])
    second = _via(proxy, _twin(toc_images["mixed:zc"], "twin-compare"))
    probe = open_registry(first, Options(no_cache=True), reference=first)
    assert len(probe.layers) == 2 and all(la.toc is not None for la in probe.layers)
    proxy.reset()
    code = cli.main(["compare", first, second, "-q", "--cache-dir", str(tmp_path),
                     "--format", "json"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert [i["reference"] for i in json.loads(out)["images"]] == [first, second]
    assert len(proxy.requests_to("/manifests/")) >= 2  # both images were opened
    assert _toc_gets(proxy, probe) == {la.digest: 1 for la in probe.layers}


def test_a_shared_read_that_failed_is_read_again_by_the_other_image(proxy, toc_images,
                                                                      tmp_path):
    """The TOC's ranged answers are corrupted: the first image's read fails its digest,
    and the image that shared that read reads the TOC as its own — its notice names its
    own layer, as when nothing was shared; both fall back to the full pull."""
    first = _via(proxy, toc_images["mixed:zc"])
    second = _via(proxy, _twin(toc_images["mixed:zc"], "twin-fault"))
    probe = open_registry(first, Options(no_cache=True), reference=first)
    proxy.reset()
    for layer in probe.layers:
        proxy.faults.corrupt_ranges.add(layer.digest)
    options = Options(cache_dir=tmp_path)
    images = [open_image(ref, options, listing=True) for ref in (first, second)]
    # the second image shares the first's reads: the case is real
    assert [la.toc._ahead for la in images[1].layers] == [la.toc._ahead for la in images[0].layers]
    for image, ref in zip(images, (first, second), strict=True):
        notices = [w for w in analyze(image, options).warnings if "hashes to" in w]
        assert len(notices) == len(image.layers)
        assert all(ref in n for n in notices), notices
    assert _toc_gets(proxy, probe) == {la.digest: 2 for la in probe.layers}


#: a successful run (exit 0, the ordinary interpreter exit) whose layer's TOC was asked
#: for at manifest time and never taken (it gets no answer)
UNTAKEN = """
import sys
from inspector.analysis import open_image
from inspector.options import Options

image = open_image(sys.argv[1], Options(no_cache=True, timeout=3600.0), listing=True)
assert image.layers[0].toc._ahead is not None
print("opened", flush=True)
"""


def test_a_successful_run_does_not_wait_for_a_prefetch_nobody_takes(proxy, toc_images):
    """The TOC's GET gets no answer (the network timeout is an hour), and nothing takes
    the prefetch: the process still ends at once when its work is done — the prefetch's
    thread is not joined at exit."""
    ref = _via(proxy, toc_images["debian:zc"])
    layer = open_registry(ref, Options(no_cache=True), reference=ref).layers[0].digest
    proxy.reset()
    proxy.faults.silent.add(layer)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    try:
        # a hang fails here (the proxy closes a silent answer after 60 s, Faults.silent)
        done = subprocess.run([sys.executable, "-c", UNTAKEN, ref], capture_output=True,
                              text=True, env=env, cwd=ROOT, timeout=30)
        asked = proxy.requests_to(f"/blobs/{layer}")
    finally:
        proxy.reset()
    assert asked  # the case is real: the TOC was asked for, and got no answer
    assert (done.returncode, done.stdout, done.stderr) == (0, "opened\n", "")
