"""Shared fixtures for the TUI tests: a private index cache, deterministic widgets and a
layered image (the helpers live in ``tests/tui/helpers.py``)."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from inspector.options import Options
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("index-cache")


@pytest.fixture
def options(cache_dir) -> Options:
    return Options(cache_dir=cache_dir)


@pytest.fixture
def layered(tmp_path):
    """Three layers: a base, one that modifies and adds, one that removes."""
    base = make_layer({"etc": Entry("dir"), "etc/passwd": b"root:x:0:0::/root:/bin/sh\n",
                       "bin": Entry("dir"), "bin/sh": Entry("file", b"\x7fELF" + b"\0" * 60, mode=0o4755),
                       "usr/share/doc/pkg/copyright": b"c" * 300})
    mid = make_layer({"etc/passwd": b"root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n",
                      "app": Entry("dir"), "app/server": b"#!/bin/sh\necho hi\n"})
    top = make_layer({"app/config.txt": b"port=80\n"}, whiteouts=["usr/share/doc"])
    history = [{"created_by": "base"}, {"created_by": "ENV A=1", "empty_layer": True},
               {"created_by": "add app"}, {"created_by": "strip docs"}]
    write_oci_layout(tmp_path / "img", [ImageSpec([base, mid, top], ref_name="v1",
                                                  config_extra={"history": history})])
    return f"oci:{tmp_path / 'img'}:v1"


@pytest.fixture(autouse=True)
def no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking Input cursor would make snapshots nondeterministic."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda _self: None, raising=False)
