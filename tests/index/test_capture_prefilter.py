"""The walker's pre-filter comes from the capture table (``capture.candidate``; in C the
tuple ``tarscan._bases`` hands over): a new cataloger's reads, of any kind and anywhere,
are captured by both walkers with no change to them. The pre-filter once knew only whole
basenames, ``-info`` in the path and ``/var/lib/dpkg/``: a ``.gemspec`` suffix or a prefix
outside dpkg's directory was never captured.

Each case runs in a fresh interpreter whose registry has one more cataloger row (the
table is read when ``index.capture`` is imported)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.walkpaths import require_accelerator

ROOT = Path(__file__).resolve().parents[2]

#: (name, the read, the files of the layer, the paths captured)
READS = [
    ("suffix within a name", "suffix('.gemspec', 4096, '/g/a.gemspec')",
     ["usr/lib/ruby/specifications/rake-13.0.gemspec", "usr/lib/x.gemspecs", "gemspec"],
     ["/usr/lib/ruby/specifications/rake-13.0.gemspec"]),
    ("suffix across names", "suffix('.d/manifest.txt', 4096, '/a.d/manifest.txt')",
     ["opt/app.d/manifest.txt", "opt/app.e/manifest.txt"], ["/opt/app.d/manifest.txt"]),
    ("prefix outside dpkg", "prefix('/opt/probe/', 4096, '/opt/probe/x')",
     ["opt/probe/a", "opt/probe/deep/b", "opt/probex/c"], ["/opt/probe/a", "/opt/probe/deep/b"]),
    ("prefix with endings", "prefix('/srv/db/', 4096, '/srv/db/a.rec', only=('.rec',))",
     ["srv/db/a.rec", "srv/db/a.txt"], ["/srv/db/a.rec"]),
    ("exact", "exact('/etc/probe.conf', 4096)", ["etc/probe.conf", "etc/probe.conf2"],
     ["/etc/probe.conf"]),
    ("child", "child('/usr/share/probe/', 'INFO', 4096, '/usr/share/probe/a/INFO')",
     ["usr/share/probe/a/INFO", "usr/share/probe/a/b/INFO"], ["/usr/share/probe/a/INFO"]),
]

CODE = """
import json, sys
from inspector.catalog import registry
from inspector.catalog.reads import child, exact, prefix, suffix
registry.CATALOGERS = (*registry.CATALOGERS, registry.Cataloger("probe", "probe", ({read},)))
from tests.catalog.fsbuild import layer_index
index = layer_index({{name: b"content" for name in json.loads(sys.argv[1])}})
print(json.dumps(sorted(index.captured)))
"""


@pytest.mark.parametrize("path", ["c", "pure"])
@pytest.mark.parametrize(("name", "read", "files", "captured"), READS, ids=[r[0] for r in READS])
def test_every_kind_of_read_reaches_the_walker(name, read, files, captured, path):
    if path == "c":
        require_accelerator()
    env = {**os.environ, "INSPECTOR_PURE": "1" if path == "pure" else "0"}
    proc = subprocess.run([sys.executable, "-c", CODE.format(read=read), json.dumps(files)],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == captured
