"""The application's own files: owned by no OS package (the catalog's file → package map),
language packages included, OS state and OS leftovers excluded; COPY roots are the topmost
directories holding nothing else."""

from __future__ import annotations

import pytest

from inspector.catalog.builder import catalog_image
from inspector.fit.app import app_files
from tests.builders import Entry
from tests.catalog.fsbuild import build_fs

SP = "usr/local/lib/python3.11/site-packages"
OS_LAYER = {
    "var/lib/dpkg/status": b"Package: mawk\nStatus: install ok installed\nVersion: 1.3.4\n"
                           b"Architecture: amd64\n\n",
    "var/lib/dpkg/info/mawk.list": b"/usr/bin/mawk\n/usr/share/doc/mawk/copyright\n",
    "usr/bin/mawk": Entry("file", b"\x7fELF mawk", mode=0o755),
    "usr/share/doc/mawk/copyright": b"c",
    "etc/alternatives/awk": Entry("symlink", target="/usr/bin/mawk"),
    "usr/bin/awk": Entry("symlink", target="/etc/alternatives/awk"),  # made by a postinst
    "etc/passwd": b"root:x:0:0::/root:/bin/sh\n",
    "var/lib/shells.state": b"",  # unowned leftover in the OS layer
    "opt/tool/run": b"#!/bin/sh\n",  # unowned, but where applications live
}
APP_LAYER = {
    "app/server": Entry("file", b"\x7fELF app", mode=0o755),
    "app/static/index.html": b"<html>",
    "app/bin": Entry("symlink", target="server"),
    f"{SP}/flask/__init__.py": b"x = 1\n",
    f"{SP}/flask-3.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: flask\nVersion: 3.0\n\n",
    f"{SP}/flask-3.0.dist-info/RECORD": b"flask/__init__.py,,\nflask-3.0.dist-info/METADATA,,\n"
                                        b"flask-3.0.dist-info/RECORD,,\n",
    "etc/myapp.conf": b"port=80\n",  # unowned, in a layer that installed no OS package
    "var/log/app.log": b"old log",  # OS state directory: never copied
}


@pytest.fixture(scope="module")
def result():
    fs = build_fs(OS_LAYER, APP_LAYER)
    return app_files(fs, catalog_image(fs))


CASES = [
    ("the application's binary", "/app/server", True),
    ("its data", "/app/static/index.html", True),
    ("its symlink to its own file", "/app/bin", True),
    ("a pip package's file", f"/{SP}/flask/__init__.py", True),
    ("the pip package's metadata", f"/{SP}/flask-3.0.dist-info/METADATA", True),
    ("its own config in a layer without OS packages", "/etc/myapp.conf", True),
    ("an unowned file under /opt in the OS layer", "/opt/tool/run", True),
    ("a dpkg-owned binary", "/usr/bin/mawk", False),
    ("a dpkg-owned doc", "/usr/share/doc/mawk/copyright", False),
    ("an alternatives link", "/usr/bin/awk", False),
    ("the alternatives entry", "/etc/alternatives/awk", False),
    ("the package database", "/var/lib/dpkg/status", False),
    ("users", "/etc/passwd", False),
    ("an unowned leftover in the OS layer", "/var/lib/shells.state", False),
    ("a log", "/var/log/app.log", False),
]


@pytest.mark.parametrize(("name", "path", "expected"), CASES, ids=[c[0] for c in CASES])
def test_ownership(result, name, path, expected):
    assert (path in result.paths) is expected


def test_copy_roots_are_the_topmost_directories_of_app_files_only(result):
    assert result.roots == ["/app", "/etc/myapp.conf", "/opt", "/usr/local"]
    assert result.bytes == sum(len(v) if isinstance(v, bytes) else len(v.data)
                               for k, v in {**OS_LAYER, **APP_LAYER}.items()
                               if "/" + k in result.paths
                               and (isinstance(v, bytes) or v.type == "file"))
