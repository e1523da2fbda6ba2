"""Merge layer indexes into the filesystem a container sees, in one pass, base first.

Semantics (OCI image-spec layer.md; ggcr ``mutate.Extract``; umoci ``tar_extract``):

- Names are already normalised by the walker (``./a//b/`` → ``/a/b``).
- A layer's whiteouts (``.wh.NAME``) and opaque markers (``.wh..wh..opq``) hide only what
  *lower* layers put there: they are applied to the state below before the layer's own
  entries are added, so an opaque marker is order-independent within its layer and a layer
  may whiteout a name and re-create it (the new entry stays).
- Within one layer a duplicate name overwrites the earlier one (last wins).
- A non-directory replacing a directory removes the directory's subtree; an entry below a
  non-directory replaces that non-directory with an implied directory.
- Parent directories absent from the tar are implied: type ``dir``, mode ``0755``, owned by
  the layer that needed them.
- Hardlinks resolve against the state as of their own position: a hardlink whose target is
  later whited out still holds the data (its size is the target's at link time).
- After the last layer, every hardlink takes its inode's mode, owner and kind, and a
  group whose regular file is gone counts its bytes at one of its links
  (``hardlinks.settle``: the rule, and why ``layers`` may then hold private copies).

Walking base-first (rather than ggcr's top-down) gives the per-layer added / modified /
removed counts and "the filesystem as of layer N" (``merge(layers[:N+1])``) from the same
code; whiteouts still only act on lower layers.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, repeat
from operator import and_, rshift

from inspector.index import tarscan
from inspector.index.entries import DIR, FILE, HARDLINK, KIND_NAMES, LayerIndex
from inspector.index.hardlinks import settle
from inspector.index.layerstep import (
    IMPLIED_MODE,
    LayerStats,
    LayerStep,
    merge_base_layer,
)
from inspector.index.packed import IMPLIED_ROW, MASK, SHIFT, pack, unpack

__all__ = ["IMPLIED_MODE", "IMPLIED_ROW", "LayerStats", "MergedFS", "merge"]

#: ``entries`` values are ``packed.pack(layer, row)``: only ``MergedFS`` and the merge that
#: builds it (``layerstep``, ``hardlinks``) encode or decode them, with ``packed``'s names;
#: everyone else uses the accessors (the C loops that read ``sorted_packed()`` decode it
#: with the ``SHIFT``/``MASK`` that ``tarscan`` checks against ``packed``'s)
_SHIFT, _MASK = repeat(SHIFT), repeat(MASK)
#: kind → 1 for a regular file (hardlinks count 0 bytes)
_IS_FILE = bytes(k == FILE for k in range(256))


@dataclass
class MergedFS:
    """The merged filesystem. ``entries`` maps a path to ``layer << SHIFT | row`` (row
    ``IMPLIED_ROW`` for an implied directory); ``layers`` are the inputs, base first."""

    layers: list[LayerIndex]
    entries: dict[str, int] = field(default_factory=dict)
    stats: list[LayerStats] = field(default_factory=list)
    #: per layer, a change code per row (ADDED/MODIFIED/UNCHANGED vs the layers below)
    changes: list[bytearray] = field(default_factory=list)
    #: per layer, paths it whited out (``DIR/*`` for an opaque marker) →
    #: (regular-file bytes removed with the subtree, whether the path was a directory)
    removed: list[dict[str, tuple[int, bool]]] = field(default_factory=list)
    #: hardlink path → size of the data it links to
    link_sizes: dict[str, int] = field(default_factory=dict)
    #: hardlink path → ``layer << SHIFT | row`` of the entry whose inode it shares (dangling
    #: hardlinks are absent)
    inodes: dict[str, int] = field(default_factory=dict)
    #: the layers as merged (their tar headers); ``layers`` holds private copies of those
    #: whose hardlink rows ``hardlinks.settle`` rewrote (dive's figures read these)
    tar_layers: list[LayerIndex] = field(default_factory=list)
    _sorted: list[str] | None = None
    _sorted_packed: array | None = None
    _file_bytes: int | None = None

    def __post_init__(self) -> None:
        if not self.tar_layers:
            self.tar_layers = list(self.layers)

    # ---- per-path accessors ------------------------------------------------------
    def __contains__(self, path: str) -> bool:
        return path in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def ref(self, path: str) -> tuple[int, int]:
        """``(layer, row)`` of ``path`` (``row`` is ``IMPLIED_ROW`` for an implied
        directory, and for ``/``: the root is no entry, but it is a directory wherever a
        symlink to it is followed); ``KeyError`` when absent."""
        packed = self.entries.get(path)
        if packed is None:
            if path == "/":
                return 0, IMPLIED_ROW
            raise KeyError(path)
        return unpack(packed)

    def find(self, path: str) -> tuple[int, int] | None:
        """``ref(path)``, or ``None`` when ``path`` is not in the filesystem."""
        packed = self.entries.get(path)
        return None if packed is None else unpack(packed)

    def is_at(self, path: str, layer: int, row: int) -> bool:
        """Whether ``path`` is in the filesystem as row ``row`` of layer ``layer``."""
        return self.entries.get(path) == pack(layer, row)

    # ---- bulk accessors: the decoding runs in C (``map``), no Python call per entry ----
    def located(self, paths: Iterable[str] | None = None) -> Iterator[tuple[str, int, int]]:
        """``(path, layer, row)`` for every entry (insertion order), or for ``paths`` in
        their order (``KeyError`` for one not in the filesystem); ``row`` is
        ``IMPLIED_ROW`` for an implied directory."""
        keys: Iterable[str]
        packed: Iterable[int]
        if paths is None:
            keys, packed = self.entries.keys(), self.entries.values()
        else:
            keys = paths if isinstance(paths, list) else list(paths)
            packed = list(map(self.entries.__getitem__, keys))
        if len(self.layers) == 1:  # layer 0: the packed value is the row
            return zip(keys, repeat(0), packed)
        # operator functions over repeat(): the fastest decoding that is not inline
        return zip(keys, map(rshift, packed, _SHIFT), map(and_, packed, _MASK), strict=True)

    def columns_of(self, paths: list[str]) -> tuple[list[int], list[int]]:
        """The layers and rows of ``paths`` as two lists (bulk, decoded in C)."""
        packed = list(map(self.entries.__getitem__, paths))
        if len(self.layers) == 1:  # layer 0: the packed value is the row
            return [0] * len(packed), packed
        return list(map(rshift, packed, _SHIFT)), list(map(and_, packed, _MASK))

    def sorted_columns(self, start: int = 0, end: int | None = None) -> tuple[list[int], list[int]]:
        """``columns_of(sorted_paths()[start:end])`` without a lookup per path: the packed
        values of the sorted paths are looked up once and kept (8 bytes per entry), since
        classify, export and the TUI tree each read all of them."""
        if self._sorted_packed is None:
            self._sort()
        assert self._sorted_packed is not None
        packed = self._sorted_packed[start:end].tolist()
        if len(self.layers) == 1:  # layer 0: the packed value is the row
            return [0] * len(packed), packed
        return list(map(rshift, packed, _SHIFT)), list(map(and_, packed, _MASK))

    def sorted_packed(self) -> array:
        """The packed ``layer << SHIFT | row`` of every sorted path (an ``array("Q")``; for
        loops in C that decode it themselves)."""
        if self._sorted_packed is None:
            self._sort()
        assert self._sorted_packed is not None
        return self._sorted_packed

    def located_sorted(self, step: int = 1 << 16) -> Iterator[tuple[str, int, int]]:
        """``located(sorted_paths())``, decoded ``step`` entries at a time."""
        paths = self.sorted_paths()
        # chained in C: a generator delegating each item would cost a frame switch per entry
        return chain.from_iterable(
            zip(paths[start:start + step], *self.sorted_columns(start, start + step), strict=True)
            for start in range(0, len(paths), step))

    def layer_of(self, path: str) -> int:
        return self.entries[path] >> SHIFT

    def kind(self, path: str) -> int:
        layer, row = self.ref(path)
        return DIR if row == IMPLIED_ROW else self.layers[layer].kinds[row]

    def kind_name(self, path: str) -> str:
        return KIND_NAMES[self.kind(path)]

    def size(self, path: str) -> int:
        """Bytes: a regular file's size; a hardlink's linked file size; 0 otherwise."""
        layer, row = self.ref(path)
        if row == IMPLIED_ROW:
            return 0
        index = self.layers[layer]
        if index.kinds[row] == HARDLINK:
            return self.link_sizes.get(path, 0)
        return index.sizes[row]

    def mode(self, path: str) -> int:
        layer, row = self.ref(path)
        return IMPLIED_MODE if row == IMPLIED_ROW else self.layers[layer].modes[row]

    def owner(self, path: str) -> tuple[int, int]:
        layer, row = self.ref(path)
        if row == IMPLIED_ROW:
            return 0, 0
        index = self.layers[layer]
        return index.uids[row], index.gids[row]

    def target(self, path: str) -> str | None:
        layer, row = self.ref(path)
        return None if row == IMPLIED_ROW else self.layers[layer].targets.get(row)

    def source(self, path: str) -> tuple[int, str]:
        """Where ``path``'s bytes were written: ``(layer, member name)`` — a hardlink's are
        where its inode was (a lower layer, or a path since removed), anything else's at
        ``path`` in the layer that put it there."""
        inode = self.inodes.get(path)
        if inode is not None:
            return inode >> SHIFT, self.tar_layers[inode >> SHIFT].paths[inode & MASK]
        return self.layer_of(path), path

    def head(self, path: str) -> bytes | None:
        """First bytes of an executable regular file (ELF/shebang), if kept."""
        layer, row = self.ref(path)
        return None if row == IMPLIED_ROW else self.layers[layer].heads.get(row)

    def captured(self, path: str) -> bytes | None:
        """Content of a captured small file, as the container sees it (``None`` if the path
        is absent, not captured, or over its cap)."""
        packed = self.entries.get(path)
        if packed is None:
            return None
        layer, row = unpack(packed)
        if row == IMPLIED_ROW:
            return None
        inode = self.inodes.get(path)
        if inode is not None:  # a hardlink: the content captured where its inode was written
            index, row = self.layers[inode >> SHIFT], inode & MASK
            return index.captured.get(index.paths[row])
        return self.layers[layer].captured.get(path)

    def captured_paths(self) -> list[str]:
        """Paths present in the merged filesystem whose content was captured."""
        out = []
        for i, index in enumerate(self.layers):
            for path in index.captured:
                packed = self.entries.get(path)
                if packed is not None and packed >> SHIFT == i:
                    out.append(path)
        return sorted(out)

    def go_buildinfo(self) -> dict[str, bytes]:
        out = {}
        for i, index in enumerate(self.layers):
            for path, data in index.go_buildinfo.items():
                packed = self.entries.get(path)
                if packed is not None and packed >> SHIFT == i:
                    out[path] = data
        return out

    def sorted_paths(self) -> list[str]:
        """All paths, sorted (bytewise order of the UTF-8 form: Python's str order)."""
        if self._sorted is None:
            self._sort()
        assert self._sorted is not None
        return self._sorted

    def _sort(self) -> None:
        """The sorted paths and their packed values, together: a permutation of the
        entries' insertion order sorts both, so no value is looked up by its path (on a
        million entries, a lookup in a dict this size is a cache miss or two each: ~0.35 s
        of them, against ~0.2 s for the whole)."""
        keys = list(self.entries)
        values = array("Q", self.entries.values())
        order = sorted(range(len(keys)), key=keys.__getitem__)
        self._sorted = list(map(keys.__getitem__, order))
        del keys
        self._sorted_packed = array("Q", map(values.__getitem__, order))

    @property
    def file_bytes(self) -> int:
        """Bytes of regular files (hardlinks count 0); computed once (the fs is final)."""
        if self._file_bytes is None:
            self._file_bytes = self._sum_file_bytes()
        return self._file_bytes

    def _sum_file_bytes(self) -> int:
        if tarscan.prefix_sums is not None and tarscan.native(self.layers):  # one C pass
            layers = self.layers
            known = self._sorted_packed  # (any order will do: the one already made)
            try:
                return tarscan.prefix_sums(array("Q", self.entries.values()) if known is None
                                           else known,
                                           [ix.kinds for ix in layers], [ix.sizes for ix in layers],
                                           _IS_FILE, _IS_FILE, None, None)[0]
            except OverflowError:  # sparse files may claim 2**63 - 1 bytes each: Python ints
                pass
        total = 0
        layers = self.layers
        for packed in self.entries.values():
            row = packed & MASK
            if row != IMPLIED_ROW:
                index = layers[packed >> SHIFT]
                if index.kinds[row] == FILE:
                    total += index.sizes[row]
        return total

    def count_kind(self, kind: int) -> int:
        n = 0
        layers = self.layers
        for packed in self.entries.values():
            row = packed & MASK
            k = DIR if row == IMPLIED_ROW else layers[packed >> SHIFT].kinds[row]
            n += k == kind
        return n


def merge(layers: list[LayerIndex]) -> MergedFS:
    """Merge ``layers`` (base first) into a ``MergedFS``: one step per layer, each applied
    to the state the layers below it left (as ggcr's ``extract``/``extractLayer``)."""
    fs = MergedFS(layers=list(layers), tar_layers=list(layers))
    for li, index in enumerate(layers):
        if li == 0 and merge_base_layer(fs, index):
            continue
        LayerStep(fs, li, index).run()
    settle(fs)
    return fs
