"""One merge step: a layer applied to the filesystem the layers below it left.

``merge`` (in ``merge.py``) runs these base first; the semantics are described there. The
first layer onto an empty filesystem goes in bulk (``merge_base_layer``); every other layer
is a ``LayerStep``: its whiteouts and opaque markers, then its entries in tar order.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from typing import TYPE_CHECKING

from inspector.errors import TarError
from inspector.index import tarscan
from inspector.index.entries import DIR, FILE, HARDLINK, LayerIndex
from inspector.index.packed import IMPLIED_ROW, MASK, SHIFT

if TYPE_CHECKING:
    from inspector.index.merge import MergedFS

IMPLIED_MODE = 0o755
#: characters of implied directory paths one layer may create. Each missing ancestor of a
#: member is a full path string, so a hostile layer of very deep names would otherwise
#: cost (depth × length) per member: 10,000 one-letter components imply ~100 M characters.
IMPLIED_BUDGET = 1 << 28
#: AUFS metadata at the root (``.wh..wh.plnk``, ``.wh..wh.aufs``…): never in the filesystem
_AUFS_META = "/.wh..wh."
#: change codes per layer row
ADDED, MODIFIED, UNCHANGED = 0, 1, 2


@dataclass
class LayerStats:
    """What one layer did to the filesystem below it (counts; bytes of regular files)."""

    added: int = 0
    modified: int = 0
    removed: int = 0
    added_bytes: int = 0
    modified_bytes: int = 0
    removed_bytes: int = 0


class _Sorted:
    """Sorted keys of the state, built lazily once per layer that removes subtrees."""

    def __init__(self, state: dict[str, int]) -> None:
        self.state = state
        self.keys: list[str] | None = None

    def descendants(self, path: str) -> list[str]:
        if self.keys is None:
            self.keys = sorted(self.state)
        keys = self.keys
        prefix = path + "/"
        i = bisect_left(keys, prefix)
        out = []
        while i < len(keys) and keys[i].startswith(prefix):
            if keys[i] in self.state:
                out.append(keys[i])
            i += 1
        return out


class LayerStep:
    """One layer onto the merged state: its whiteouts and opaque markers first (they hide
    only lower layers), then its entries in tar order."""

    def __init__(self, fs: MergedFS, li: int, index: LayerIndex) -> None:
        self.fs, self.li, self.index = fs, li, index
        self.state = fs.entries
        self.stats = LayerStats()
        self.removed: dict[str, tuple[int, bool]] = {}
        self.lookup = _Sorted(self.state)
        # what this layer's whiteouts removed, for its own hardlinks: in tar order a link
        # written before the whiteout still reaches the lower file (Docker, umoci)
        self.shadow: dict[str, tuple[int, int | None]] | None = \
            {} if HARDLINK in index.kinds else None
        self.collecting = True  # only whiteouts feed the shadow: replacements happen in order

    def run(self) -> None:
        self.apply_whiteouts()
        self.collecting = False
        changes = self.add_entries()
        fs = self.fs
        fs.stats.append(self.stats)
        fs.changes.append(changes)
        fs.removed.append(self.removed)

    def remove_subtree(self, path: str, keep_root: bool) -> int:
        """Remove ``path``'s descendants (and ``path`` unless ``keep_root``); bytes of the
        regular files removed."""
        state, layers, stats = self.state, self.fs.layers, self.stats
        link_sizes, inodes = self.fs.link_sizes, self.fs.inodes
        shadow = self.shadow if self.collecting else None
        victims = self.lookup.descendants(path)
        if not keep_root and path in state:
            victims.append(path)
        nbytes = 0
        for victim in victims:
            packed = state.pop(victim, None)
            if packed is None:
                continue
            row = packed & MASK
            if row != IMPLIED_ROW:
                owner = layers[packed >> SHIFT]
                if owner.kinds[row] == FILE:
                    nbytes += owner.sizes[row]
            link_sizes.pop(victim, None)
            inode = inodes.pop(victim, None)
            if shadow is not None:
                shadow[victim] = (packed, inode)
            stats.removed += 1
        stats.removed_bytes += nbytes
        return nbytes

    def apply_whiteouts(self) -> None:
        state, layers, removed = self.state, self.fs.layers, self.removed
        for path in self.index.opaque:
            if path == "/":
                removed["/*"] = (_clear_root(state, layers, self.stats), True)
            elif path in state:
                removed[path + "/*"] = (self.remove_subtree(path, keep_root=True), True)
        for path in self.index.whiteouts:
            packed = state.get(path)
            if packed is not None:
                row = packed & MASK
                is_dir = row == IMPLIED_ROW or layers[packed >> SHIFT].kinds[row] == DIR
                removed[path] = (self.remove_subtree(path, keep_root=False), is_dir)
        if removed:
            self.lookup.keys = None

    def add_entries(self) -> bytearray:
        """The layer's entries in tar order (the hot loop); a change code per row."""
        index, state, layers, stats = self.index, self.state, self.fs.layers, self.stats
        link_sizes, inodes = self.fs.link_sizes, self.fs.inodes
        kinds, sizes, modes, uids, gids = index.kinds, index.sizes, index.modes, index.uids, index.gids
        targets = index.targets
        changes = bytearray(len(index.paths))
        base = self.li << SHIFT
        parent_ok: set[str] = set()  # parents verified as directories in this layer
        implied = 0  # characters of implied directory paths created (IMPLIED_BUDGET)
        aufs = False  # AUFS link-target files (/.wh..wh.plnk/…) were seen in this layer
        for row, path in enumerate(index.paths):
            kind = kinds[row]
            old = state.get(path)
            # parents: must exist as directories (implied if absent, replacing non-dirs)
            parent = path[:path.rfind("/")] or "/"
            if parent != "/" and parent not in parent_ok:
                implied += _ensure_parents(parent, state, layers, base, stats, implied)
                parent_ok.add(parent)
                aufs = aufs or parent.startswith(_AUFS_META)
            if old is not None:
                orow = old & MASK
                okind = DIR if orow == IMPLIED_ROW else layers[old >> SHIFT].kinds[orow]
                if okind == DIR and kind != DIR:
                    self.remove_subtree(path, keep_root=True)
                    self.lookup.keys = None
                    parent_ok.clear()
                if orow == IMPLIED_ROW:
                    same = kind == DIR and modes[row] == IMPLIED_MODE
                else:
                    o = layers[old >> SHIFT]
                    same = (kind == okind == DIR and o.modes[orow] == modes[row]
                            and o.uids[orow] == uids[row] and o.gids[orow] == gids[row])
                if same:
                    changes[row] = UNCHANGED
                else:
                    changes[row] = MODIFIED
                    stats.modified += 1
                    if kind == FILE:
                        stats.modified_bytes += sizes[row]
            else:
                changes[row] = ADDED
                stats.added += 1
                if kind == FILE:
                    stats.added_bytes += sizes[row]
            state[path] = base | row
            if kind == HARDLINK:
                inode = _inode(targets.get(row) or "", state, layers, inodes, self.shadow)
                _link(path, inode, layers, link_sizes, inodes)
            elif old is not None:
                link_sizes.pop(path, None)
                inodes.pop(path, None)
        if aufs:
            _drop_aufs_meta(state, self.li, index, changes, stats)
        return changes


