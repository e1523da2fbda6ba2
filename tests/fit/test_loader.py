"""The loader's search on synthetic filesystems: one case per rule of ld.so(8), plus
loops and missing libraries. (Real binaries against the real loader: test_truth.py.)"""

from __future__ import annotations

import pytest

from inspector.catalog.fspath import Resolver
from inspector.fit.ldso import search_path
from tests.catalog.test_line_breaks import BREAKS
from tests.fit.elfbuild import make_elf
from tests.fit.helpers import DictReader, build_fs, exe, link, load

LD = "/lib64/ld-linux-x86-64.so.2"
MA = "/usr/lib/x86_64-linux-gnu"


def lib(*needed, **kw) -> bytes:
    return make_elf(interp=None, needed=list(needed), **kw)


def base_fs() -> dict:
    """A merged-/usr Debian layout with the loader and libc."""
    return {"lib": link("usr/lib"), "lib64": link("usr/lib64"),
            "usr/lib64/ld-linux-x86-64.so.2": link(f"{MA}/ld-linux-x86-64.so.2"),
            f"{MA[1:]}/ld-linux-x86-64.so.2": exe(lib(soname="ld-linux-x86-64.so.2")),
            f"{MA[1:]}/libc.so.6": lib("ld-linux-x86-64.so.2", soname="libc.so.6")}


def found(result) -> dict[str, tuple[str, str]]:
    return {x.name: (x.real, x.how) for x in result.all_objects()}


CASES = [
    ("default directories", {"app/p": exe(make_elf(needed=["libc.so.6"]))},
     {}, {"libc.so.6": (f"{MA}/libc.so.6", "default")}, []),
    ("$ORIGIN runpath", {"app/bin/p": exe(make_elf(needed=["libapp.so"], runpath="$ORIGIN/../lib")),
                         "app/lib/libapp.so": lib("libc.so.6")},
     {}, {"libapp.so": ("/app/lib/libapp.so", "RUNPATH"), "libc.so.6": (f"{MA}/libc.so.6", "default")}, []),
    ("symlinked library", {"app/p": exe(make_elf(needed=["libz.so.1"])),
                           f"{MA[1:]}/libz.so.1": link("libz.so.1.2.13"),
                           f"{MA[1:]}/libz.so.1.2.13": lib("libc.so.6", soname="libz.so.1")},
     {}, {"libz.so.1": (f"{MA}/libz.so.1.2.13", "default"),
          "libc.so.6": (f"{MA}/libc.so.6", "default")}, []),
    ("missing library", {"app/p": exe(make_elf(needed=["libnope.so.3", "libc.so.6"]))},
     {}, {"libc.so.6": (f"{MA}/libc.so.6", "default")}, ["libnope.so.3"]),
    ("DT_NEEDED loop a→b→a", {"app/p": exe(make_elf(needed=["liba.so"])),
                              f"{MA[1:]}/liba.so": lib("libb.so", soname="liba.so"),
                              f"{MA[1:]}/libb.so": lib("liba.so", soname="libb.so")},
     {}, {"liba.so": (f"{MA}/liba.so", "default"), "libb.so": (f"{MA}/libb.so", "default")}, []),
    ("a library needing itself", {"app/p": exe(make_elf(needed=["libself.so"])),
                                  f"{MA[1:]}/libself.so": lib("libself.so")},
     {}, {"libself.so": (f"{MA}/libself.so", "default")}, []),
    ("RPATH is inherited by indirect needs",
     {"app/p": exe(make_elf(needed=["libx.so"], rpath="/opt/r")),
      f"{MA[1:]}/libx.so": lib("liby.so"), "opt/r/liby.so": lib()},
     {}, {"libx.so": (f"{MA}/libx.so", "default"), "liby.so": ("/opt/r/liby.so", "RPATH")}, []),
    ("RUNPATH is not inherited",
     {"app/p": exe(make_elf(needed=["libx.so"], runpath="/opt/r")),
      f"{MA[1:]}/libx.so": lib("liby.so"), "opt/r/liby.so": lib()},
     {}, {"libx.so": (f"{MA}/libx.so", "default")}, ["liby.so"]),
    ("RUNPATH disables the object's RPATH",
     {"app/p": exe(make_elf(needed=["libq.so"], rpath="/opt/rp", runpath="/opt/ru")),
      "opt/rp/libq.so": lib(), "opt/ru/libq.so": lib()},
     {}, {"libq.so": ("/opt/ru/libq.so", "RUNPATH")}, []),
    ("LD_LIBRARY_PATH from the config's Env",
     {"app/p": exe(make_elf(needed=["libl.so"])), "opt/l/libl.so": lib()},
     {"LD_LIBRARY_PATH": "/opt/l"}, {"libl.so": ("/opt/l/libl.so", "LD_LIBRARY_PATH")}, []),
    ("ld.so.conf with an include, used when ld.so.cache exists",
     {"app/p": exe(make_elf(needed=["libc1.so"])), "etc/ld.so.cache": b"cache",
      "etc/ld.so.conf": b"# comment\ninclude /etc/ld.so.conf.d/*.conf\n",
      "etc/ld.so.conf.d/custom.conf": b"/opt/custom/lib\n", "opt/custom/lib/libc1.so": lib()},
     {}, {"libc1.so": ("/opt/custom/lib/libc1.so", "ld.so.cache")}, []),
    ("ld.so.conf without ld.so.cache is not searched (distroless)",
     {"app/p": exe(make_elf(needed=["libc1.so"])),
      "etc/ld.so.conf": b"/opt/custom/lib\n", "opt/custom/lib/libc1.so": lib()},
     {}, {}, ["libc1.so"]),
    ("an ld.so.conf including itself ends",
     {"app/p": exe(make_elf(needed=["libc.so.6"])), "etc/ld.so.cache": b"c",
      "etc/ld.so.conf": b"include /etc/ld.so.conf\n"},
     {}, {"libc.so.6": (f"{MA}/libc.so.6", "ld.so.cache")}, []),
    ("a name with a slash is a path", {"app/p": exe(make_elf(needed=["/app/lib/libp.so"])),
                                      "app/lib/libp.so": lib()},
     {}, {"/app/lib/libp.so": ("/app/lib/libp.so", "path")}, []),
]


