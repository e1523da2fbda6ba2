"""On-disk cache of what an image's merged filesystem yields: packages, file owners,
categories, findings, efficiency — keyed by the image's diff_id chain (the merged
filesystem is a function of it), the rules file and the code version.

A warm open then costs the layer-index loads and the merge only: nothing is catalogued or
classified again. Per-path results are stored as columns aligned with
``fs.sorted_paths()`` (one category code byte, one owner int), not as a path map.
Same framing as the layer-index cache: magic, length, CRC; a bad file is discarded.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import sys
import tempfile
import zlib
from array import array
from functools import lru_cache
from itertools import repeat
from pathlib import Path

import inspector
from inspector.catalog import Catalog, Package
from inspector.classify import CategoryTotal, Classification, Findings
from inspector.index.efficiency import Efficiency
from inspector.index.merge import MergedFS

VERSION = 1
MAGIC = b"INSPANL1"
_PREFIX = struct.Struct("<8sQI")
NO_CODE = 255


@lru_cache(maxsize=1)
def _rules_digest() -> str:
    from inspector.classify.rules import RULES_FILE

    data = RULES_FILE.read_bytes()
    return hashlib.sha256(data).hexdigest()


def analysis_key(diff_ids: list[str]) -> str:
    h = hashlib.sha256()
    from inspector.codehash import ANALYSIS_CODE, INDEX_CODE, source_digest

    code = source_digest(INDEX_CODE) + source_digest(ANALYSIS_CODE)
    h.update(f"v{VERSION}\0{inspector.__version__}\0{_rules_digest()}\0{code}\0".encode())
    h.update("\0".join(diff_ids).encode())
    return h.hexdigest()


def dumps(fs: MergedFS, catalog: Catalog, cls: Classification, eff: Efficiency) -> bytes:
    paths = fs.sorted_paths()
    names = sorted(set(cls.categories.values()))
    code = {name: i for i, name in enumerate(names)}
    code[None] = NO_CODE  # type: ignore[index]
    # map() keeps these per-path loops in C (150k paths: milliseconds, not 100s of them)
    cats = bytes(map(code.__getitem__, map(cls.categories.get, paths)))
    owners = array("i", map(catalog.owners.get, paths, repeat(-1)))
    header = {
        "version": VERSION, "byteorder": sys.byteorder, "count": len(paths),
        "category_names": names,
        "packages": [p.as_json() for p in catalog.packages],
        "catalog_warnings": catalog.warnings,
        "totals": {n: {"files": t.files, "bytes": t.bytes} for n, t in cls.totals.items()},
        "findings": cls.findings.as_json(),
        "efficiency": {**eff.as_json(), "inefficient": eff.inefficient},
    }
    head = json.dumps(header, ensure_ascii=True).encode() + b"\n"
    payload = head + cats + owners.tobytes()
    return _PREFIX.pack(MAGIC, len(payload), zlib.crc32(payload)) + payload


def loads(data: bytes, fs: MergedFS) -> tuple[Catalog, Classification, Efficiency] | None:
    try:
        magic, length, crc = _PREFIX.unpack_from(data, 0)
        if magic != MAGIC or len(data) - _PREFIX.size != length:
            return None
        if zlib.crc32(memoryview(data)[_PREFIX.size:]) != crc:
            return None
        nl = data.index(b"\n", _PREFIX.size)
        header = json.loads(data[_PREFIX.size:nl])
        paths = fs.sorted_paths()
        n = len(paths)
        if header.get("version") != VERSION or header.get("byteorder") != sys.byteorder \
                or header.get("count") != n:
            return None
        cats = data[nl + 1:nl + 1 + n]
        owners = array("i")
        owners.frombytes(data[nl + 1 + n:])
        if len(cats) != n or len(owners) != n:
            return None
        names = header["category_names"]
        categories = {p: names[c] for p, c in zip(paths, cats, strict=True) if c != NO_CODE}
        catalog = Catalog(
            packages=[Package(**p) for p in header["packages"]],
            owners={p: o for p, o in zip(paths, owners, strict=True) if o >= 0},
            warnings=header["catalog_warnings"])
        totals = {name: CategoryTotal(t["files"], t["bytes"], []) for name, t in header["totals"].items()}
        for path, name in categories.items():  # sorted paths → sorted per category
            totals[name].paths.append(path)
        cls = Classification(categories=categories, totals=totals, findings=Findings.from_json(header["findings"]))
        e = header["efficiency"]
        eff = Efficiency(e["score"], e["wasted_bytes"], e["reclaimable_bytes"],
                         [tuple(x) for x in e["inefficient"]],
                         [f["layers"] for f in e["inefficient_files"]], e["inefficient_count"])
        return catalog, cls, eff
    except (ValueError, KeyError, TypeError, IndexError, struct.error):
        return None


class AnalysisCache:
    def __init__(self, root: Path) -> None:
        self.dir = Path(root) / "analysis" / f"v{VERSION}"

    def get(self, diff_ids: list[str], fs: MergedFS):
        path = self.dir / f"{analysis_key(diff_ids)}.bin"
        try:
            data = path.read_bytes()
        except OSError:
            return None
        result = loads(data, fs)
        if result is None:
            try:
                path.unlink()
            except OSError:
                pass
        return result

    def put(self, diff_ids: list[str], fs: MergedFS, catalog: Catalog, cls: Classification,
            eff: Efficiency) -> None:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            data = dumps(fs, catalog, cls, eff)
            fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, self.dir / f"{analysis_key(diff_ids)}.bin")
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            pass  # the cache only saves time
