"""Base vs own, and package provenance (issue 26).

**The base.** An image's first ``n`` layers are its base when another image's diff_ids
start it: ``--base-image REF`` (``given``; refused in one line when REF's layers are not
a prefix), else the longest diff_id prefix shared with another image being compared
(``compared``; shorter than the image itself), else the longest bundled sample whose
layers are a proper prefix (``sample``). No base: every figure is own.

**The split.** A path is own when its final content comes from a layer ``>= n`` (the
merge's owning layer: ``MergedFS``); a package is own when the layer that added it
(``Package.layer``) is ``>= n``; a finding (setuid, …) follows its path, a login user
``/etc/passwd``; a vulnerability follows the layer it landed on. Waste: the base's is
the efficiency of the base layers merged alone, the own part is what the own layers add
to it (total − base), for dive's ``wasted_bytes`` and our ``reclaimable_bytes``.
Base + own = the image's figure, for every number (``tests/provenance``).

**Package provenance.** ``added_in``: the layer that added the package (its record's
layer); ``modified_in``: the last layer that wrote any of its present files;
``removed_in``: the last later layer whose whiteouts removed some of its files (found by
cataloguing the filesystem just below each layer that whites anything out, so the
package's full file list is known there); ``hidden``: the database still lists it but
none of its files are left. 0-based layer positions, base first.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from inspector.errors import InspectorError
from inspector.index.entries import DIR, FILE
from inspector.index.merge import IMPLIED_ROW, MergedFS

if TYPE_CHECKING:
    from inspector.analysis import Analysis
    from inspector.options import Options

HOWS = ("given", "compared", "sample")

# Base, Split and Provenance are NamedTuples (immutable records), Side a plain class: every
# export and compare imports this module, and a dataclass costs ~0.5 ms to create where a
# NamedTuple costs 0.1


class BaseImageError(InspectorError):
    """``--base-image`` names an image whose layers do not start the analysed one."""


class Base(NamedTuple):
    reference: str
    digest: str  # the base image's manifest digest
    how: str  # one of HOWS
    layers: int  # how many of the image's first layers are the base's

    def as_json(self) -> dict:
        return {"reference": self.reference, "digest": self.digest, "how": self.how,
                "layers": self.layers}


def diff_ids(analysis: Analysis) -> list[str]:
    return [layer.diff_id for layer in analysis.image.layers]


def shared_prefix(a: Sequence[str], b: Sequence[str]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def given_base(analysis: Analysis, reference: str, options: Options) -> Base:
    """``--base-image REF``: REF's layers must be the first layers of the image."""
    from inspector.analysis import open_image

    image = open_image(reference, options)
    try:
        ids = [layer.diff_id for layer in image.layers]
        digest = image.manifest_digest
    finally:
        image.close()
    mine = diff_ids(analysis)
    n = shared_prefix(ids, mine)
    if n != len(ids) or not ids:
        where = (f"it has {len(ids)} layers, the image {len(mine)}" if len(ids) > len(mine)
                 else f"its layer {n + 1} differs from the image's")
        raise BaseImageError(
            f"--base-image {reference}: not a base of {analysis.reference} ({where}); "
            "give the image it was built FROM, or leave --base-image out to detect it")
    return Base(reference, digest, "given", n)


def detect_base(analysis: Analysis, others: Sequence[Analysis] = ()) -> Base | None:
    """The longest diff_id prefix shared with one of ``others`` (shorter than the image),
    else the longest bundled sample that is a proper prefix; None when neither."""
    mine = diff_ids(analysis)
    best: tuple[int, bool] = (0, False)  # (layers shared, the other is all of them)
    found: Base | None = None
    for other in others:
        if other is analysis:
            continue
        theirs = diff_ids(other)
        n = shared_prefix(theirs, mine)
        rank = (n, n == len(theirs))  # on a tie, the image that is the base itself
        if 0 < n < len(mine) and rank > best:
            best, found = rank, Base(other.reference, other.image.manifest_digest, "compared", n)
    if found is not None:
        return found
    return _sample_base(mine)


def _sample_base(mine: list[str]) -> Base | None:
    # a proper prefix has at least one layer and fewer than the image: a one-layer image
    # (debian-12-slim itself) has none, and no sample needs opening
    if len(mine) < 2:
        return None
    best: Base | None = None
    for name, digest, ids in sample_layers():
        if 0 < len(ids) < len(mine) and ids == mine[:len(ids)] and (
                best is None or len(ids) > best.layers):
            best = Base(f"sample:{name}", digest, "sample", len(ids))
    return best


#: (layout directory, its index.json's mtime and size) → what ``sample_layers`` read there
_SAMPLES: dict[tuple[str, int, int], list[tuple[str, str, list[str]]]] = {}


