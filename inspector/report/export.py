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
from collections.abc import Callable, Iterable
from itertools import compress, repeat
from json.encoder import encode_basestring_ascii as _s
from operator import getitem, itemgetter
from pathlib import Path
from typing import TextIO

from inspector.analysis import Analysis
from inspector.index import tarscan
from inspector.index.entries import DIR, FILE, HARDLINK, KIND_NAMES
from inspector.index.merge import IMPLIED_MODE, IMPLIED_ROW

SCHEMA = "inspector.export/v1"


def mode_string(mode: int) -> str:
    """``0o4755`` → ``"4755"``; ``0o644`` → ``"0644"``."""
    return format(mode & 0o7777, "04o")


def header(analysis: Analysis, split=None, *, packages: list | str | None = None) -> dict:
    """The document but ``files``; with ``split`` (``provenance.Split``) the ``base``
    object, and each package's provenance (``added_in``, ``modified_in``, …). ``packages``:
    the packages array when the caller has it (rendered: ``_Text``)."""
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
            # "toc": listed from the layer's table of contents, diff_id not verified
            "verified": index.verified,
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
        "packages": packages if packages is not None else _packages(analysis, split is not None),
        "categories": {name: total.as_json() for name, total in cls.totals.items()},
        "findings": cls.findings.as_json(),
        "efficiency": analysis.efficiency.as_json(),
        **({"base": split.as_json()} if split is not None else {}),
    }


def _packages(analysis: Analysis, provenance: bool) -> list[dict]:
    from inspector.catalog.cpe import cpes  # (its patterns: not compiled for a cached export)

    rows = [{**p.as_json(), "cpes": cpes(p)} for p in analysis.catalog.packages]
    if provenance:
        from inspector.provenance import package_provenance

        for row, prov in zip(rows, package_provenance(analysis), strict=True):
            row.update(prov.as_json())
    return rows


def _null(value: str | None) -> str:
    return "null" if value is None else _s(value)


#: rows rendered and written per step: the text of one batch is all that is held at once
WRITE_BATCH = 4096
#: a longer string (a cached files array) is handed to ``out.write`` in slices of this
#: many characters, so a text file never encodes it as one more whole copy
WRITE_SLICE = 1 << 20
_ROW_SEP = ',\n  {"path": '
_CATEGORY = ', "category": '


class _Meta(dict):
    """(kind, mode, uid, gid) → the row text around the size: ``(before, after)``; each
    distinct combination is formatted once."""

    def __missing__(self, key: tuple[int, int, int, int]) -> tuple[str, str]:
        kind, mode, uid, gid = key
        value = self[key] = (f', "type": "{KIND_NAMES[kind]}", "size": ',
                             f', "mode": "{mode & 0o7777:04o}", "uid": {uid}, "gid": {gid}, '
                             '"target": ')
        return value


class _Columns:
    """Every layer's columns, plus one more "layer" (the last) whose single row is an
    implied directory, so that an implied entry is looked up like any other row."""

    def __init__(self, layers: list) -> None:
        self.implied = len(layers)
        self.kinds = [ix.kinds for ix in layers] + [bytes([DIR])]
        self.sizes = [ix.sizes for ix in layers] + [(0,)]
        self.modes = [ix.modes for ix in layers] + [(IMPLIED_MODE,)]
        self.uids = [ix.uids for ix in layers] + [(0,)]
        self.gids = [ix.gids for ix in layers] + [(0,)]
        self.targets = [ix.targets for ix in layers] + [{}]


def _gather(cols: _Columns, lis: list[int], rows: list[int]) -> list[Iterable[int]]:
    """kinds, modes, uids, gids and sizes of ``(lis[i], rows[i])``. Rows of one layer (a
    lone base layer, or a batch inside one layer's tree) index that layer's columns
    directly: one C call per value instead of two."""
    columns = (cols.kinds, cols.modes, cols.uids, cols.gids, cols.sizes)
    if lis and lis.count(lis[0]) == len(lis):
        li = lis[0]
        return [list(map(col[li].__getitem__, rows)) for col in columns]
    return [list(map(getitem, map(col.__getitem__, lis), rows)) for col in columns]


