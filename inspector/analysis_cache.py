"""On-disk cache of what an image's merged filesystem yields: packages, file owners,
categories, findings, efficiency — keyed by the image's diff_id chain (the merged
filesystem is a function of it) and the code that computes it (the rules file included:
``codehash`` hashes ``classify/*.toml``).

A warm open then costs the layer-index loads and the merge only: nothing is catalogued or
classified again. Per-path results are stored as columns aligned with
``fs.sorted_paths()`` (one category code byte, one owner int), not as a path map. Entries
are framed by ``inspector.cache`` (full key and code digest inside the checksummed body):
a bad or foreign entry is discarded.
"""

from __future__ import annotations

import struct
from array import array
from itertools import compress, repeat
from pathlib import Path

from inspector.cache import CacheDir
from inspector.cache_kinds import KINDS
from inspector.catalog.builder import Catalog, Package
from inspector.classify import NO_CODE, CategoryTotal, Classification, Findings
from inspector.index.efficiency import Efficiency
from inspector.index.merge import MergedFS

#: format version and magic: the registry's ``analysis`` row (``cache_kinds``)
VERSION = KINDS["analysis"].version
MAGIC = KINDS["analysis"].magic


def analysis_key(diff_ids: list[str]) -> str:
    """The full key of an image's analysis: its diff_id chain, base first."""
    return "layers:" + ",".join(diff_ids)


def encode(fs: MergedFS, catalog: Catalog, cls: Classification,
           eff: Efficiency) -> tuple[dict, list[bytes]]:
    paths = fs.sorted_paths()
    cats, names = cls.column(paths)
    # map() keeps this per-path loop in C (150k paths: milliseconds, not 100s of them)
    owners = array("i", map(catalog.owners.get, paths, repeat(-1)))
    header = {
        "version": VERSION, "count": len(paths),
        "category_names": names,
        "packages": [p.as_json() for p in catalog.packages],
        "catalog_warnings": catalog.warnings,
        "totals": {n: {"files": t.files, "bytes": t.bytes} for n, t in cls.totals.items()},
        "findings": cls.findings.as_json(),
        "efficiency": {**eff.as_json(), "inefficient": eff.inefficient},
    }
    return header, [bytes(cats), owners.tobytes()]


def decode(header: dict, body: memoryview,
           fs: MergedFS) -> tuple[Catalog, Classification, Efficiency] | None:
    """The results of an entry's parts for ``fs``; ``None`` if they do not fit it."""
    try:
        paths = fs.sorted_paths()
        n = len(paths)
        if header.get("version") != VERSION or header.get("count") != n:
            return None
        cats = bytes(body[:n])
        owners = array("i")
        owners.frombytes(body[n:])
        if len(cats) != n or len(owners) != n:
            return None
        names = header["category_names"]
        per_code = _per_category(paths, cats, names)
        keep = bytes(map((-1).__lt__, owners))  # one pass in C: owned paths
        catalog = Catalog(
            packages=[Package(**p) for p in header["packages"]],
            owners=dict(zip(compress(paths, keep), compress(owners, keep), strict=True)),
            warnings=header["catalog_warnings"])
        totals = {name: CategoryTotal(t["files"], t["bytes"], []) for name, t in header["totals"].items()}
        for name, in_category in per_code:
            totals[name].paths = in_category  # sorted paths → sorted per category
        cls = Classification(totals=totals, findings=Findings.from_json(header["findings"]),
                             codes=cats, names=names, paths=paths)
        e = header["efficiency"]
        eff = Efficiency(e["score"], e["wasted_bytes"], e["reclaimable_bytes"],
                         [tuple(x) for x in e["inefficient"]],
                         [f["layers"] for f in e["inefficient_files"]], e["inefficient_count"])
        return catalog, cls, eff
    except (ValueError, KeyError, TypeError, IndexError, struct.error):
        return None


def _per_category(paths: list[str], cats: bytes, names: list) -> list[tuple[str, list[str]]]:
    """``[(name, its paths)]`` from the code column, without a Python-level loop per path:
    ``bytes.translate`` makes each mask, ``compress`` applies it. (The ``path → name`` map
    is the classification's to build, if anything asks for it.)"""
    present = set(cats)
    present.discard(NO_CODE)
    if len(set(names)) != len(names) or not all(isinstance(n, str) for n in names) \
            or any(code >= len(names) for code in present):
        raise ValueError("category codes do not match their names")
    per_code = []
    for code in sorted(present):
        mask = bytearray(256)
        mask[code] = 1
        per_code.append((names[code], list(compress(paths, cats.translate(mask)))))
    return per_code


class AnalysisCache:
    def __init__(self, root: Path) -> None:
        self.store = CacheDir.of(Path(root), "analysis")

    def get(self, diff_ids: list[str], fs: MergedFS):
        key = analysis_key(diff_ids)
        got = self.store.read(key)
        result = decode(*got, fs) if got is not None else None
        if got is not None and result is None:
            self.store.discard(key)
        return result

    def put(self, diff_ids: list[str], fs: MergedFS, catalog: Catalog, cls: Classification,
            eff: Efficiency) -> None:
        header, sections = encode(fs, catalog, cls, eff)
        self.store.write(analysis_key(diff_ids), header, sections)