@pytest.mark.parametrize(("name", "files", "env", "expected", "missing"), CASES,
                         ids=[c[0] for c in CASES])
def test_search_rules(name, files, env, expected, missing):
    result = load({**base_fs(), **files}, "/app/p" if "app/p" in files else "/app/bin/p", env)
    got = found(result)
    assert got.pop("ld-linux-x86-64.so.2") == (f"{MA}/ld-linux-x86-64.so.2", "loader")
    assert got == expected
    assert [m.name for m in result.missing] == missing


def test_missing_library_says_who_needs_it_and_where_it_was_looked_for():
    result = load({**base_fs(), "app/p": exe(make_elf(needed=["libnope.so"], runpath="/opt/x"))},
                  "/app/p")
    (m,) = result.missing
    assert m.needed_by == ["/app/p"]
    assert m.searched == ["/opt/x", "/lib/x86_64-linux-gnu", MA, "/lib", "/usr/lib"]


def test_each_level_is_read_in_one_batch():
    files = {**base_fs(), "app/p": exe(make_elf(needed=["liba.so", "libb.so"])),
             f"{MA[1:]}/liba.so": lib("libc.so.6"), f"{MA[1:]}/libb.so": lib("libc.so.6")}
    reader = DictReader(files)
    result = load(files, "/app/p", reader=reader)
    assert sorted(x.name for x in result.libraries) == ["liba.so", "libb.so", "libc.so.6"]
    # level 1: liba + libb together; level 2: libc (its own need, the loader, is known)
    assert [sorted(r) for r in reader.reads] == [[f"{MA}/liba.so", f"{MA}/libb.so"],
                                                 [f"{MA}/libc.so.6"]]