def _batch(paths: list[str], start: int, fs, cols: _Columns, meta: _Meta,
           layer_tail: list[str], owners: list[str], cats: list[str]) -> list[str]:
    """The rows of ``paths`` (``fs.sorted_paths()`` from ``start`` on), without the
    separator before each. Every column is gathered by ``map`` in C; Python only revisits
    the rows that are not regular files."""
    lis, rows = fs.sorted_columns(start, start + len(paths))
    col_lis = lis
    if IMPLIED_ROW in rows:
        col_lis = lis.copy()
        for i in compress(range(len(rows)), map(IMPLIED_ROW.__eq__, rows)):
            col_lis[i], rows[i] = cols.implied, 0
    kinds, modes, uids, gids, sizes = _gather(cols, col_lis, rows)
    parts = list(map(meta.__getitem__, zip(kinds, modes, uids, gids, strict=True)))
    size_texts = list(map(str, sizes))
    targets = ["null"] * len(paths)
    for i, kind in enumerate(kinds):
        if kind != FILE:
            size_texts[i] = str(fs.link_sizes.get(paths[i], 0)) if kind == HARDLINK else "0"
            target = cols.targets[col_lis[i]].get(rows[i])
            if target is not None:
                targets[i] = _s(target)
    return list(map("".join, zip(map(_s, paths), map(itemgetter(0), parts), size_texts,
                                 map(itemgetter(1), parts), targets,
                                 map(layer_tail.__getitem__, lis), owners, repeat(_CATEGORY),
                                 cats, repeat("}"), strict=False)))


def write_files(analysis: Analysis, out: TextIO) -> None:
    """The merged filesystem, sorted by path, as a JSON array, written ``WRITE_BATCH``
    rows at a time (memory stays bounded on a million entries)."""
    fs = analysis.fs
    paths = fs.sorted_paths()
    if not paths:
        out.write("[]")
        return
    package_json = {i: _s(p.name) for i, p in enumerate(analysis.catalog.packages)}
    package_json[None] = "null"  # type: ignore[index]
    codes, names = analysis.classification.column(paths)
    category_json = ["null"] * 256  # by code; NO_CODE (no category: directories) is null
    for code, name in enumerate(names):
        category_json[code] = _s(name)
    owners_of = analysis.catalog.owners
    cols = _Columns(fs.layers)
    meta = _Meta()
    layer_tail = [f', "layer": {li}, "package": ' for li in range(len(fs.layers))]
    render = _c_rows(fs, layer_tail)
    out.write('[\n  {"path": ')
    for start in range(0, len(paths), WRITE_BATCH):
        chunk = paths[start:start + WRITE_BATCH]
        # no package (None) and no category (NO_CODE: directories) are both null
        owners = list(map(package_json.__getitem__, map(owners_of.get, chunk)))  # type: ignore[arg-type]
        cats = list(map(category_json.__getitem__, codes[start:start + WRITE_BATCH]))
        if start:
            out.write(_ROW_SEP)
        if render is not None:
            out.write(render(chunk, start, owners, cats))
        else:
            out.write(_ROW_SEP.join(_batch(chunk, start, fs, cols, meta, layer_tail, owners,
                                                cats)))
    out.write("\n]")


#: per kind, the row text from the type to the size (the C renderer's ``_Meta``)
_KIND_TEXTS = tuple(f', "type": "{name}", "size": ' for name in KIND_NAMES)


def _c_rows(fs, layer_tail: list[str]) -> Callable[[list[str], int, list[str], list[str]], str] | None:
    """The C renderer of a batch of rows (``_tarscan.render_rows``: the same text as
    ``_batch`` and ``_ROW_SEP.join``, ~5× faster), or None without the accelerator (or
    with ``INSPECTOR_PURE=1``) or for columns it does not read (not the native arrays)."""
    render_rows = tarscan.render_rows
    if render_rows is None or not tarscan.native(fs.layers):
        return None
    columns = [(ix.kinds, ix.sizes, ix.modes, ix.uids, ix.gids) for ix in fs.layers]
    targets = [ix.targets for ix in fs.layers]
    packed = fs.sorted_packed()

    def render(chunk: list[str], start: int, owners: list[str], cats: list[str]) -> str:
        return render_rows(chunk, packed[start:start + len(chunk)], columns, targets,
                           fs.link_sizes, layer_tail, owners, cats, _KIND_TEXTS, IMPLIED_MODE)

    return render


class _Sliced:
    """``out`` with long strings written in ``WRITE_SLICE`` pieces (see there)."""

    def __init__(self, out: TextIO) -> None:
        self._write = out.write

    def write(self, text: str) -> None:
        if len(text) <= WRITE_SLICE:
            self._write(text)
            return
        for start in range(0, len(text), WRITE_SLICE):
            self._write(text[start:start + WRITE_SLICE])


#: a list of strings longer than this is written in pieces of this many items
#: (``categories`` lists every path: 28 MB of JSON on a million files)
JSON_PIECE = 8192


