"""The parts of a comparison, each from the images' analyses: layers, categories,
packages, files, findings. Pure functions over ``Analysis`` objects (base-first layers,
sizes in bytes)."""

from __future__ import annotations

from collections.abc import Sequence

from inspector.analysis import Analysis
from inspector.classify import CATEGORY_ORDER, FINDING_NAMES
from inspector.compare.model import (
    CHANGE_REASONS,
    CategoryCell,
    CategoryRow,
    FileChange,
    FileDiff,
    FileRef,
    ImageSummary,
    LayerSummary,
    PackageDiff,
    PackageRef,
    PairVerdict,
    Security,
    SharedLayer,
    VersionChange,
)
from inspector.compare.security import executables, interpreters, runs_as
from inspector.index.entries import DIR, FILE, HARDLINK, KIND_NAMES
from inspector.index.hardlinks import counted
from inspector.index.merge import IMPLIED_ROW, MergedFS
from inspector.report.sizes import count, human

# ---- images and layers ---------------------------------------------------------------

def summarize(analyses: Sequence[Analysis], labels: list[str]) -> tuple[list[ImageSummary], list[SharedLayer]]:
    holders: dict[str, list[int]] = {}
    for i, a in enumerate(analyses):
        for layer in a.image.layers:
            if layer.diff_id and i not in holders.setdefault(layer.diff_id, []):
                holders[layer.diff_id].append(i)
    images, shared, seen = [], [], set()
    for i, a in enumerate(analyses):
        layers = []
        for pos, (layer, index) in enumerate(zip(a.image.layers, a.layers, strict=True)):
            others = [j for j in holders.get(layer.diff_id, []) if j != i]
            layers.append(LayerSummary(
                index=pos, digest=layer.digest, diff_id=layer.diff_id,
                compressed_size=layer.compressed_size, uncompressed_size=index.uncompressed_size,
                created_by=a.created_by[pos] if pos < len(a.created_by) else "",
                shared_with=others))
            if others and layer.diff_id not in seen:
                seen.add(layer.diff_id)
                shared.append(SharedLayer(layer.diff_id, holders[layer.diff_id],
                                          layer.compressed_size, index.uncompressed_size))
        fs = a.fs
        images.append(ImageSummary(
            reference=a.reference, label=labels[i], source=a.image.source,
            manifest_digest=a.image.manifest_digest, platform=a.image.platform,
            compressed_size=a.compressed_size, uncompressed_size=a.uncompressed_size,
            files=len(fs) - fs.count_kind(DIR), file_bytes=fs.file_bytes,
            packages=len(a.catalog.packages), layers=layers, warnings=a.notices,
            efficiency=a.efficiency))
    return images, shared


# ---- categories ----------------------------------------------------------------------

def verdict(name: str, cells: Sequence[CategoryCell], labels: Sequence[str]) -> str:
    parts = []
    for label, cell in zip(labels, cells, strict=True):
        if cell.files == 0:
            parts.append(f"{label} none")
        else:
            parts.append(f"{label} {count(cell.files, 'file')} {human(cell.bytes)}")
    return f"{name}: " + " — ".join(parts)


def categories(analyses: Sequence[Analysis], labels: list[str]) -> list[CategoryRow]:
    """One row per category, CATEGORY_ORDER first (the ones distroless strips lead), then
    any other category a classification produced, by name."""
    names = list(CATEGORY_ORDER)
    extra = sorted({n for a in analyses for n in a.classification.totals} - set(names))
    rows = []
    for name in names + extra:
        cells = []
        for a in analyses:
            total = a.classification.totals.get(name)
            cells.append(CategoryCell(total.files, total.bytes, list(total.paths))
                         if total else CategoryCell())
        rows.append(CategoryRow(name, cells, verdict(name, cells, labels)))
    return rows


# ---- packages ------------------------------------------------------------------------

def _version(packages: list) -> str:
    return ", ".join(sorted({p.version for p in packages}))


def _size(packages: list) -> int | None:
    sizes = [p.size for p in packages if p.size is not None]
    return sum(sizes) if sizes else None


def packages(analyses: Sequence[Analysis]) -> PackageDiff:
    """Packages by (type, name); one name installed twice in an image (npm, python) has
    its versions joined with ", " and its sizes added."""
    n = len(analyses)
    per_image: list[dict[tuple[str, str], list]] = []
    for a in analyses:
        group: dict[tuple[str, str], list] = {}
        for p in a.catalog.packages:
            group.setdefault((p.type, p.name), []).append(p)
        per_image.append(group)
    only_in: list[list[PackageRef]] = [[] for _ in range(n)]
    changed: list[VersionChange] = []
    common: list[PackageRef] = []
    for key in sorted({k for g in per_image for k in g}):
        present = [i for i in range(n) if key in per_image[i]]
        versions = [_version(g[key]) if key in g else None for g in per_image]
        sizes = [_size(g[key]) if key in g else None for g in per_image]
        if len(present) == 1:
            i = present[0]
            only_in[i].append(PackageRef(key[0], key[1], _version(per_image[i][key]), sizes[i]))
        elif len({versions[i] for i in present}) > 1:
            changed.append(VersionChange(key[0], key[1], versions, sizes))
        elif len(present) == n:
            i = present[0]
            common.append(PackageRef(key[0], key[1], _version(per_image[i][key]), sizes[i]))
    for refs in only_in:
        refs.sort(key=lambda r: (-(r.size or 0), r.name))
    return PackageDiff(only_in, changed, common)


