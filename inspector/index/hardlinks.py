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

The one loss: a hardlink whose regular file a later layer deleted or replaced still holds
the old data in a container, but no regular-file entry carries it, so it counts 0 (rare:
image builders rewrite both names of a group together).

A row of the export's ``files`` array that sums to the file bytes: ``type == "file"`` only.
"""

from __future__ import annotations

from collections.abc import Iterable

from inspector.index.entries import FILE


def counted(kind: int, size: int) -> int:
    """The bytes an entry of ``kind`` whose shown size is ``size`` adds to a total."""
    return size if kind == FILE else 0


def counted_sum(entries: Iterable[tuple[int, int]]) -> int:
    """Σ ``counted(kind, size)`` over ``(kind, size)`` pairs."""
    return sum(size for kind, size in entries if kind == FILE)
