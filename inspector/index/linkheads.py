"""The first bytes a later layer's hardlink needs from a TOC-listed layer.

A TOC listing fetches an executable's head only where a decision in *its own* layer needs
it (``from_toc``: outside ``bin_dirs``, a hardlink's target, the Go check). A hardlink in a
*later* layer to a small executable in a bin dir is classified by its inode's head (outside
a bin dir "is it a program?" asks the head), and that head was never fetched: the link
alone, without the file re-added beside it, is a valid OCI layer though real writers do
not make one. Which layer holds a link's inode is known only once the layers are merged
(whiteouts and replacements decide it), so the rule sits here, after the merge:

- every hardlink inode (``MergedFS.inodes``) that is a non-empty executable regular file of
  a TOC-listed layer without a head gets it: its first frames fetched by range through
  ``toc_files.read``, checked against their chunk digests — one batch of ranged requests per
  layer holding such inodes, none when there are none (the common case: a dict scan);
- the layers that gained heads go back into the index cache (a warm run fetches nothing)
  and the layers are merged again (``hardlinks.settle`` copies heads into the links it
  rewrites);
- a TOC that fails now (Range refused, digest wrong) means that layer is pulled whole, with
  one notice, as a failed listing does.
"""

from __future__ import annotations

from collections.abc import Callable

from inspector.errors import FormatError
from inspector.index import capture, toc_files
from inspector.index.entries import FILE, LayerIndex
from inspector.index.merge import MergedFS, merge
from inspector.index.packed import MASK, SHIFT
from inspector.sources.base import Layer


def missing(fs: MergedFS) -> dict[int, dict[str, int]]:
    """Layer position → {path: row} of the hardlink inodes of TOC-listed layers whose head
    the classification needs and the listing did not fetch."""
    out: dict[int, dict[str, int]] = {}
    layers = fs.tar_layers
    for inode in set(fs.inodes.values()):
        li, row = inode >> SHIFT, inode & MASK
        index = layers[li]
        if index.toc_digest and index.kinds[row] == FILE and index.sizes[row] \
                and index.modes[row] & 0o111 and row not in index.heads:
            out.setdefault(li, {})[index.paths[row]] = row
    return out


def complete(layers: list[Layer], indexes: list[LayerIndex], fs: MergedFS, *,
             pull: Callable[[int], LayerIndex], keep: Callable[[LayerIndex], None] | None,
             notices: list[str]) -> tuple[list[LayerIndex], MergedFS]:
    """``indexes`` and their merge ``fs``, with the heads ``missing`` names fetched (into
    the indexes: shared ones too — a head is a fact of its layer). ``pull(position)``: the
    layer's index from its whole blob, when its TOC fails; ``keep``: store an index in the
    cache. Returns the inputs unchanged when nothing is missing."""
    wanted = missing(fs)
    if not wanted:
        return indexes, fs
    indexes = list(indexes)
    head_bytes = capture.HEAD_BYTES
    for li, rows in sorted(wanted.items()):
        index = indexes[li]
        try:
            got = toc_files.read(layers[li], dict.fromkeys(rows, head_bytes))
        except FormatError as exc:
            notices.append(f"{exc}; reading the whole layer instead")
            indexes[li] = pull(li)
        else:
            for path, row in rows.items():
                found = got.get(path)
                if found is not None and found[1] == index.sizes[row]:
                    index.heads[row] = found[0]
        if keep is not None:
            keep(indexes[li])
    return indexes, merge(indexes)