# ---- files ---------------------------------------------------------------------------

Attrs = tuple[int, int, int, str | None]  # kind, shown size, permission bits, target


def attrs(fs: MergedFS) -> dict[str, Attrs]:
    """path → (kind, size, permission bits, target) for every entry (directories too: a
    directory facing a non-directory is a type change). One pass, no object per path."""
    layers, link_sizes = fs.layers, fs.link_sizes
    out: dict[str, Attrs] = {}
    for path, li, row in fs.located():
        if row == IMPLIED_ROW:
            out[path] = (DIR, 0, 0o755, None)
            continue
        index = layers[li]
        kind = index.kinds[row]
        size = (index.sizes[row] if kind == FILE else
                link_sizes.get(path, 0) if kind == HARDLINK else 0)
        out[path] = (kind, size, index.modes[row] & 0o7777, index.targets.get(row))
    return out


def _ref(path: str, attrs: Attrs) -> FileRef:
    kind, size, mode, target = attrs
    return FileRef(path, KIND_NAMES[kind], size, mode, target)


def _reasons(attrs: list[Attrs]) -> tuple[str, ...]:
    return tuple(reason for i, reason in enumerate(CHANGE_REASONS)
                 if len({a[i] for a in attrs}) > 1)


def files(analyses: Sequence[Analysis], tables: list[dict[str, Attrs]] | None = None) -> FileDiff:
    """Compare the merged filesystems path by path (non-directories; a directory facing a
    non-directory is a type change). Sizes: a hardlink's is its linked file's.

    Set operations find the paths only one image has; only the rest are compared one by
    one (``tables`` from ``attrs`` may be passed in when the caller has them)."""
    n = len(analyses)
    tables = tables if tables is not None else [attrs(a.fs) for a in analyses]
    nondir = [{p for p, a in t.items() if a[0] != DIR} for t in tables]
    only_in: list[list[FileRef]] = []
    shared: set[str] = set()
    for i, table in enumerate(tables):
        others = set().union(*(t.keys() for j, t in enumerate(tables) if j != i))
        only_in.append([_ref(p, table[p]) for p in sorted(nondir[i] - others)])
        shared |= nondir[i] & others
    changed: list[FileChange] = []
    common = partial = 0
    for path in shared:
        found = [t.get(path) for t in tables]
        present = [a for a in found if a is not None]
        if present.count(present[0]) != len(present):
            changed.append(FileChange(
                path, [None if a is None else _ref(path, a) for a in found], _reasons(present)))
        elif len(present) == n:
            common += 1
        else:
            partial += 1
    changed.sort(key=lambda c: c.path)
    return FileDiff(only_in, changed, common, partial)


def _pair(base: dict[str, Attrs], other: dict[str, Attrs], image: int) -> PairVerdict:
    """``other`` against ``base``: the same counts ``files`` gives for two images (a path
    that is a directory in one and not in the other is a change; directories in both are
    not counted); bytes by the hardlink rule."""
    left_out = [base[p] for p in base.keys() - other.keys() if base[p][0] != DIR]
    added = [other[p] for p in other.keys() - base.keys() if other[p][0] != DIR]
    changed = identical = 0
    for path in base.keys() & other.keys():
        a, b = base[path], other[path]
        if a[0] == DIR and b[0] == DIR:
            continue  # directories are not files (as in ``files``)
        if a == b:
            identical += 1
        else:
            changed += 1
    return PairVerdict(
        image=image,
        left_out_files=len(left_out), left_out_bytes=sum(counted(a[0], a[1]) for a in left_out),
        added_files=len(added), added_bytes=sum(counted(a[0], a[1]) for a in added),
        changed=changed, identical=identical)


def pairs(tables: list[dict[str, Attrs]]) -> list[PairVerdict]:
    """Each image after the first against the first (``tables`` from ``attrs``)."""
    return [_pair(tables[0], tables[i], i) for i in range(1, len(tables))]


# ---- findings ------------------------------------------------------------------------

def findings(analyses: Sequence[Analysis]) -> dict[str, list[list[str]]]:
    names = list(FINDING_NAMES)
    per_image = [a.classification.findings.as_json() for a in analyses]
    names += sorted({k for f in per_image for k in f} - set(names))
    return {name: [sorted(f.get(name, [])) for f in per_image] for name in names}


def security(analyses: Sequence[Analysis]) -> Security:
    """Who each image runs as, its executables and interpreters (``compare.security``)."""
    programs = [executables(a.fs) for a in analyses]
    return Security(runs_as=[runs_as(a) for a in analyses], executables=programs,
                    interpreters=[interpreters(a, p) for a, p in zip(analyses, programs,
                                                                      strict=True)])