def sample_layers() -> list[tuple[str, str, list[str]]]:
    """``(name, manifest digest, diff_ids)`` of every bundled sample, in the layout's order
    (``[]`` without the layout). The layout is opened once (not once per sample: its
    ``oci-layout`` and ``index.json`` are read and checked once) and what it says is kept
    for the process while ``index.json`` is unchanged: a comparison detects each image's
    base against the same samples."""
    from inspector.errors import ImageNotFound
    from inspector.options import Options
    from inspector.sources.archive import DirStore
    from inspector.sources.oci_layout import Layout, parse_json, select_entry, sha256
    from inspector.sources.samples import layout_dir, sample_names

    root = layout_dir()
    try:
        names = sample_names()
        st = (root / "index.json").stat()
    except (ImageNotFound, OSError):
        return []
    key = (str(root), st.st_mtime_ns, st.st_size)
    if key in _SAMPLES:
        return _SAMPLES[key]
    platform = Options().platform
    store = DirStore(root)
    found = []
    try:
        layout = Layout(store)
        layout.check_layout_file()
        index = layout.index()
        for name in names:
            chosen = layout.resolve(select_entry(index, name, platform, where=store.where),
                                    platform)
            # the config's diff_ids, verified against its digest; the layer blobs are not
            # needed (nor looked for) to tell whether a sample starts the image
            config = parse_json(layout.read_blob(chosen.doc["config"], what="config"),
                                what=f"{store.where}: config of {name}")
            ids = (config.get("rootfs") or {}).get("diff_ids") or []
            found.append((name, chosen.descriptor.get("digest") or sha256(chosen.data), ids))
    finally:
        store.close()
    _SAMPLES[key] = found
    return found


def find_base(analysis: Analysis, options: Options, given: str | None = None,
              others: Sequence[Analysis] = ()) -> Base | None:
    if given:
        return given_base(analysis, given, options)
    return detect_base(analysis, others)


# ---- the split --------------------------------------------------------------------------

class Side:
    """The figures of one side (base or own), summed by ``split`` (a plain class, for the
    reason above)."""

    __slots__ = ("files", "bytes", "packages", "package_bytes", "categories", "findings",
                 "wasted_bytes", "reclaimable_bytes", "vulnerabilities")

    def __init__(self) -> None:
        self.files = self.bytes = self.packages = self.package_bytes = 0
        self.categories: dict[str, dict[str, int]] = {}
        self.findings: dict[str, int] = {}
        self.wasted_bytes = self.reclaimable_bytes = 0
        self.vulnerabilities: dict | None = None

    def as_json(self) -> dict:
        out = {"files": self.files, "bytes": self.bytes, "packages": self.packages,
               "package_bytes": self.package_bytes, "categories": self.categories,
               "findings": self.findings, "wasted_bytes": self.wasted_bytes,
               "reclaimable_bytes": self.reclaimable_bytes}
        if self.vulnerabilities is not None:
            out["vulnerabilities"] = self.vulnerabilities
        return out


class Split(NamedTuple):
    base: Base | None
    own: Side
    base_side: Side

    def as_json(self) -> dict:
        """``base`` in ``inspector.export/v1`` (and per image in ``inspector.compare/v1``)."""
        head = self.base.as_json() if self.base else {
            "reference": None, "digest": None, "how": None, "layers": 0}
        return {**head, "own": self.own.as_json(), "base": self.base_side.as_json()}


def own_paths(fs: MergedFS, n: int) -> list[str]:
    """The paths (directories too) whose final entry comes from a layer ``>= n``, sorted."""
    paths = fs.sorted_paths()
    lis, _rows = fs.sorted_columns(0, len(paths))
    return [p for p, li in zip(paths, lis, strict=True) if li >= n]