def parent_dirs(paths: list[str]) -> set[str]:
    """``{p.rpartition("/")[0] for p in paths}`` with the loop in C (``map``): the Python
    reference of the accelerator's ``parents`` (``tests/index/test_parents.py``)."""
    return set(map(itemgetter(0), map(str.rpartition, paths, repeat("/"))))


def merge_base_layer(fs: MergedFS, index: LayerIndex) -> bool:
    """The first layer onto an empty filesystem, in bulk (dict/set operations in C): the
    common case of a large base layer. Same result as the general loop; returns False
    (having changed nothing) when the layer needs it: duplicate names, a non-directory
    used as a parent, AUFS link targets."""
    if index.whiteouts or index.opaque:
        return False  # nothing below to remove, but keep ``removed`` exactly as the loop does
    paths, kinds, n = index.paths, index.kinds, len(index.paths)
    placed = dict(zip(paths, range(n), strict=True))
    if len(placed) != n:
        return False
    # the parent of every path (in C either way: the names are absolute)
    parents = (tarscan.parents or parent_dirs)(paths)
    parents.discard("")
    implied = 0
    for parent in parents:
        if parent.startswith(_AUFS_META):
            return False
        p = parent
        while p:
            row = placed.get(p)
            if row is not None:
                if row != IMPLIED_ROW and kinds[row] != DIR:
                    return False
                break
            placed[p] = IMPLIED_ROW  # layer 0: packed == row
            implied += len(p)
            if implied > IMPLIED_BUDGET:
                raise _too_deep(0)
            p = p[:p.rfind("/")]
    if fs.entries:
        fs.entries.update(placed)
    else:  # the usual case: adopt the dict rather than copy a million items into another
        fs.entries = placed
    stats = LayerStats(added=len(placed), added_bytes=sum(index.sizes))
    if HARDLINK in kinds:
        targets, layers = index.targets, [index]
        link_sizes, inodes = fs.link_sizes, fs.inodes
        for row in (r for r in range(n) if kinds[r] == HARDLINK):
            target = placed.get(targets.get(row) or "")
            # tar order: a link written before its target is dangling (0 bytes)
            if target is None or target == IMPLIED_ROW or target > row or kinds[target] == DIR:
                inode = None
            elif kinds[target] == HARDLINK:
                inode = inodes.get(paths[target])
            else:
                inode = target  # layer 0: packed == row
            _link(paths[row], inode, layers, link_sizes, inodes)
    fs.stats.append(stats)
    fs.changes.append(bytearray(n))  # all ADDED
    fs.removed.append({})
    return True