def write_json(value: object, write) -> None:
    """``write(json.dumps(value, ensure_ascii=True))``, the same characters, but long
    lists of strings (nested in dicts with string keys) are written a piece at a time
    instead of as one string. A ``_Text`` is JSON already."""
    if isinstance(value, _Text):
        write(value)
    elif isinstance(value, dict) and value and all(type(k) is str for k in value):
        sep = "{"
        for key, item in value.items():
            write(f"{sep}{_s(key)}: ")
            write_json(item, write)
            sep = ", "
        write("}")
    elif isinstance(value, list) and len(value) > JSON_PIECE and set(map(type, value)) == {str}:
        json_strings = tarscan.json_strings
        sep = "["
        for start in range(0, len(value), JSON_PIECE):
            if json_strings is not None:  # the same text, escaped and joined in C
                write(sep + json_strings(value, start, start + JSON_PIECE))
            else:
                write(sep + ", ".join(map(_s, value[start:start + JSON_PIECE])))
            sep = ", "
        write("]")
    else:
        write(json.dumps(value, ensure_ascii=True))


def document(analysis: Analysis, *, vulns=None, base=None, detect: bool = True) -> dict:
    """The export document but ``files`` (``write_export``'s arguments; the HTML report
    embeds it)."""
    from inspector.provenance import split

    base = _base(analysis, base, detect)
    head = header(analysis, split(analysis, base, vulns))
    if vulns is not None:
        from inspector.vulns import export_json

        head["vulnerabilities"] = export_json(vulns)
    return head


def _base(analysis: Analysis, base, detect: bool):
    """``base`` (``--base-image``), else the one detected unless not ``detect``."""
    if base is None and detect:
        from inspector.provenance import detect_base

        return detect_base(analysis)
    return base


class _Text(str):
    """JSON text already rendered (a cached part of the document): written as it is."""


def _cached_document(analysis: Analysis, cache_dir: Path, base) -> dict:
    """``document`` without a scanner overlay, its costly parts — the packages (CPEs,
    provenance) and the base/own sides — rendered once per diff_id chain and base length
    and then read from the export cache (``export_cache.tail_texts``)."""
    from inspector.report.export_cache import tail_texts

    def render() -> tuple[str, str, str]:
        from inspector.provenance import split

        sides = split(analysis, base).as_json()
        return tuple(json.dumps(v, ensure_ascii=True)  # type: ignore[return-value]
                     for v in (_packages(analysis, True), sides["own"], sides["base"]))

    packages, own, side = tail_texts(analysis, cache_dir, base.layers if base else 0, render)
    head = header(analysis, packages=_Text(packages))
    front = base.as_json() if base else {"reference": None, "digest": None, "how": None,
                                         "layers": 0}
    head["base"] = _Text(json.dumps(front, ensure_ascii=True)[:-1]
                         + f', "own": {own}, "base": {side}}}')
    return head


def write_export(analysis: Analysis, out: TextIO, *, cache_dir: Path | None = None,
                 format: str = "json", vulns=None, base=None, detect: bool = True) -> None:
    """The whole export document; ``files`` comes right after ``size``, as in the contract.
    With ``cache_dir``, the rendered files array is cached (``export_cache``), and so are
    the packages and the base/own sides unless there is a scanner overlay. The SBOM
    formats (``cyclonedx``, ``spdx-json``) are written by ``inspector.sbom``. ``vulns``
    (an ``inspector.vulns.Overlay``, ``--vulns``) adds ``vulnerabilities`` at the end.
    ``base`` (``provenance.Base``, ``--base-image``), else one detected unless not
    ``detect``, splits the figures into base and own (``base``)."""
    if format != "json":
        from inspector.sbom import render

        out.write(render(analysis, format))
        return
    if cache_dir is not None and vulns is None:
        head = _cached_document(analysis, cache_dir, _base(analysis, base, detect))
    else:
        head = document(analysis, vulns=vulns, base=base, detect=detect)
    keys = list(head)
    out.write("{\n")
    for key in keys[: keys.index("layers") + 1]:
        out.write(f"  {_s(key)}: {json.dumps(head[key], ensure_ascii=True)},\n")
    out.write('  "files": ')
    if cache_dir is None:
        write_files(analysis, out)
    else:
        from inspector.report.export_cache import write_files_cached

        write_files_cached(analysis, _Sliced(out), cache_dir,  # type: ignore[arg-type]  # writes only
                           write_files)
    for key in keys[keys.index("layers") + 1:]:
        out.write(f",\n  {_s(key)}: ")
        write_json(head[key], out.write)
    out.write("\n}\n")