def test_a_truncated_library_is_an_error_not_a_crash():
    files = {**base_fs(), "app/p": exe(make_elf(needed=["libbad.so"])),
             f"{MA[1:]}/libbad.so": lib("libc.so.6")[:70]}
    result = load(files, "/app/p")
    assert [x.name for x in result.libraries] == ["libbad.so"]
    assert result.libraries[0].error and "truncated ELF" in result.errors[0]


MUSL = [
    ("musl default path", {}, {"libz.so.1": ("/lib/libz.so.1", "default")}),
    ("musl path file", {"etc/ld-musl-x86_64.path": b"/opt/m/lib\n"},
     {"libz.so.1": ("/opt/m/lib/libz.so.1", "default")}),
]


@pytest.mark.parametrize(("name", "extra", "expected"), MUSL, ids=[m[0] for m in MUSL])
def test_musl_search(name, extra, expected):
    loader = "/lib/ld-musl-x86_64.so.1"
    files = {"lib/ld-musl-x86_64.so.1": exe(lib(soname="libc.musl-x86_64.so.1")),
             "lib/libc.musl-x86_64.so.1": link("ld-musl-x86_64.so.1"),
             "lib/libz.so.1": lib("libc.musl-x86_64.so.1"),
             "opt/m/lib/libz.so.1": lib("libc.musl-x86_64.so.1"),
             "app/p": exe(make_elf(interp=loader, needed=["libz.so.1", "libc.musl-x86_64.so.1"])),
             **extra}
    result = load(files, "/app/p")
    # musl's libc is its loader: the name resolves to the object already loaded
    assert result.loader.real == "/lib/ld-musl-x86_64.so.1"
    got = {x.name: (x.real, x.how) for x in result.libraries}
    assert got == expected and not result.missing


def _search_path(files: dict, interpreter: str | None = None):
    reader = DictReader(files)
    fs = build_fs(files)
    return search_path(fs, Resolver(fs), "x86_64", 64, interpreter, {},
                       lambda p: None if reader.files.get(p) is None else reader.files[p].decode())


#: (name, ld.so.conf, the directories it gives): glibc's ldconfig reads a line per "\n"
#: (getline) and takes the whole line as one directory, so no other break
#: ``str.splitlines()`` knows makes two (each row failed on the splitlines() code)
LD_SO_CONF = [(name, f"/opt/a{c}/opt/b\n".encode(), [f"/opt/a{c}/opt/b"]) for name, c in BREAKS]
LD_SO_CONF += [
    ("a CRLF line: the carriage return is trailing whitespace", b"/opt/a/\r\n", ["/opt/a"]),
    ("a blank inside the line is part of the directory", b"/opt/a /opt/b\n", ["/opt/a /opt/b"]),
    ("=TYPE suffix and comment dropped", b"  /opt/a=libc6 # x\n", ["/opt/a"]),
]


@pytest.mark.parametrize(("name", "conf", "expected"), LD_SO_CONF, ids=[c[0] for c in LD_SO_CONF])
def test_ld_so_conf_lines_are_ldconfigs(name, conf, expected):
    sp = _search_path({**base_fs(), "etc/ld.so.cache": b"cache", "etc/ld.so.conf": conf})
    assert sp.cache_dirs[:len(expected)] == expected
    assert sp.cache_dirs[len(expected):] == sp.default_dirs


#: (name, /etc/ld-musl-x86_64.path, the directories): musl reads it up to a NUL and splits
#: at ":" and "\n" only (each row failed on the splitlines() code)
MUSL_PATH = [(name, f"/opt/m{c}/opt/n\n".encode(), [f"/opt/m{c}/opt/n"]) for name, c in BREAKS]
MUSL_PATH += [("a NUL ends the file", b"/opt/m\0/opt/n\n", ["/opt/m"])]


@pytest.mark.parametrize(("name", "path_file", "expected"), MUSL_PATH, ids=[c[0] for c in MUSL_PATH])
def test_musl_path_file_is_split_as_musl_splits_it(name, path_file, expected):
    sp = _search_path({"etc/ld-musl-x86_64.path": path_file}, "/lib/ld-musl-x86_64.so.1")
    assert sp.default_dirs == expected
