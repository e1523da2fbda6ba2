"""Filesystems built in code for the loader and entrypoint tests: ``{path: bytes | Entry}``
through the real tar walker and merge, and a reader serving the same bytes."""

from __future__ import annotations

from inspector.catalog.fspath import Resolver
from inspector.fit.closure import closure
from inspector.fit.elf import parse_elf
from inspector.fit.ldso import file_exists, search_path
from tests.builders import Entry
from tests.catalog.fsbuild import build_fs

Files = dict[str, "bytes | Entry"]


def exe(data: bytes) -> Entry:
    return Entry("file", data, mode=0o755)


def link(target: str) -> Entry:
    return Entry("symlink", target=target)


class DictReader:
    """File contents as the layer gave them (regular files only, like ``ImageFiles``)."""

    def __init__(self, files: Files) -> None:
        self.files = {("/" + p.lstrip("/")): (v.data if isinstance(v, Entry) else v)
                      for p, v in files.items()
                      if not isinstance(v, Entry) or v.type == "file"}
        self.reads: list[list[str]] = []

    def read_many(self, paths):
        paths = list(paths)
        self.reads.append(paths)
        return {p: self.files.get(p) for p in paths}


def load(files: Files, program: str, env: dict[str, str] | None = None,
         reader: DictReader | None = None):
    """The closure of ``program`` in a filesystem of ``files``."""
    fs = build_fs(files)
    reader = reader or DictReader(files)
    resolver = Resolver(fs)
    real = resolver.resolve(program)
    elf = parse_elf(reader.files[real], real)

    def read_text(path):
        data = reader.files.get(path)
        return None if data is None else data.decode()

    sp = search_path(fs, resolver, elf.machine, elf.bits, elf.interpreter, env or {}, read_text)
    return closure(real, elf, sp, file_exists(fs, resolver), reader)


__all__ = ["DictReader", "Entry", "build_fs", "exe", "link", "load"]
