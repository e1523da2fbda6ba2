"""The one rule for hardlinks in every byte figure.

A hardlink group (the tar's regular file and every hardlink to it: one inode once
extracted) holds its data once, so **every total counts a group's bytes once, at its
regular-file entry; a hardlink entry adds 0 bytes to any total.** A hardlink row still
*shows* the linked file's size (what ``ls -l`` prints), and it counts as one file.

The figures that follow it: an image's file bytes (``MergedFS.file_bytes``), categories
(their bytes add up to the file bytes), packages (each package's bytes ≤ the file bytes,
each path owned once), per-layer added/modified/removed bytes, the export's ``size.files``,
the efficiency figures, and every compare figure (the verdict's "leaves out"/"adds" bytes,
categories, packages), in JSON, text, markdown and the TUI alike. So "leaves out" never
exceeds the image's total and the categories always sum to it.

A hardlink *is* its inode (``umoci unpack`` then ``stat``: the tar header of a hardlink
carries no metadata of its own that an unpacker applies), so after the merge ``settle``
gives every hardlink its inode's mode, owner and kind, everywhere the rows are read (the
export, findings, ``check``, the TUI): a hardlink to a 4755 uid-1000 file is 4755
uid-1000 and a setuid finding, whatever its own header says; one to a FIFO, a device or a
symlink is that.

When the group's regular file is gone — a later layer deleted or replaced the path the
data was written at — the data lives on in the links (the unpacked rootfs still holds
that inode). Its bytes then count once, at the group's first surviving link in path
order: that entry becomes the regular file (type ``file``, the data's size) and the other
links point to it. So ``size.files`` is the distinct-inode bytes of the unpacked rootfs.

Rewritten rows live in private copies of their layers' columns (``MergedFS.layers``);
``MergedFS.tar_layers`` keeps the headers as the layers hold them, for the figures about
the tars themselves (dive's efficiency, ``reclaimable_bytes``). A merge in which no
hardlink disagrees with its inode copies nothing.

A row of the export's ``files`` array that sums to the file bytes: ``type == "file"`` only.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import TYPE_CHECKING

from inspector.index.entries import FILE, HARDLINK, SYMLINK, LayerIndex
from inspector.index.packed import MASK, SHIFT

if TYPE_CHECKING:
    from inspector.index.merge import MergedFS



def counted(kind: int, size: int) -> int:
    """The bytes an entry of ``kind`` whose shown size is ``size`` adds to a total."""
    return size if kind == FILE else 0


def counted_sum(entries: Iterable[tuple[int, int]]) -> int:
    """Σ ``counted(kind, size)`` over ``(kind, size)`` pairs."""
    return sum(size for kind, size in entries if kind == FILE)


def settle(fs: MergedFS) -> None:
    """Give every hardlink of the final filesystem its inode's mode, owner and kind, and
    make the first surviving link of a group whose regular file is gone that regular file
    (see the module docstring). Changed rows go into private copies of their layers."""
    entries, layers = fs.entries, fs.layers
    groups: dict[int, list[str]] = {}
    for path, inode in fs.inodes.items():
        packed = entries.get(path)
        if packed is not None and packed & MASK != MASK \
                and layers[packed >> SHIFT].kinds[packed & MASK] == HARDLINK:
            groups.setdefault(inode, []).append(path)
    owned: dict[int, LayerIndex] = {}
    for inode, paths in groups.items():
        src, row = fs.tar_layers[inode >> SHIFT], inode & MASK
        kind = src.kinds[row]
        carrier = None
        if kind == FILE and entries.get(src.paths[row]) != inode:  # the file's path is gone
            paths.sort()
            carrier = paths[0]
        for path in paths:
            packed = entries[path]
            li, lrow = packed >> SHIFT, packed & MASK
            index = layers[li]
            want: tuple[int, int, str | None, bytes | None]
            if path == carrier:
                want = (FILE, src.sizes[row], None, src.heads.get(row))
            elif kind == FILE:
                want = (HARDLINK, 0, carrier or index.targets.get(lrow), index.heads.get(lrow))
            else:
                want = (kind, 0, src.targets.get(row) if kind == SYMLINK else None, None)
            attrs = (src.modes[row], src.uids[row], src.gids[row])
            have = (index.kinds[lrow], index.sizes[lrow], index.targets.get(lrow),
                    index.heads.get(lrow))
            if have == want and attrs == (index.modes[lrow], index.uids[lrow], index.gids[lrow]):
                continue
            index = owned.get(li) or _own(fs, li, owned)
            new_kind, size, target, head = want
            index.kinds[lrow], index.sizes[lrow] = new_kind, size
            index.modes[lrow], index.uids[lrow], index.gids[lrow] = attrs
            _put(index.targets, lrow, target)
            _put(index.heads, lrow, head)
            if path == carrier:
                fs.link_sizes.pop(path, None)


def _own(fs: MergedFS, li: int, owned: dict[int, LayerIndex]) -> LayerIndex:
    """A private copy of layer ``li``'s columns in ``fs.layers`` (the layer itself may be
    shared: cached, or in another image's merge)."""
    index = fs.layers[li]
    mine = copy.copy(index)
    mine.kinds = bytearray(index.kinds)
    for name in ("sizes", "modes", "uids", "gids", "targets", "heads"):
        setattr(mine, name, copy.copy(getattr(index, name)))
    fs.layers[li] = owned[li] = mine
    return mine


def _put(column: dict, row: int, value: object) -> None:
    if value is None:
        column.pop(row, None)
    else:
        column[row] = value

