"""Every cache key names the code that computes its entries, the C accelerator included:
a byte changed in ``_tarscan.c`` or ``tarscan.py`` must change the index, analysis and
export digests (else a C fix is answered from entries an older build wrote); a byte in
``index/packed.py`` (the merged filesystem's packed entry, decoded by the merge, the
classification and the export rows) the analysis and export digests, not the index's (a
layer's rows never hold a packed entry); a byte in ``classify/rules.toml`` all three (a
layer listed from its TOC has first bytes only where the rules' ``bin_dirs`` need them)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import inspector.codehash as codehash
from inspector.analysis_cache import AnalysisCache
from inspector.index.cache import IndexCache
from inspector.report import export_cache

#: (name, the cache's store for a root)
STORES = [
    ("index", lambda root: IndexCache(root).store),
    ("analysis", lambda root: AnalysisCache(root).store),
    ("export", lambda root: export_cache._store(root)),
]

ALL = {"index", "analysis", "export"}
#: (name, file under the package, how its bytes change, the digests that change)
EDITS = [
    ("c byte flipped", "index/_tarscan.c", lambda b: b[:100] + bytes([b[100] ^ 1]) + b[101:], ALL),
    ("c line appended", "index/_tarscan.c", lambda b: b + b"/* a fix */\n", ALL),
    ("loader byte flipped", "index/tarscan.py", lambda b: b[:50] + bytes([b[50] ^ 1]) + b[51:], ALL),
    # which executables' Go build info an index keeps (capture.GO_FLOOR), the TOC path too
    ("capture table edited", "index/capture.py", lambda b: b + b"# edited\n", ALL),
    ("TOC listing edited", "index/from_toc.py", lambda b: b + b"# edited\n", ALL),
    ("packed entry byte flipped", "index/packed.py",
     lambda b: b[:50] + bytes([b[50] ^ 1]) + b[51:], {"analysis", "export"}),
    # which heads a later layer's hardlinks fetch from a TOC-listed layer decides categories
    ("link heads edited", "index/linkheads.py", lambda b: b + b"# edited\n",
     {"analysis", "export"}),
    # a TOC-built index fetches executables' first bytes by the rules' bin_dirs
    ("classification rules edited", "classify/rules.toml", lambda b: b + b"# edited\n", ALL),
    # the export caches the packages' provenance and the base/own sides it computes
    ("provenance edited", "provenance.py", lambda b: b + b"# edited\n", {"export"}),
]


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A copy of the package's sources, which ``codehash`` hashes instead of the real one."""
    copy = tmp_path / "inspector"
    shutil.copytree(codehash.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    monkeypatch.setattr(codehash, "PACKAGE", copy)
    codehash.forget()
    yield copy
    codehash.forget()


def _digests(root: Path) -> dict[str, str]:
    codehash.forget()
    return {name: store(root).code_digest for name, store in STORES}


@pytest.mark.parametrize(("name", "file", "edit", "changed"), EDITS, ids=[e[0] for e in EDITS])
def test_an_edit_changes_the_digests_of_what_it_computes(package, tmp_path, name, file, edit,
                                                          changed):
    before = _digests(tmp_path)
    path = package / file
    path.write_bytes(edit(path.read_bytes()))
    after = _digests(tmp_path)
    assert {n for n in before if before[n] != after[n]} == changed


def test_an_unrelated_file_changes_no_digest(package, tmp_path):
    """The keys stay apart: the TUI's code is in none of them."""
    before = _digests(tmp_path)
    (package / "tui" / "app.py").write_text("# edited\n")
    assert _digests(tmp_path) == before


def test_a_part_named_twice_is_hashed_once():
    assert codehash.source_digest(("index/tarscan.py", "index/tarscan.py")) \
        == codehash.source_digest(("index/tarscan.py",))
