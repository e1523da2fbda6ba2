"""``write_files`` as it was before issue 16's column-wise rewrite, kept verbatim as the
reference the rewrite is property-tested against (same bytes on any image)."""

from __future__ import annotations

from itertools import islice, repeat
from json.encoder import encode_basestring_ascii as _s
from typing import TextIO

from inspector.index.entries import FILE, HARDLINK, KIND_NAMES
from inspector.index.merge import IMPLIED_MODE, IMPLIED_ROW

#: rows joined per ``write`` call (fewer, larger writes)
WRITE_BATCH = 4096


def write_files(analysis, out: TextIO) -> None:
    """The merged filesystem, sorted by path, as a JSON array.

    Per-path work that needs no decision (escaping the path, looking up its package and
    category) runs column-wise through ``map`` in C; the Python loop only formats what a
    row's type needs, and the parts that repeat — type, mode, owner — once per distinct
    combination."""
    fs = analysis.fs
    layers = fs.layers
    link_sizes = fs.link_sizes
    paths = fs.sorted_paths()
    if not paths:
        out.write("[]")
        return
    package_json = {i: _s(p.name) for i, p in enumerate(analysis.catalog.packages)}
    package_json[None] = "null"  # type: ignore[index]
    categories = analysis.classification.categories
    category_json: dict = {name: _s(name) for name in set(categories.values())}
    category_json[None] = "null"
    columns = [(ix.kinds, ix.sizes, ix.modes, ix.uids, ix.gids, ix.targets) for ix in layers]
    layer_tail = [f', "layer": {li}, "package": ' for li in range(len(layers))]
    implied = (f', "type": "dir", "size": 0, "mode": "{IMPLIED_MODE:04o}", "uid": 0, "gid": 0, '
               '"target": null')
    #: (kind, mode, uid, gid) → (text before the size, text after it up to the target)
    meta: dict[tuple[int, int, int, int], tuple[str, str]] = {}
    bodies: list[str] = []
    append = bodies.append
    for path, packed in zip(paths, map(fs.entries.__getitem__, paths), strict=True):
        li, row = packed >> 32, packed & 0xFFFFFFFF
        if row == IMPLIED_ROW:
            append(implied + layer_tail[li])
            continue
        kinds, sizes, modes, uids, gids, targets = columns[li]
        k = kinds[row]
        key = (k, modes[row], uids[row], gids[row])
        m = meta.get(key)
        if m is None:
            m = meta[key] = (f', "type": "{KIND_NAMES[k]}", "size": ',
                             f', "mode": "{key[1] & 0o7777:04o}", "uid": {key[2]}, '
                             f'"gid": {key[3]}, "target": ')
        if k == FILE:
            append(f"{m[0]}{sizes[row]}{m[1]}null{layer_tail[li]}")
        else:
            size = link_sizes.get(path, 0) if k == HARDLINK else 0
            target = targets.get(row)
            append(f'{m[0]}{size}{m[1]}{"null" if target is None else _s(target)}'
                   f"{layer_tail[li]}")
    owners = map(package_json.__getitem__, map(analysis.catalog.owners.get, paths))
    cats = map(category_json.__getitem__, map(categories.get, paths))
    rows = map("".join, zip(map(_s, paths), bodies, owners, repeat(', "category": '), cats,
                            repeat("}"), strict=False))
    out.write('[\n  {"path": ')
    sep = ',\n  {"path": '
    first = True
    while batch := list(islice(rows, WRITE_BATCH)):
        if not first:
            out.write(sep)
        out.write(sep.join(batch))
        first = False
    out.write("\n]")