def split(analysis: Analysis, base: Base | None, vulns=None) -> Split:
    n = base.layers if base else 0
    own, side = Side(), Side()
    sides = (side, own)
    fs = analysis.fs
    paths = fs.sorted_paths()
    lis, rows = fs.sorted_columns(0, len(paths))
    codes, names = analysis.classification.column(paths)
    kinds = [layer.kinds for layer in fs.layers]
    sizes = [layer.sizes for layer in fs.layers]
    # per side (0: base, 1: own): files, bytes, and per category code [files, bytes] in the
    # order the side first meets each; summed in locals, set on the Sides once
    files, nbytes = [0, 0], [0, 0]
    per_code: tuple[dict[int, list[int]], dict[int, list[int]]] = ({}, {})
    for li, row, code in zip(lis, rows, codes, strict=True):
        if row == IMPLIED_ROW:
            continue
        kind = kinds[li][row]
        if kind == DIR:
            continue
        i = li >= n
        size = sizes[li][row] if kind == FILE else 0
        files[i] += 1
        nbytes[i] += size
        if code != 255:
            cat = per_code[i].get(code)
            if cat is None:
                cat = per_code[i][code] = [0, 0]
            cat[0] += 1
            cat[1] += size
    for s, s_files, s_bytes, s_codes in zip(sides, files, nbytes, per_code, strict=True):
        s.files, s.bytes = s_files, s_bytes
        s.categories = {name: {"files": 0, "bytes": 0}
                        for name in analysis.classification.totals}
        for code, (count, size) in s_codes.items():
            total = s.categories.setdefault(names[code], {"files": 0, "bytes": 0})
            total["files"] += count
            total["bytes"] += size
    for p in analysis.catalog.packages:
        s = sides[p.layer is not None and p.layer >= n]
        s.packages += 1
        s.package_bytes += p.size or 0
    passwd = fs.find("/etc/passwd")
    for name, items in analysis.classification.findings.items():
        for s in sides:
            s.findings[name] = 0
        for item in items:
            at = passwd if name == "login_users" else fs.find(item)
            sides[at is not None and at[0] >= n].findings[name] += 1
    eff = analysis.efficiency
    if n:
        from inspector.index.efficiency import efficiency

        below = efficiency(analysis.fs_at(n - 1), top=0)
        side.wasted_bytes, side.reclaimable_bytes = below.wasted_bytes, below.reclaimable_bytes
    own.wasted_bytes = eff.wasted_bytes - side.wasted_bytes
    own.reclaimable_bytes = eff.reclaimable_bytes - side.reclaimable_bytes
    if vulns is not None:
        side.vulnerabilities, own.vulnerabilities = vulns_split(vulns, n)
    return Split(base, own, side)


def vulns_split(vulns, n: int) -> tuple[dict, dict]:
    """A scanner overlay's counts (``Counts.as_json``) on the base layers (``< n``) and the
    own ones; a finding that lands on no package counts on neither side."""
    from inspector.vulns.model import Counts

    counts = (Counts(), Counts())
    for item in vulns.landed:
        if item.layer is not None:
            counts[item.layer >= n].add(item.finding)
    return counts[0].as_json(), counts[1].as_json()


# ---- package provenance -----------------------------------------------------------------

class Provenance(NamedTuple):
    added_in: int | None
    modified_in: int | None
    removed_in: int | None
    hidden: bool
    removed_files: int = 0

    def as_json(self) -> dict:
        return {"added_in": self.added_in, "modified_in": self.modified_in,
                "removed_in": self.removed_in, "hidden": self.hidden,
                "removed_files": self.removed_files}


def _key(p) -> tuple:
    return (p.type, p.name, p.version, p.arch, p.source_path)


def _removed_prefixes(removed: dict[str, tuple[int, bool]]) -> tuple[set[str], list[str]]:
    """A layer's whiteouts as exact paths and directory prefixes (``DIR/``)."""
    exact: set[str] = set()
    prefixes: list[str] = []
    for path, (_nbytes, is_dir) in removed.items():
        if path.endswith("/*"):  # opaque marker: everything below DIR
            prefixes.append(path[:-1])
            continue
        exact.add(path)
        if is_dir:
            prefixes.append(path.rstrip("/") + "/")
    return exact, prefixes


def package_provenance(analysis: Analysis) -> list[Provenance]:
    """One ``Provenance`` per package of ``analysis.catalog``, in its order."""
    from inspector.catalog.builder import catalog_image

    fs = analysis.fs
    packages = analysis.catalog.packages
    modified: list[int | None] = [p.layer for p in packages]
    owners = analysis.catalog.owners
    present = list(filter(fs.entries.__contains__, owners))
    for idx, li in zip(map(owners.__getitem__, present), fs.columns_of(present)[0], strict=True):
        if modified[idx] is None or li > modified[idx]:  # type: ignore[operator]
            modified[idx] = li
    index = {_key(p): i for i, p in enumerate(packages)}
    removed_in: list[int | None] = [None] * len(packages)
    removed_files = [0] * len(packages)
    first = min((p.layer for p in packages if p.layer is not None), default=None)
    for li in range(1, len(fs.layers)):
        whiteouts = fs.removed[li] if li < len(fs.removed) else {}
        if not whiteouts or first is None or first >= li:
            continue
        exact, prefixes = _removed_prefixes(whiteouts)
        below = catalog_image(analysis.fs_at(li - 1))
        owned = sorted(below.owners)
        hit: dict[int, int] = {}
        for path in exact:
            if path in below.owners:
                hit[below.owners[path]] = hit.get(below.owners[path], 0) + 1
        for prefix in prefixes:
            for path in owned[bisect_left(owned, prefix):]:
                if not path.startswith(prefix):
                    break
                if path not in exact:
                    hit[below.owners[path]] = hit.get(below.owners[path], 0) + 1
        for j, count in hit.items():
            i = index.get(_key(below.packages[j]))
            if i is not None:
                removed_in[i] = li
                removed_files[i] += count
    return [Provenance(p.layer, modified[i], removed_in[i],
                       removed_in[i] is not None and not p.files, removed_files[i])
            for i, p in enumerate(packages)]
