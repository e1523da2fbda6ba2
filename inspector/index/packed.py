"""The merged filesystem's packed entry: ``layer << SHIFT | row`` in one int.

``MergedFS.entries`` maps a path to it, ``sorted_packed()`` is an ``array("Q")`` of it,
``MergedFS.inodes`` holds it for hardlinks. Only the merge (``merge``, ``layerstep``,
``hardlinks``) encodes or decodes it, with the names here; everyone else uses
``MergedFS``'s accessors. The C loops (``_tarscan.c``) decode it too: the module exports
the ``SHIFT`` and ``MASK`` it was compiled with and ``tarscan`` does not use a build whose
figures differ from these (``tests/index/test_packed.py``).

Hot loops inline ``packed >> SHIFT`` and ``packed & MASK`` (a function call per entry
costs more than the decoding); ``pack``/``unpack`` are for everything else.
"""

from __future__ import annotations

#: bits of the row: a layer holds at most ``MASK`` rows (the last value is ``IMPLIED_ROW``)
SHIFT = 32
MASK = (1 << SHIFT) - 1
#: the row of a directory no tar member names (implied by a path below it)
IMPLIED_ROW = MASK


def pack(layer: int, row: int) -> int:
    """``layer``'s ``row`` as one int (``row`` may be ``IMPLIED_ROW``)."""
    return layer << SHIFT | row


def unpack(packed: int) -> tuple[int, int]:
    """``(layer, row)`` of a packed entry."""
    return packed >> SHIFT, packed & MASK


def layer_of(packed: int) -> int:
    return packed >> SHIFT


def row_of(packed: int) -> int:
    return packed & MASK