def _drop_aufs_meta(state: dict[str, int], li: int, index: LayerIndex, changes: bytearray,
                    stats: LayerStats) -> None:
    """Files under ``/.wh..wh.plnk/`` (old AUFS exports) only exist so that hardlinks in the
    same layer can name them (moby ``UnpackLayer``): after the layer they leave the
    filesystem, uncounted. Hardlinks to them keep their resolved size."""
    for path in [p for p in state if p.startswith(_AUFS_META)]:
        packed = state.pop(path)
        row = packed & MASK
        if packed >> SHIFT == li:
            if row == IMPLIED_ROW:
                stats.added -= 1
            elif changes[row] == ADDED:
                stats.added -= 1
                if index.kinds[row] == FILE:
                    stats.added_bytes -= index.sizes[row]


def _clear_root(state: dict[str, int], layers: list[LayerIndex], stats: LayerStats) -> int:
    """An opaque marker on ``/`` itself: everything below goes."""
    nbytes = 0
    for packed in state.values():
        row = packed & MASK
        if row != IMPLIED_ROW and layers[packed >> SHIFT].kinds[row] == FILE:
            nbytes += layers[packed >> SHIFT].sizes[row]
    stats.removed += len(state)
    stats.removed_bytes += nbytes
    state.clear()
    return nbytes


def _too_deep(li: int) -> TarError:
    return TarError(f"layer {li + 1}: member paths imply more than {IMPLIED_BUDGET} bytes of "
                    "parent directory names (extremely deep paths)",
                    hint="the layer is malformed or hostile; it cannot be merged")


def _ensure_parents(parent: str, state: dict[str, int], layers: list[LayerIndex], base: int,
                    stats: LayerStats, spent: int = 0) -> int:
    """Make ``parent`` and its ancestors directories, implying the missing ones; the
    characters of the paths it had to create (``spent`` + those ≤ ``IMPLIED_BUDGET``)."""
    missing = []
    p = parent
    while p and p != "/":
        spent += len(p)
        if spent > IMPLIED_BUDGET:
            raise _too_deep(base >> SHIFT)
        packed = state.get(p)
        if packed is not None:
            row = packed & MASK
            if row == IMPLIED_ROW or layers[packed >> SHIFT].kinds[row] == DIR:
                break
            missing.append(p)  # a non-directory in the way: replaced by a directory
        else:
            missing.append(p)
        p = p[:p.rfind("/")]
    for p in missing:
        if p not in state:
            stats.added += 1
        state[p] = base | IMPLIED_ROW
    return sum(map(len, missing))


def _inode(target: str, state: dict[str, int], layers: list[LayerIndex], inodes: dict[str, int],
           shadow: dict[str, tuple[int, int | None]] | None = None) -> int | None:
    """The row (packed) a hardlink to ``target`` shares its inode with, as the state stands
    at the link: ``target``'s own row, or the row ``target`` (itself a hardlink) shares;
    ``None`` when dangling (absent, a directory)."""
    packed = state.get(target)
    if packed is None:
        if not shadow or target not in shadow:
            return None  # dangling hardlink
        packed, inode = shadow[target]  # whited out by this very layer: still linkable
        row = packed & MASK
        if row != IMPLIED_ROW and layers[packed >> SHIFT].kinds[row] == HARDLINK:
            return inode
    row = packed & MASK
    if row == IMPLIED_ROW:
        return None
    kind = layers[packed >> SHIFT].kinds[row]
    if kind == HARDLINK:
        return inodes.get(target)
    return None if kind == DIR else packed


def _link(path: str, inode: int | None, layers: list[LayerIndex], link_sizes: dict[str, int],
          inodes: dict[str, int]) -> None:
    """Record hardlink ``path`` as sharing ``inode`` (its shown size: the file's)."""
    if inode is None:
        link_sizes[path] = 0
        inodes.pop(path, None)
        return
    index, row = layers[inode >> SHIFT], inode & MASK
    link_sizes[path] = index.sizes[row] if index.kinds[row] == FILE else 0
    inodes[path] = inode
