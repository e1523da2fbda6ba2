"""A hardlink is classified as its inode's file (``hardlinks.settle`` gives it the file's
mode; its first bytes are the file's): a hardlink to an ELF in, say, ``/usr/lib/git-core``
is the program the file is, in the C loop and the Python loop alike. Its bytes stay 0."""

from __future__ import annotations

import pytest

from inspector.classify import classify_image, default_rules
from inspector.index import tarscan
from inspector.index.entries import FILE, HARDLINK, LayerIndex
from inspector.index.merge import merge

ELF, SCRIPT = b"\x7fELF\x02\x01\x01", b"#!/bin/sh\n"

#: (name, the link's path, the file's mode, the file's first bytes, the link header's mode,
#: whether the file is in a lower layer than the link)
CASES = [
    ("an ELF under git-core", "/usr/lib/git-core/git-add", 0o755, ELF, 0o755, False),
    ("an interpreter's name outside bin", "/usr/lib/git-core/python3", 0o755, ELF, 0o755, False),
    ("a shell's name under /opt", "/opt/tools/bash", 0o755, ELF, 0o755, False),
    ("a script", "/usr/libexec/x/apt", 0o755, SCRIPT, 0o755, False),
    ("the link's header says 0644", "/opt/tools/bash", 0o755, ELF, 0o644, False),
    ("the file in a lower layer", "/usr/lib/git-core/python3", 0o755, ELF, 0o755, True),
    ("a file no one may run", "/opt/tools/bash", 0o644, ELF, 0o644, False),
    ("not a program", "/usr/lib/git-core/python3", 0o755, None, 0o755, False),
]

FILE_PATH = "/usr/share/real/file"


def _layers(link: str, mode: int, head: bytes | None, link_mode: int, lower: bool):
    base, top = LayerIndex(diff_id="sha256:a"), LayerIndex(diff_id="sha256:b")
    row = base.add(FILE_PATH, FILE, 1000, mode, 0, 0)
    if head is not None:
        base.heads[row] = head
    at = top if lower else base
    row = at.add(link, HARDLINK, 0, link_mode, 0, 0)
    at.targets[row] = FILE_PATH
    return [base, top]


def _twin(link: str, mode: int, head: bytes | None) -> LayerIndex:
    """The file itself at the link's path."""
    index = LayerIndex(diff_id="sha256:c")
    row = index.add(link, FILE, 1000, mode, 0, 0)
    if head is not None:
        index.heads[row] = head
    return index


@pytest.fixture(params=["c", "python"])
def loop(request, monkeypatch):
    if request.param == "c":
        if tarscan.classify_rows is None:
            pytest.skip("the C accelerator was not built")
    else:
        monkeypatch.setattr(tarscan, "classify_rows", None)
    return request.param


@pytest.mark.parametrize(("name", "link", "mode", "head", "link_mode", "lower"), CASES,
                         ids=[c[0] for c in CASES])
def test_a_hardlink_is_classified_as_its_file(loop, name, link, mode, head, link_mode, lower):
    rules = default_rules()
    fs = merge(_layers(link, mode, head, link_mode, lower))
    assert fs.inodes[link] is not None
    cls = classify_image(fs, None, rules)
    expected = classify_image(merge([_twin(link, mode, head)]), None, rules).category_of(link)
    assert cls.category_of(link) == expected
    total = cls.totals[expected]
    assert link in total.paths
    assert sum(t.bytes for t in cls.totals.values()) == fs.file_bytes == 1000  # the link adds 0
