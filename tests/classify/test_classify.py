"""Category rules (a table covering every category), busybox links, content detection,
byte totals on the samples, and findings. Ownership and the package table:
test_ownership.py; goldens and ground truth: test_golden.py, test_ground_truth.py."""

from __future__ import annotations

import pytest

from inspector.catalog.builder import catalog_image
from inspector.classify import CATEGORY_ORDER, Findings, classify_image
from inspector.classify.rules import load_rules
from tests.builders import Entry
from tests.catalog.fsbuild import build_fs
from tests.catalog.samples import analysis

ELF = b"\x7fELF\x02\x01\x01" + b"\0" * 57

#: (path, entry, expected category)
TABLE = [
    ("/usr/bin/bash", Entry("file", ELF, mode=0o755), "shell"),
    ("/bin/sh", Entry("symlink", target="dash"), "shell"),
    ("/usr/share/bash-completion/completions/find", b"complete", "shell"),
    ("/usr/bin/apt-get", Entry("file", ELF, mode=0o755), "package_manager"),
    ("/usr/bin/dpkg-deb", Entry("file", ELF, mode=0o755), "package_manager"),
    ("/usr/lib/apt/methods/http", Entry("file", ELF, mode=0o755), "package_manager"),
    ("/etc/apt/sources.list", b"deb x", "package_manager"),
    ("/usr/lib/x86_64-linux-gnu/libapt-pkg.so.6.0.0", b"lib", "shared_library"),  # one rule
    ("/usr/local/lib/python3.11/site-packages/pip/__init__.py", b"", "package_manager"),
    ("/var/lib/dpkg/info/bash.list", b"/bin/bash\n", "package_database"),
    ("/var/lib/dpkg/status.d/netbase", b"Package: netbase\nVersion: 1\n", "package_database"),
    ("/lib/apk/db/installed", b"", "package_database"),
    ("/var/cache/apt/pkgcache.bin", b"x", "package_database"),
    ("/usr/bin/ls", Entry("file", ELF, mode=0o755), "core_utilities"),
    ("/usr/bin/[", Entry("file", ELF, mode=0o755), "core_utilities"),
    ("/usr/sbin/mkfs.ext4", Entry("symlink", target="mke2fs"), "core_utilities"),
    ("/opt/tools/grep", Entry("file", ELF, mode=0o755), "core_utilities"),  # by content
    ("/usr/bin/curl", Entry("file", ELF, mode=0o755), "network_tools"),
    ("/usr/bin/ssh-keygen", Entry("file", ELF, mode=0o755), "network_tools"),
    ("/usr/bin/python3.11", Entry("file", ELF, mode=0o755), "interpreter"),
    ("/usr/lib/python3.11/os.py", b"import abc", "interpreter"),
    ("/usr/lib/x86_64-linux-gnu/perl-base/strict.pm", b"1;", "interpreter"),
    ("/usr/local/lib/python3.11/site-packages/flask/app.py", b"", "application"),
    ("/usr/bin/gcc-12", Entry("file", ELF, mode=0o755), "compiler_toolchain"),
    ("/usr/lib/gcc/x86_64-linux-gnu/12/cc1", Entry("file", ELF, mode=0o755), "compiler_toolchain"),
    ("/usr/include/stdio.h", b"int;", "development"),
    ("/usr/lib/x86_64-linux-gnu/libc.a", b"!<arch>", "development"),
    ("/usr/lib/x86_64-linux-gnu/pkgconfig/zlib.pc", b"Name: zlib", "development"),
    ("/usr/share/gcc/python/libstdcxx/v6/printers.py", b"import gdb", "development"),
    ("/usr/share/gdb/auto-load/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30-gdb.py", b"",
     "development"),  # not a lib*.so.* library
    ("/usr/bin/gdb", Entry("file", ELF, mode=0o755), "development"),
    ("/usr/share/doc/bash/copyright", b"(c)", "documentation"),
    ("/usr/share/man/man1/ls.1.gz", b"gz", "documentation"),
    ("/usr/share/locale/de/LC_MESSAGES/bash.mo", b"mo", "locale"),
    ("/usr/lib/locale/C.utf8/LC_CTYPE", b"ct", "locale"),
    ("/usr/lib/x86_64-linux-gnu/libc.so.6", b"lib", "shared_library"),
    ("/usr/lib/x86_64-linux-gnu/libcurl.so.4", b"lib", "shared_library"),  # not network_tools
    ("/usr/lib/x86_64-linux-gnu/security/pam_unix.so", b"lib", "shared_library"),
    ("/usr/lib/python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so", b"lib",
     "interpreter"),  # an extension module goes with what loads it
    ("/usr/bin/ld.so", Entry("symlink", target="../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
     "shared_library"),
    ("/etc/ssl/certs/ca-certificates.crt", b"PEM", "certificates"),
    ("/usr/share/ca-certificates/mozilla/A.crt", b"PEM", "certificates"),
    ("/usr/share/zoneinfo/Europe/Berlin", b"TZif", "timezone_data"),
    ("/etc/localtime", Entry("symlink", target="/usr/share/zoneinfo/Etc/UTC"), "timezone_data"),
    ("/etc/passwd", b"root:x:0:0::/root:/sbin/nologin\n", "configuration"),
    ("/etc/pam.d/su", b"auth sufficient", "configuration"),  # not the su command
    ("/etc/ld.so.cache", b"cache", "configuration"),  # not a *.so.* library
    ("/sbin", Entry("symlink", target="usr/sbin"), "system"),  # usrmerge layout
    ("/lib64", Entry("symlink", target="usr/lib64"), "system"),
    ("/usr/lib/os-release", b"ID=debian\n", "system"),
    ("/etc/os-release", Entry("symlink", target="../usr/lib/os-release"), "system"),
    ("/usr/lib/systemd/system/apt-daily.service", b"[Unit]", "system"),
    ("/usr/lib/lsb/init-functions", b"# sh", "system"),
    ("/usr/lib/mime/packages/tar", b"application/x-tar", "system"),
    ("/etc/alternatives/awk", Entry("symlink", target="/usr/bin/mawk"), "system"),
    ("/etc/init.d/hwclock.sh", Entry("file", b"#!/bin/sh\n", mode=0o755), "system"),
    ("/usr/sbin/service", Entry("file", b"#!/bin/sh\n", mode=0o755), "system"),
    ("/var/log/wtmp", b"", "system"),
    ("/usr/local/man", Entry("symlink", target="share/man"), "documentation"),  # a dir's rule
    ("/usr/local/share/man/man1/x.1", b"man", "documentation"),
    ("/app/server", Entry("file", ELF, mode=0o755), "application"),
    ("/usr/bin/some-tool", Entry("file", ELF, mode=0o755), "application"),
    ("/usr/bin/pager", Entry("symlink", target="less"), "core_utilities"),  # via its target
    ("/usr/bin/less", Entry("file", ELF, mode=0o755), "core_utilities"),
    ("/dev/null", Entry("char"), "system"),  # a device node
    ("/opt/app/fifo", Entry("fifo"), "application"),
]


def test_table_covers_every_category():
    assert {row[2] for row in TABLE} == set(CATEGORY_ORDER)
    rules = load_rules()
    assert set(rules.categories) | set(rules.package_categories) <= set(CATEGORY_ORDER)


@pytest.fixture(scope="module")
def table_result():
    fs = build_fs({path.lstrip("/"): entry for path, entry, _ in TABLE})
    return fs, classify_image(fs, catalog_image(fs))


@pytest.mark.parametrize("path, entry, expected", TABLE, ids=[row[0] for row in TABLE])
def test_category_rules(table_result, path, entry, expected):
    assert table_result[1].categories[path] == expected


def test_every_non_directory_has_one_category_and_bytes_add_up(table_result):
    fs, result = table_result
    non_dirs = {p for p in fs.entries if fs.kind_name(p) != "dir"}
    assert set(result.categories) == non_dirs
    assert list(result.totals) == list(CATEGORY_ORDER)
    assert sum(t.bytes for t in result.totals.values()) == fs.file_bytes
    assert sum(t.files for t in result.totals.values()) == len(non_dirs)
    for name, total in result.totals.items():
        assert total.paths == sorted(p for p, c in result.categories.items() if c == name)


def test_busybox_and_its_applet_links_are_shell():
    fs = build_fs({"bin/busybox": Entry("file", ELF, mode=0o755),
                   "bin/ls": Entry("symlink", target="busybox"),
                   "usr/bin/find": Entry("symlink", target="/bin/busybox"),
                   "bin/cat": Entry("hardlink", target="bin/busybox"),
                   "busybox/busybox": Entry("file", ELF, mode=0o755),
                   "busybox/wget": Entry("symlink", target="/busybox/busybox")})
    result = classify_image(fs, None)
    assert set(result.categories.values()) == {"shell"}
    assert result.totals["shell"].bytes == 2 * len(ELF)  # links count 0


def test_findings():
    fs = build_fs({
        "bin": Entry("symlink", target="usr/bin"),
        "usr/bin/bash": Entry("file", ELF, mode=0o755),
        "usr/sbin/nologin": Entry("file", ELF, mode=0o755),
        "usr/bin/passwd": Entry("file", ELF, mode=0o4755),
        "usr/bin/chage": Entry("file", ELF, mode=0o2755),
        "var/mail": Entry("dir", mode=0o2775),  # setgid directory: not a finding
        "tmp": Entry("dir", mode=0o1777),  # sticky: fine
        "data": Entry("dir", mode=0o777),
        "data/open.txt": Entry("file", b"x", mode=0o666),
        "etc/passwd": b"root:x:0:0:root:/root:/bin/bash\n"
                      b"daemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n"
                      b"ghost:x:2:2::/:/bin/zsh\n# comment\nbroken line\n",
    })
    findings = classify_image(fs, None).findings
    assert findings == Findings(setuid=["/usr/bin/passwd"], setgid=["/usr/bin/chage"],
                                world_writable=["/data", "/data/open.txt"],
                                login_users=["root:/bin/bash"])
    assert findings.as_json() == {"setuid": ["/usr/bin/passwd"], "setgid": ["/usr/bin/chage"],
                                  "world_writable": ["/data", "/data/open.txt"],
                                  "login_users": ["root:/bin/bash"]}
    assert Findings.from_json(findings.as_json()) == findings
    assert findings.get("setgid") == ["/usr/bin/chage"]
    assert findings.get("nope", []) == [] and findings.get("__init__") is None


#: /etc/passwd is read a line per "\n", as glibc reads it: any other line break a str
#: method knows is part of the line — (name, passwd bytes, login users)
PASSWD_LINES = [
    ("plain", b"root:x:0:0::/root:/bin/bash\n", ["root:/bin/bash"]),
    ("no final newline", b"root:x:0:0::/root:/bin/bash", ["root:/bin/bash"]),
    ("carriage return hides a user", b"ok\rEVIL:x:0:0::/:/bin/bash\n", ["ok\rEVIL:/bin/bash"]),
    ("vertical tab", b"a\x0bEVIL:x:0:0::/:/bin/bash\n", ["a\x0bEVIL:/bin/bash"]),
    ("next line (U+0085)", "a\x85EVIL:x:0:0::/:/bin/bash\n".encode(), ["a\x85EVIL:/bin/bash"]),
    ("line separator (U+2028)", "a\u2028EVIL:x:0:0::/:/bin/bash\n".encode(),
     ["a\u2028EVIL:/bin/bash"]),
    # the shell field is stripped: a CRLF file still counts its login shells (the
    # conservative answer for a finding)
    ("crlf", b"root:x:0:0::/root:/bin/bash\r\n", ["root:/bin/bash"]),
]


@pytest.mark.parametrize(("name", "passwd", "users"), PASSWD_LINES,
                         ids=[c[0] for c in PASSWD_LINES])
def test_passwd_lines_are_glibcs(name, passwd, users):
    fs = build_fs({"bin/bash": Entry("file", ELF, mode=0o755), "etc/passwd": passwd})
    assert classify_image(fs, None).findings.login_users == users


def test_bytes_add_up_on_samples_and_what_distroless_leaves_out():
    for ref in ("sample:debian-12-slim", "sample:distroless-static",
                "sample:distroless-static-debug", "sample:distroless-base"):
        a = analysis(ref)
        totals = a.classification.totals
        assert sum(t.bytes for t in totals.values()) == a.fs.file_bytes, ref
    slim = analysis("sample:debian-12-slim").classification
    assert slim.categories["/usr/bin/bash"] == "shell"
    assert slim.categories["/usr/bin/apt"] == "package_manager"
    assert slim.categories["/usr/bin/ls"] == "core_utilities"
    assert slim.findings.login_users == ["root:/bin/bash"]
    assert "/usr/bin/su" in slim.findings.setuid
    static = analysis("sample:distroless-static").classification.totals
    for name in ("shell", "package_manager", "core_utilities"):
        assert (static[name].files, static[name].bytes) == (0, 0), name
    debug = analysis("sample:distroless-static-debug").classification
    assert debug.categories["/busybox/busybox"] == "shell"
    assert debug.categories["/busybox/ls"] == "shell"
    assert debug.totals["shell"].bytes > 500_000
