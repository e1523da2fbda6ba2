"""Installed packages (dpkg, distroless status.d, apk, rpm, python, npm, go).

``catalog_image(fs)`` is the entry point ``analysis`` calls; the catalogers live in their
own modules (issue 4 fills them in)."""

from __future__ import annotations

from dataclasses import dataclass, field

from inspector.index.merge import MergedFS


@dataclass
class Package:
    type: str  # deb|apk|rpm|python|npm|go
    name: str
    version: str
    arch: str | None = None
    size: int | None = None  # bytes of its files present in the final filesystem
    files: int | None = None  # how many of its files are present
    layer: int | None = None  # index of the layer that installed it (its record's layer)
    source_path: str = ""  # the database/file it was read from

    def as_json(self) -> dict:
        return {"type": self.type, "name": self.name, "version": self.version,
                "arch": self.arch, "size": self.size, "files": self.files,
                "layer": self.layer, "source_path": self.source_path}


@dataclass
class Catalog:
    packages: list[Package] = field(default_factory=list)
    #: path → index into ``packages`` of its owner
    owners: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def owner_name(self, path: str) -> str | None:
        i = self.owners.get(path)
        return None if i is None else self.packages[i].name


def catalog_image(fs: MergedFS) -> Catalog:
    return Catalog()
