"""Faults met by the TOC read started at manifest time (``RemoteToc.prefetch``, a thread):
what the registry does to the TOC's GET reaches the listing as the same read done
in line would — a one-notice fallback to the full pull (its export equal), or a one-line
error within the timeout — never a traceback, a hang, or the CLI's "please report this";
and Ctrl-C while the prefetch waits on a silent registry ends the run at once."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inspector.analysis import analyze, open_image
from inspector.errors import InspectorError
from inspector.options import Options
from inspector.report.export import write_export
from inspector.sources.registry import open_registry
from tests.registry.tocimages import comparable, export

pytestmark = pytest.mark.registry
ROOT = Path(__file__).resolve().parents[2]


def _via(proxy, toc_images, key: str) -> str:
    return toc_images[key].replace(toc_images[key].split("/")[0], proxy.host)


def _toc_part(image) -> dict[str, str]:
    """layer digest → the Range header's start of its TOC's GET."""
    return {la.digest: f"bytes={la.toc.place.offset}-" for la in image.layers}


#: (name, the fault on each layer's blob path, the outcome: "same" (listed from the TOC, no
#: notice), "fallback" (one notice with these words, the full pull's export) or "error"
#: (one line naming these words))
FAULTS = [
    ("the TOC fails its digest after it streamed", lambda f, d: f.corrupt_ranges.add(d),
     ("fallback", "hashes to")),
    ("Range ignored: the whole blob answered", lambda f, d: setattr(f, "ignore_range", True),
     ("fallback", "HTTP 200")),
    ("a 503 once: retried", lambda f, d: f.status_once.append((d, 503, {})), ("same", "")),
    ("a 404 for the blob", lambda f, d: f.status_always.append((d, 404)), ("error", "missing")),
    ("headers, 10 bytes, then silence", lambda f, d: f.stall_after.__setitem__(d, 10),
     ("error", "")),
    ("no answer at all", lambda f, d: f.silent.add(d), ("error", "")),
]


@pytest.mark.parametrize("name,fault,expected", FAULTS, ids=[f[0] for f in FAULTS])
def test_a_fault_on_the_prefetched_toc(proxy, toc_images, tmp_path, name, fault, expected):
    outcome, words = expected
    full, _ = export(toc_images["mixed:gzip"], Options(cache_dir=tmp_path / "full"))
    ref = _via(proxy, toc_images, "mixed:zc")
    probe = open_registry(ref, Options(no_cache=True), reference=ref)
    proxy.reset()
    for layer in probe.layers:
        fault(proxy.faults, layer.digest)
    options = Options(cache_dir=tmp_path / "toc", timeout=1.0)
    try:
        image = open_image(ref, options, listing=True)
        assert all(la.toc._ahead is not None for la in image.layers)  # the case is real
        analysis = analyze(image, options)
    except InspectorError as exc:
        assert outcome == "error", (name, str(exc))
        assert "\n" not in str(exc) and words in str(exc)
        return
    finally:
        proxy.reset()  # free stalled handlers
    assert outcome != "error", name
    out = io.StringIO()
    write_export(analysis, out)
    assert comparable(json.loads(out.getvalue())) == comparable(full)
    notices = [w for w in analysis.warnings if "reading the whole layer" in w]
    if outcome == "same":
        assert notices == []
    else:
        assert len(notices) == len(image.layers)
        assert all(words in n and "\n" not in n for n in notices)


#: (command, its images beyond the TOC-listed one)
COMMANDS = [("export", []), ("compare", ["mixed:gzip"])]
#: (name, how the program is started): ``python -m inspector`` and what the installed
#: console script runs (``inspector = "inspector.cli:main"`` in pyproject.toml: it does not
#: go through ``__main__``)
ENTRIES = [("python -m inspector", ["-m", "inspector"]),
           ("console script", ["-c", "import sys; from inspector.cli import main; "
                               "sys.exit(main())"]),
           # the script pip wrote (make's editable install); PYTHONPATH makes this tree win
           ("installed script", [str(Path(sys.executable).with_name("inspector"))])]


def _entry(entry: list[str]) -> list[str]:
    """``entry``'s command line; the installed script must be there under CI."""
    if len(entry) == 1 and not Path(entry[0]).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{entry[0]} is not installed (make venv)")
        pytest.skip(f"{entry[0]} is not installed")
    return [sys.executable, *entry]


@pytest.mark.parametrize("entry", [e[1] for e in ENTRIES], ids=[e[0] for e in ENTRIES])
@pytest.mark.parametrize("command,others", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_ctrl_c_while_a_prefetched_toc_waits_on_a_silent_registry(proxy, toc_images, tmp_path,
                                                                  command, others, entry):
    """The second layer's TOC GET gets no answer (the network timeout is an hour) while
    the first layer is listed — its files' ranged GETs say the index workers run: SIGINT
    ends the run with the CLI's one line, exit 130. Before, the worker waiting for the
    prefetch thread was joined, by the pool then by the interpreter: an hour."""
    ref = _via(proxy, toc_images, "mixed:zc")
    probe = open_registry(ref, Options(no_cache=True), reference=ref)
    first, second = (la.digest for la in probe.layers)
    proxy.reset()
    proxy.faults.silent.add(second)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen([*_entry(entry), command, ref,
                              *(_via(proxy, toc_images, o) for o in others), "-q",
                              "--cache-dir", str(tmp_path), "--timeout", "3600"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                             cwd=ROOT)
    try:
        while len(proxy.requests_to(f"/blobs/{first}")) < 2 or \
                not proxy.requests_to(f"/blobs/{second}"):
            assert child.poll() is None, child.stderr.read()
            time.sleep(0.05)  # polling for the requests' arrival, not timing them
        child.send_signal(signal.SIGINT)
        # a hang fails here (the proxy closes a silent answer after 60 s, Faults.silent)
        _, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        proxy.reset()
    assert (child.returncode, err.decode().splitlines()) == (130, ["inspector: interrupted"])


@pytest.mark.parametrize("entry", [e[1] for e in ENTRIES], ids=[e[0] for e in ENTRIES])
def test_an_error_while_a_prefetched_toc_waits_on_a_silent_registry_exits_at_once(
        proxy, toc_images, tmp_path, entry):
    """The config's GET fails (a 404: one line, exit 1) while the layer's TOC, asked for
    beside it, gets no answer (the network timeout is an hour): the run ends with its
    line — it does not wait for the thread that waits on the TOC."""
    ref = _via(proxy, toc_images, "debian:zc")
    probe = open_registry(ref, Options(no_cache=True), reference=ref)
    proxy.reset()
    proxy.faults.silent.add(probe.layers[0].digest)
    proxy.faults.status_always.append((f"/blobs/{probe.config_digest}", 404))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen([*_entry(entry), "export", ref, "-q",
                              "--cache-dir", str(tmp_path), "--timeout", "3600"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                             cwd=ROOT)
    try:
        # a hang fails here (the proxy closes a silent answer after 60 s, Faults.silent)
        _, err = child.communicate(timeout=30)
        asked = proxy.requests_to(f"/blobs/{probe.layers[0].digest}")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        proxy.reset()
    assert asked  # the case is real: the TOC was asked for
    lines = err.decode().splitlines()
    assert child.returncode == 1 and len(lines) == 1 and "please report" not in lines[0], lines
