"""``inspector export --format json``: the ``inspector.export/v1`` contract
(architecture page). Fields may be added, never renamed. Byte totals follow the hardlink
rule of ``inspector.index.hardlinks``: ``size.files`` is the sum of the ``type == "file"``
rows (a hardlink row shows its file's size but adds nothing); ``layer``/``index`` are
0-based positions in ``layers``.

The ``files`` array is written entry by entry with the C string encoder rather than built
as one big list of dicts: on 150k-file images that halves the time and the memory.
Non-UTF-8 name bytes are kept as ``\\udcXX`` escapes (lossless; ``surrogateescape``).
"""

from __future__ import annotations

import json
from itertools import islice, repeat
from json.encoder import encode_basestring_ascii as _s
from pathlib import Path
from typing import TextIO

from inspector.analysis import Analysis
from inspector.index.entries import FILE, HARDLINK, KIND_NAMES
from inspector.index.merge import IMPLIED_MODE, IMPLIED_ROW

SCHEMA = "inspector.export/v1"


def mode_string(mode: int) -> str:
    """``0o4755`` → ``"4755"``; ``0o644`` → ``"0644"``."""
    return format(mode & 0o7777, "04o")


def header(analysis: Analysis) -> dict:
    image = analysis.image
    fs = analysis.fs
    created_by = analysis.created_by
    layers = []
    for i, (layer, index) in enumerate(zip(image.layers, analysis.layers, strict=True)):
        stats = fs.stats[i]
        layers.append({
            "index": i, "digest": layer.digest, "diff_id": layer.diff_id,
            "media_type": layer.media_type, "compressed_size": layer.compressed_size,
            "uncompressed_size": index.uncompressed_size,
            "created_by": created_by[i] if i < len(created_by) else "",
            "added": stats.added, "modified": stats.modified, "removed": stats.removed,
            # regular files' bytes: a hardlink adds 0 (inspector.index.hardlinks)
            "added_bytes": stats.added_bytes, "modified_bytes": stats.modified_bytes,
            "removed_bytes": stats.removed_bytes,
        })
    cls = analysis.classification
    return {
        "schema": SCHEMA,
        "reference": image.reference,
        "source": image.source,
        "manifest_digest": image.manifest_digest,
        "platform": image.platform,
        "config": image.config,
        "size": {"compressed": analysis.compressed_size,
                 "uncompressed": analysis.uncompressed_size,
                 "files": fs.file_bytes},
        "layers": layers,
        "packages": [p.as_json() for p in analysis.catalog.packages],
        "categories": {name: total.as_json() for name, total in cls.totals.items()},
        "findings": cls.findings.as_json(),
        "efficiency": analysis.efficiency.as_json(),
    }


def _null(value: str | None) -> str:
    return "null" if value is None else _s(value)


#: rows joined per ``write`` call (fewer, larger writes)
WRITE_BATCH = 4096


def write_files(analysis: Analysis, out: TextIO) -> None:
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


def write_export(analysis: Analysis, out: TextIO, *, cache_dir: Path | None = None,
                 format: str = "json") -> None:
    """The whole export document; ``files`` comes right after ``size``, as in the contract.
    With ``cache_dir``, the rendered files array is cached (``export_cache``). The SBOM
    formats (``cyclonedx``, ``spdx-json``) are written by ``inspector.sbom``."""
    if format != "json":
        from inspector.sbom import render

        out.write(render(analysis, format))
        return
    head = header(analysis)
    keys = list(head)
    out.write("{\n")
    for key in keys[: keys.index("layers") + 1]:
        out.write(f"  {_s(key)}: {json.dumps(head[key], ensure_ascii=True)},\n")
    out.write('  "files": ')
    if cache_dir is None:
        write_files(analysis, out)
    else:
        from inspector.report.export_cache import write_files_cached

        write_files_cached(analysis, out, cache_dir, write_files)
    for key in keys[keys.index("layers") + 1:]:
        out.write(f",\n  {_s(key)}: {json.dumps(head[key], ensure_ascii=True)}")
    out.write("\n}\n")
