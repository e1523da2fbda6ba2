"""File contents for the fit analysis, which the index does not keep.

``ImageFiles`` reads the bytes of paths of the *merged* filesystem from the layers that
wrote them: one streaming pass over each layer that holds a wanted path, however many paths
are asked for at once (the closure is read breadth-first, one batch per level). A hardlink
is read through its target, in the same layer tar. A registry layer listed by its table of
contents is not streamed: the wanted files' frames are fetched by range (``index.toc_files``);
when its TOC fails, the layer is streamed and ``notices`` says so once. ``DirectoryFiles`` reads the same paths
from a directory tree (tests compare against real roots built with debootstrap).
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from inspector.errors import FormatError, InspectorError, LayerError
from inspector.index import toc_files
from inspector.index.entries import FILE, HARDLINK
from inspector.index.merge import IMPLIED_ROW, MergedFS
from inspector.index.tarfields import normalize
from inspector.sources.base import Image

#: bytes of one file read at most (an ELF larger than this is reported, not parsed)
FILE_CAP = 256 << 20


class FileReader(Protocol):
    def read_many(self, paths: Iterable[str]) -> dict[str, bytes | None]:
        """Content of each real path (``None``: not a regular file, absent, or over the cap)."""
        ...


class ImageFiles:
    """Reads merged-filesystem paths of ``image`` (indexed as ``fs``); results are kept."""

    def __init__(self, image: Image, fs: MergedFS, cap: int = FILE_CAP) -> None:
        self.image, self.fs, self.cap = image, fs, cap
        self._cache: dict[str, bytes | None] = {}
        #: one line per layer whose TOC failed (it was streamed whole instead)
        self.notices: list[str] = []

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes | None]:
        paths = list(paths)
        wanted: dict[int, dict[str, list[str]]] = {}  # layer → tar name → merged paths
        for path in paths:
            if path in self._cache:
                continue
            self._cache[path] = None
            at = self.fs.find(path)
            if at is None or at[1] == IMPLIED_ROW:
                continue
            layer, row = at
            index = self.fs.layers[layer]
            kind = index.kinds[row]
            if kind == HARDLINK:
                name = index.targets.get(row)
            elif kind == FILE:
                name = path
            else:
                continue
            if name and index.sizes[row] <= self.cap:
                wanted.setdefault(layer, {}).setdefault(name, []).append(path)
        for layer, names in sorted(wanted.items()):
            for name, data in self._read_layer(layer, names).items():
                for path in names[name]:
                    self._cache[path] = data
        return {p: self._cache.get(p) for p in paths}

    @property
    def by_range(self) -> bool:
        """Whether every layer is read by range (no layer is streamed: reading ahead
        saves no pass, it only fetches more)."""
        return all(self._by_range(i) for i in range(len(self.fs.layers)))

    def _by_range(self, layer: int) -> bool:
        """Layer ``layer`` was listed from its table of contents (its blob was never
        fetched): its files are read through it too."""
        return bool(self.fs.layers[layer].toc_digest) and \
            toc_files.usable(self.image.layers[layer])

    def _read_layer(self, layer: int, names: dict[str, list[str]]) -> dict[str, bytes]:
        what = f"{self.image.reference}: layer {layer + 1}"
        out: dict[str, bytes] = {}
        if self._by_range(layer):
            try:
                got = toc_files.read(self.image.layers[layer], dict.fromkeys(names, self.cap))
            except FormatError as exc:
                self.notices.append(f"{exc}; reading the whole layer instead")
            else:
                return {name: data for name, found in got.items() if found is not None
                        for data, size in [found] if size <= self.cap}
        try:
            stream = self.image.layers[layer].open_uncompressed()
            with stream, tarfile.open(fileobj=stream, mode="r|") as tar:
                for member in tar:
                    name, _ = normalize(member.name)
                    if name in names and member.isfile() and member.size <= self.cap:
                        f = tar.extractfile(member)
                        if f is not None:
                            out[name] = f.read()  # last one wins, as in the merge
        except InspectorError:
            raise
        except (OSError, tarfile.TarError, EOFError) as exc:
            raise LayerError(f"{what}: cannot read file contents: {exc}") from exc
        return out


class DirectoryFiles:
    """The same over a directory tree (``root`` plays ``/``; paths are already resolved)."""

    def __init__(self, root: Path, cap: int = FILE_CAP) -> None:
        self.root, self.cap = Path(root), cap

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes | None]:
        out: dict[str, bytes | None] = {}
        for path in paths:
            p = self.root / path.lstrip("/")
            try:
                out[path] = (p.read_bytes() if p.is_file() and not p.is_symlink()
                             and p.stat().st_size <= self.cap else None)
            except OSError:
                out[path] = None
        return out
