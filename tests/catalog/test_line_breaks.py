"""Package databases split into lines as the tools that write and read them do, never at
every break ``str.splitlines()`` knows (as ``/etc/passwd``:
``tests/classify/test_classify.py::test_passwd_lines_are_glibcs``).

``BREAKS`` are the characters ``str.splitlines()`` ends a line at besides ``"\\n"``. Each
reader's table holds the ones that tool keeps inside a line (dpkg's ``.list`` and
``.md5sums``, pip's ``installed-files.txt``: every one; ``email``, which reads METADATA for
``importlib.metadata``, and csv, which reads RECORD: all but ``"\\r"``), so every row failed
on the ``splitlines()`` code: a file name with U+2028 was two paths, a ``Summary`` with U+2028
then ``Version: 9`` set the version."""

from __future__ import annotations

import email

import pytest

from inspector.catalog.builder import Catalog, catalog_image
from tests.catalog.fsbuild import build_fs

#: (name, character): where ``str.splitlines()`` breaks a line besides "\n"
BREAKS = [("carriage return", "\r"), ("vertical tab", "\x0b"), ("form feed", "\x0c"),
          ("file separator", "\x1c"), ("group separator", "\x1d"), ("record separator", "\x1e"),
          ("next line U+0085", "\x85"), ("line separator U+2028", "\u2028"),
          ("paragraph separator U+2029", "\u2029")]
#: the breaks that are not one for ``email`` and csv (both end a line at "\r" too)
NOT_CR = [(name, c) for name, c in BREAKS if c != "\r"]
SITE = "usr/lib/python3/dist-packages"
STATUS = b"Package: pkg\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n\n"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def owned(catalog: Catalog, name: str) -> list[str]:
    return sorted(p for p, i in catalog.owners.items() if catalog.packages[i].name == name)


def _files(c: str) -> dict[str, bytes]:
    """The file whose name holds ``c``, and the file its first half would name."""
    return {f"usr/bin/a{c}b": b"1", "usr/bin/a": b"2"}


#: (name, image files, paths the package owns): dpkg's .list (``var/lib/dpkg/info``) and a
#: distroless ``status.d`` entry's .md5sums, read a line per "\n" as dpkg reads them
DPKG = [(f".list: {name}", {"var/lib/dpkg/status": STATUS,
                            "var/lib/dpkg/info/pkg.list": f"/usr/bin/a{c}b\n".encode(), **_files(c)},
         [f"/usr/bin/a{c}b"]) for name, c in BREAKS]
DPKG += [(f".md5sums: {name}", {"var/lib/dpkg/status.d/pkg": STATUS,
                                "var/lib/dpkg/status.d/pkg.md5sums": f"{MD5}  usr/bin/a{c}b\n".encode(),
                                **_files(c)},
          [f"/usr/bin/a{c}b"]) for name, c in BREAKS]


@pytest.mark.parametrize(("name", "files", "expected"), DPKG, ids=[c[0] for c in DPKG])
def test_dpkg_file_lists_are_split_as_dpkg_splits_them(name, files, expected):
    catalog = catalog_image(build_fs(files))
    assert [p.name for p in catalog.packages] == ["pkg"], catalog.warnings
    assert owned(catalog, "pkg") == expected


def _metadata(c: str) -> bytes:
    return (f"Metadata-Version: 2.1\nName: pkg\nSummary: x{c}Version: 9{c}"
            f"Classifier: License :: OSI Approved :: Evil\nVersion: 1.0\n\n").encode()


#: (name, METADATA, (version, licences)): a header line ends where ``email`` ends it
METADATA = [(f"METADATA: {name}", _metadata(c), ("1.0", [])) for name, c in NOT_CR]


@pytest.mark.parametrize(("name", "metadata", "expected"), METADATA, ids=[c[0] for c in METADATA])
def test_python_metadata_lines_are_emails(name, metadata, expected):
    catalog = catalog_image(build_fs({f"{SITE}/pkg-1.0.dist-info/METADATA": metadata}))
    (p,) = catalog.packages
    assert (p.version, p.licenses) == expected
    # what importlib.metadata (email) makes of the same text
    message = email.message_from_string(metadata.decode())
    assert (message["Version"], message.get_all("Classifier")) == (expected[0], None)


#: (name, image files, paths the distribution owns): a RECORD row ends at an unquoted
#: "\r" or "\n" (csv); installed-files.txt a line per "\n" (pip and setuptools write it so)
FILE_LISTS = [(f"RECORD: {name}", {
    f"{SITE}/pkg-1.0.dist-info/METADATA": b"Name: pkg\nVersion: 1.0\n\n",
    f"{SITE}/pkg-1.0.dist-info/RECORD": f"pkg/a{c}b.py,,\n".encode(),
    f"{SITE}/pkg/a{c}b.py": b"1", f"{SITE}/pkg/a": b"2"}, [f"/{SITE}/pkg/a{c}b.py"])
    for name, c in NOT_CR]
FILE_LISTS += [(f"installed-files.txt: {name}", {
    f"{SITE}/pkg.egg-info/PKG-INFO": b"Name: pkg\nVersion: 1.0\n\n",
    f"{SITE}/pkg.egg-info/installed-files.txt": f"../pkg/a{c}b.py\n".encode(),
    f"{SITE}/pkg/a{c}b.py": b"1", f"{SITE}/pkg/a": b"2"}, [f"/{SITE}/pkg/a{c}b.py"])
    for name, c in BREAKS]
FILE_LISTS += [("RECORD: a quoted name with a newline is one row", {
    f"{SITE}/pkg-1.0.dist-info/METADATA": b"Name: pkg\nVersion: 1.0\n\n",
    f"{SITE}/pkg-1.0.dist-info/RECORD": b'"pkg/a\nb.py",,\r\n',
    f"{SITE}/pkg/a\nb.py": b"1", f"{SITE}/pkg/a": b"2"}, [f"/{SITE}/pkg/a\nb.py"])]


@pytest.mark.parametrize(("name", "files", "expected"), FILE_LISTS, ids=[c[0] for c in FILE_LISTS])
def test_python_file_lists_are_split_as_their_writers_write_them(name, files, expected):
    catalog = catalog_image(build_fs(files))
    assert [p.name for p in catalog.packages] == ["pkg"], catalog.warnings
    assert owned(catalog, "pkg") == expected


def test_a_record_field_past_csvs_limit_loses_that_record_only():
    catalog = catalog_image(build_fs({
        f"{SITE}/big-1.0.dist-info/METADATA": b"Name: big\nVersion: 1.0\n\n",
        f"{SITE}/big-1.0.dist-info/RECORD": b'"' + b"x" * 200_000 + b",,\n",
        f"{SITE}/ok-1.0.dist-info/METADATA": b"Name: ok\nVersion: 1.0\n\n",
        f"{SITE}/ok-1.0.dist-info/RECORD": b"ok.py,,\n", f"{SITE}/ok.py": b"1"}))
    assert sorted(p.name for p in catalog.packages) == ["big", "ok"]
    assert owned(catalog, "ok") == [f"/{SITE}/ok.py"]
    (warning,) = catalog.warnings
    assert "big-1.0.dist-info/RECORD" in warning and "field limit" in warning
