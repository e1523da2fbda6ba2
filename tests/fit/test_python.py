"""Python applications: the bundled distroless-python3 base is tried for them (only for
them), and the modules the application imports are checked against the base's Python
(statically, with ``ast``): the real sample's standard library decides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector.cli import main
from inspector.fit.pymods import app_modules, imports
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout
from tests.fit.elfbuild import make_elf

STATIC = make_elf(interp=None, dynamic=False, e_type=2)


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> list[str]:
    return ["--cache-dir", str(tmp_path_factory.mktemp("cache")), "-q"]


def _image(tmp_path: Path, files: dict, config: dict) -> str:
    root = tmp_path / "layout"
    write_oci_layout(root, [ImageSpec([make_layer(files)], ref_name="app",
                                      config_extra={"config": config})])
    return f"oci:{root}:app"


def fit_json(capsys, cache, ref: str) -> dict:
    code = main(["fit", ref, "--format", "json", *cache])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_the_python_sample_fits_distroless_python3(capsys, cache):
    r = fit_json(capsys, cache, "sample:hello-python-debian")
    assert (r["language"], r["runs"]) == ("python", ["script", "/app/main.py"])
    verdicts = {c["label"]: c["verdict"] for c in r["candidates"]}
    assert verdicts == {"distroless-static": "does not fit", "distroless-base": "does not fit",
                        "distroless-cc": "does not fit", "distroless-python3": "fits"}
    assert r["chosen"]["from_ref"] == "gcr.io/distroless/python3-debian12"
    assert r["app_files"] == ["/app/main.py"]


def test_a_native_program_is_not_offered_the_python_base(capsys, cache):
    r = fit_json(capsys, cache, "sample:hello-c-debian")
    assert "distroless-python3" not in {c["label"] for c in r["candidates"]}


MAIN = b"""import os, socket
import json
from mylib import helper
from http.server import HTTPServer
from . import sibling
try:
    import ujson
except ImportError:
    ujson = None
"""


def test_modules_the_base_lacks_are_reported(capsys, cache, tmp_path):
    """The minimal standard library has os and socket, not json or http: the app does not
    fit, and says which modules and where they are imported."""
    files = {"usr/bin/python3": Entry("file", STATIC, mode=0o755), "app/main.py": MAIN,
             "app/mylib.py": b"import os\ndef helper(): pass\n", "app/util/x.py": b"import csv\n"}
    r = fit_json(capsys, cache, _image(tmp_path, files, {
        "Entrypoint": ["python3"], "Cmd": ["/app/main.py"], "Env": ["PATH=/usr/bin"]}))
    py = next(c for c in r["candidates"] if c["label"] == "distroless-python3")
    assert py["verdict"] == "does not fit"
    assert py["missing"] == ["python module http (imported by /app/main.py)",
                             "python module json (imported by /app/main.py)"]


IMPORTS = [
    ("plain and dotted", {"/a.py": b"import os.path, email.mime\n"}, {"os", "email"}),
    ("from-import", {"/a.py": b"from collections import abc\n"}, {"collections"}),
    ("relative imports are the app's own", {"/a.py": b"from . import x\nfrom .y import z\n"},
     set()),
    ("__future__ is not a module to provide", {"/a.py": b"from __future__ import annotations\n"},
     set()),
    ("inside try: optional", {"/a.py": b"try:\n    import lxml\nexcept ImportError:\n    pass\n"},
     set()),
    ("inside a function still counts", {"/a.py": b"def f():\n    import sqlite3\n"},
     {"sqlite3"}),
    ("a file that does not parse is skipped", {"/a.py": b"print 'py2'\n", "/b.py": b"import re\n"},
     {"re"}),
    ("nesting past the parser's limit is skipped", {"/a.py": b"x = " + b"(" * 100_000 + b"\n"},
     set()),
    ("not UTF-8 is skipped", {"/a.py": b"\xff\xfe import os\n"}, set()),
]


@pytest.mark.parametrize(("name", "sources", "expected"), IMPORTS, ids=[i[0] for i in IMPORTS])
def test_imports_are_read_statically(name, sources, expected):
    assert set(imports(sources)) == expected


OWN = [
    ("a module next to the script", ["/app/main.py", "/app/mylib.py"], ["/app"],
     {"main", "mylib"}),
    ("a package next to the script", ["/app/pkg/__init__.py", "/app/pkg/x.py"], ["/app"],
     {"pkg"}),
    ("pip's site-packages", ["/usr/local/lib/python3.11/site-packages/flask/__init__.py",
                             "/usr/local/lib/python3.11/site-packages/_cffi.cpython-311-x86_64-linux-gnu.so"],
     ["/app"], {"flask", "_cffi"}),
    ("a file elsewhere is not importable", ["/srv/other/tool.py"], ["/app"], set()),
]


@pytest.mark.parametrize(("name", "paths", "roots", "expected"), OWN, ids=[o[0] for o in OWN])
def test_the_applications_own_modules(name, paths, roots, expected):
    assert app_modules(paths, roots) == expected
