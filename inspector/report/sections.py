"""The compare report as rows, built once from a ``CompareResult``: the text and markdown
renderers only format these sections (the JSON is the result itself).

    sections(result, files=True, sort="size") -> list[Section]

A ``Cell`` is a few ``Span``s; a span's ``style`` is what it *is* (``code``: a path, name
or digest; ``dim``: an absence; ``label``: an image's label, ``image`` says which), not how
it looks. Formatting choices left to the renderers: a ``bar`` column joins the cell
before it in markdown; a ``ListCell`` is inline in markdown and a count with the list
below the table in text; a ``group`` table's first column is a sub-heading in text.
Layers are numbered 1..N (base first) here, as everywhere a person reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from inspector.compare.model import CompareResult, FileChange, FileRef, ImageSummary
from inspector.report.sizes import bar, count, human

if TYPE_CHECKING:
    from inspector.provenance import Split
    from inspector.vulns import Overlay

#: characters of a layer's created_by kept in the layer table (the rest: an ellipsis)
CREATED_BY_CHARS = 60
#: inefficient files listed per image (all that were kept with ``files``)
INEFFICIENT_ROWS = 10


class Span(NamedTuple):
    text: str
    style: str = ""  # "" | code | dim | label | strong
    image: int = -1  # the image a label or bar belongs to


Cell = tuple[Span, ...]


def c(text: str, style: str = "", image: int = -1) -> Cell:
    return (Span(text, style, image),)


@dataclass
class ListCell:
    """A count and its items (findings): ``3: a, b, c`` or ``none``."""

    items: list[str]
    image: int


@dataclass
class Col:
    head: Cell
    right: bool = False
    bar: bool = False


@dataclass
class Table:
    cols: list[Col]
    rows: Sequence[Sequence[Cell | ListCell]]
    #: the first column groups the rows (text: a sub-heading per group)
    group: bool = False


@dataclass
class Items:
    """A lead (``only in debian (3)``) and its words (package names)."""

    lead: Cell
    words: list[Cell]


@dataclass
class Para:
    text: str


@dataclass
class Bullets:
    lines: list[str]


Block = Table | Items | Para | Bullets


@dataclass
class Section:
    title: str  # markdown heading; text prints it upper-cased
    level: int = 2
    note: str = ""  # text only, after its title: what the columns hold
    blocks: list[Block] = field(default_factory=list)


def _heads(labels: list[str]) -> list[Col]:
    return [Col(c(label, "label", i), right=True) for i, label in enumerate(labels)]


def _sizes(ims: list[ImageSummary], labels: list[str]) -> Section:
    rows = [(name, [fmt(im) for im in ims]) for name, fmt in (
        ("compressed", lambda im: human(im.compressed_size)),
        ("uncompressed", lambda im: human(im.uncompressed_size)),
        ("file bytes", lambda im: human(im.file_bytes)),
        ("files", lambda im: f"{im.files:,}"),
        ("packages", lambda im: f"{im.packages:,}"),
        ("layers", lambda im: str(len(im.layers))))]
    return Section("Sizes", blocks=[Table([Col(c("")), *_heads(labels)],
                                          [[c(name), *map(c, cells)] for name, cells in rows])])


_HOW = {"given": "--base-image", "compared": "an image compared", "sample": "a bundled sample"}


def _base_own(result: CompareResult) -> list[Section]:
    """Each image's base (how it was found) and its figures split into base and own
    (``provenance``); absent when no image has a base."""
    ims = result.images
    splits = [im.base for im in ims]
    if not any(sp is not None and sp.base is not None for sp in splits):
        return []

    def each(fmt) -> list[Cell]:
        return [c("—", "dim") if sp is None or sp.base is None else fmt(sp) for sp in splits]

    def findings(side) -> str:
        return f"{sum(side.findings.values()):,}"

    rows: list[list[Cell | ListCell]] = [
        [c("base"), *each(lambda sp: c(sp.base.reference, "code"))],
        [c("found by"), *each(lambda sp: c(_HOW.get(sp.base.how, sp.base.how)))],
        [c("base layers"), *each(lambda sp: c(f"{sp.base.layers} of "
                                             f"{sp.base.layers + _own_layers(result, sp)}"))],
    ]
    for name, fmt in (("files", lambda side: f"{side.files:,}"),
                      ("file bytes", lambda side: human(side.bytes)),
                      ("packages", lambda side: f"{side.packages:,}"),
                      ("findings", findings),
                      ("wasted (dive)", lambda side: human(side.wasted_bytes))):
        rows.append([c(f"own {name}"), *each(lambda sp, f=fmt: c(f(sp.own), "strong"))])
        rows.append([c(f"base {name}"), *each(lambda sp, f=fmt: c(f(sp.base_side)))])
    return [Section("Base and own", note="own: what the layers above the base put there",
                    blocks=[Table([Col(c("")), *_heads(result.labels)], rows)])]


def _own_layers(result: CompareResult, sp: Split) -> int:
    for im in result.images:
        if im.base is sp and sp.base is not None:
            return len(im.layers) - sp.base.layers
    return 0


def _created_by(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= CREATED_BY_CHARS else text[:CREATED_BY_CHARS - 1] + "…"


def _layers(result: CompareResult) -> list[Section]:
    labels = result.labels
    rows: list[list[Cell | ListCell]] = [
        [c(im.label, "label", i), c(str(la.index + 1)), c(la.diff_id.split(":")[-1][:12], "code"),
         c(human(la.compressed_size)), c(human(la.uncompressed_size)),
         c(", ".join(labels[j] for j in la.shared_with) or "—"),
         c(_created_by(la.created_by), "code") if la.created_by.strip() else c("—")]
        for i, im in enumerate(result.images) for la in im.layers]
    out = [Section("Layers", note="compressed, uncompressed; base first", blocks=[Table(
        [Col(c("image")), Col(c("layer"), True), Col(c("diff_id")), Col(c("compressed"), True),
         Col(c("uncompressed"), True), Col(c("shared with")), Col(c("created by"))],
        rows, group=True)])]
    if result.shared_layers:
        out.append(Section("Shared layers", blocks=[Table(
            [Col(c("diff_id")), Col(c("compressed"), True), Col(c("uncompressed"), True),
             Col(c("images"))],
            [[c(s.diff_id.split(":")[-1][:12], "code"), c(human(s.compressed_size)),
              c(human(s.uncompressed_size)), c(", ".join(labels[j] for j in s.images))]
             for s in result.shared_layers])]))
    return out


def _categories(result: CompareResult) -> list[Section]:
    labels = result.labels
    scale = max((cell.bytes for row in result.categories for cell in row.per_image), default=0)
    cols = [Col(c("category"))]
    for i, label in enumerate(labels):
        cols += [Col(c(label, "label", i), right=True), Col(c("bytes"), right=True),
                 Col(c(""), bar=True)]
    rows: list[list[Cell | ListCell]] = []
    for row in result.categories:
        cells: list[Cell | ListCell] = [c(row.name)]
        for i, cell in enumerate(row.per_image):
            cells += ([c("none", "dim"), c(""), c("")] if cell.files == 0 else
                      [c(count(cell.files, "file")), c(human(cell.bytes)),
                       c(bar(cell.bytes, scale), "bar", i)])
        rows.append(cells)
    lines = [p.sentence(labels) for p in result.pairs]
    lines += result.verdicts or ["the images have the same categories"]
    return [Section("Categories", note="files, bytes", blocks=[Table(cols, rows)]),
            Section("Verdict", level=3, blocks=[Bullets(lines)])]


def _packages(result: CompareResult) -> Section:
    labels, pk = result.labels, result.packages
    blocks: list[Block] = [
        Para(f"Common: {pk.common_count:,}. Version changed: {len(pk.version_changed):,}.")]
    for i, refs in enumerate(pk.only_in):
        lead = (Span("only in "), Span(labels[i], "strong", i), Span(f" ({len(refs):,})"))
        blocks.append(Items(lead, [(Span(p.name, "code"), Span(f" {human(p.size)}"))
                                   if p.size is not None else c(p.name, "code") for p in refs]))
    if pk.version_changed:
        blocks.append(Table([Col(c("package")), *[Col(c(label, "label", i))
                                                  for i, label in enumerate(labels)]],
                            [[c(v.name, "code"), *[c(x, "code") if x else c("—")
                                                   for x in v.versions]]
                             for v in pk.version_changed]))
    return Section("Packages", blocks=blocks)


#: packages listed per image under the vulnerability table (most findings first)
VULN_PACKAGES = 10
_FIX_WORDS = {"fixed": "fixed", "not-fixed": "not fixed", "wont-fix": "won't fix",
              "unknown": "unknown"}


def _row(name: str, numbers: list[int]) -> list[Cell | ListCell]:
    return [c(name), *[c(f"{n:,}") for n in numbers]]


def _by_layer(o: Overlay) -> str:
    """``1: 16, 3: 1`` — findings per layer that installed their package (layers 1..N)."""
    per: dict[int, int] = {}
    for item in o.landed:
        if item.layer is not None:
            per[item.layer] = per.get(item.layer, 0) + 1
    return ", ".join(f"{layer + 1}: {n:,}" for layer, n in sorted(per.items())) or "—"


def _vulns(result: CompareResult) -> list[Section]:
    """The scanner reports given with ``--vulns``: who scanned and when, counts by
    severity and fix state, each pair's drops and adds, the most affected packages."""
    if result.vulns is None:
        return []
    from inspector.vulns import FIX_STATES, SEVERITIES

    ovs, labels = result.vulns, result.labels
    rows: list[list[Cell | ListCell]] = [
        [c("scanner"), *[c(f"{o.scanner.name} {o.scanner.version}".strip()) for o in ovs]],
        [c("database built"), *[c(o.scanner.db_built) if o.scanner.db_built
                                else c("not recorded", "dim") for o in ovs]],
        [c("scanned"), *[c(o.scanner.scanned) if o.scanner.scanned else c("not recorded", "dim")
                         for o in ovs]],
        [c("vulnerabilities"), *[c(f"{o.counts.total:,}", "strong") for o in ovs]],
        *[_row(name, [o.counts.by_severity[name] for o in ovs]) for name in SEVERITIES],
        *[_row("fix: " + _FIX_WORDS[name], [o.counts.by_fix_state[name] for o in ovs])
          for name in FIX_STATES],
        [c("by layer"), *[c(_by_layer(o)) if o.landed else c("—", "dim") for o in ovs]],
        [c("on no package"), *[c(f"{o.unmatched:,}") for o in ovs]],
        [c("layer differs from scanner's"), *[c(f"{o.layer_disagreements:,}") for o in ovs]],
    ]
    blocks: list[Block] = [Table([Col(c("")), *_heads(labels)], rows)]
    lines = [p.sentence(labels) for p in result.vuln_pairs if p is not None]
    if lines:
        blocks.append(Bullets(lines))
    for i, o in enumerate(ovs):
        per = o.by_package()
        if not per:
            continue
        top = sorted(per.items(), key=lambda kv: (-len(kv[1]), o.package_names.get(kv[0], "")))
        lead = (Span("most affected packages in "), Span(labels[i], "strong", i),
                Span(f" ({len(per):,})"))
        blocks.append(Items(lead, [(Span(o.package_names.get(k, "?"), "code"),
                                    Span(f" {len(v)}")) for k, v in top[:VULN_PACKAGES]]))
    return [Section("Vulnerabilities", note="from the scanner reports given (--vulns), "
                    "as of their database; not a live scan", blocks=blocks)]


def sorted_refs(refs: list[FileRef], sort: str) -> list[FileRef]:
    if sort == "size":
        return sorted(refs, key=lambda r: (-r.size, r.path))
    return sorted(refs, key=lambda r: r.path)


def sorted_changes(changes: list[FileChange], sort: str) -> list[FileChange]:
    if sort == "size":
        return sorted(changes, key=lambda ch: (-ch.size, ch.path))
    return sorted(changes, key=lambda ch: ch.path)


def _file(ref: FileRef | None) -> Cell:
    if ref is None:
        return c("absent", "dim")
    spans = [Span(f"{ref.type} {human(ref.size)} {ref.mode & 0o7777:04o}")]
    if ref.target:
        spans += [Span(" → "), Span(ref.target, "code")]
    return tuple(spans)


def _path(ref: FileRef) -> Cell:
    return c(ref.path, "code") if not ref.target else (
        Span(ref.path, "code"), Span(" → "), Span(ref.target, "code"))


def _files(result: CompareResult, files: bool, sort: str) -> list[Section]:
    labels, fd = result.labels, result.files
    by = fd.changed_by()
    rows = [[c(f"only in {label}"), c(f"{k:,}")]
            for label, k in zip(labels, fd.only_in_counts, strict=True)]
    rows.append([c("changed (" + ", ".join(f"{k} {v:,}" for k, v in by.items()) + ")"),
                 c(f"{len(fd.changed):,}")])
    if len(labels) > 2:
        rows.append([c("in some, not all"), c(f"{fd.partial:,}")])
    rows.append([c("common"), c(f"{fd.common:,}")])
    out = [Section("Files", note="non-directories of the merged filesystems",
                   blocks=[Table([Col(c("files")), Col(c("count"), True)], rows)])]
    if not files:
        return out
    for i, refs in enumerate(fd.only_in):
        out.append(Section(f"Only in {labels[i]}", level=3, blocks=[Table(
            [Col(c("path")), Col(c("type")), Col(c("size"), True), Col(c("mode"))],
            [[_path(r), c(r.type), c(human(r.size)), c(f"{r.mode & 0o7777:04o}")]
             for r in sorted_refs(refs, sort)])]))
    out.append(Section("Changed", level=3, blocks=[Table(
        [Col(c("path")), Col(c("what")), *[Col(c(label, "label", i))
                                            for i, label in enumerate(labels)]],
        [[c(ch.path, "code"), c(", ".join(ch.reasons)), *[_file(r) for r in ch.per_image]]
         for ch in sorted_changes(fd.changed, sort)])]))
    return out


def _efficiency(result: CompareResult, files: bool) -> list[Section]:
    labels = result.labels
    effs = [im.efficiency for im in result.images if im.efficiency is not None]
    if len(effs) != len(labels):
        return []
    rows = [[c("score"), *[c(f"{e.score * 100:.1f} %") for e in effs]],
            [c("wasted (dive)"), *[c(human(e.wasted_bytes)) for e in effs]],
            [c("reclaimable"), *[c(human(e.reclaimable_bytes)) for e in effs]],
            [c("inefficient files"), *[c(f"{e.inefficient_count:,}") for e in effs]]]
    out = [Section("Efficiency", note="dive's score and wasted bytes; what a squash reclaims",
                   blocks=[Table([Col(c("")), *_heads(labels)], rows)])]
    for i, e in enumerate(effs):
        listed = e.files() if files else e.files()[:INEFFICIENT_ROWS]
        if not listed:
            continue
        more = e.inefficient_count - len(listed)
        blocks: list[Block] = [Table(
            [Col(c("path")), Col(c("copies"), True), Col(c("layers")), Col(c("wasted"), True)],
            [[c(f.path, "code"), c(str(f.copies)), c(", ".join(str(n + 1) for n in f.layers)),
              c(human(f.wasted_bytes))] for f in listed])]
        if more > 0:
            blocks.append(Para(f"… and {more:,} more"))
        out.append(Section(f"Inefficient files in {labels[i]}", level=3, blocks=blocks))
    return out


def _findings(result: CompareResult) -> Section:
    return Section("Findings", blocks=[Table(
        [Col(c("finding")), *[Col(c(label, "label", i)) for i, label in enumerate(result.labels)]],
        [[c(name.replace("_", " ")), *[ListCell(items, i) for i, items in enumerate(per_image)]]
         for name, per_image in result.findings.items()])])


def _security(result: CompareResult) -> list[Section]:
    """Who each image runs as, how many executables and which interpreters it ships, and
    how many of its layers another image shares."""
    sec = result.security
    if sec is None:
        return []
    n = len(result.images)
    shared = [sum(1 for la in im.layers if la.shared_with) for im in result.images]
    rows: list[list[Cell | ListCell]] = [
        [c("runs as"), *[c(r.describe(), "strong" if r.root else "") for r in sec.runs_as]],
        [c("executables"), *[c(f"{len(p):,}") for p in sec.executables]],
        [c("interpreters"), *[ListCell(p, i) for i, p in enumerate(sec.interpreters)]],
        [c("shared layers"), *[c(f"{k} of {len(im.layers)}") for k, im in
                               zip(shared, result.images, strict=True)]]]
    if n == 1:
        rows.pop()
    return [Section("Security", note="beside the findings: the user, programs, layers",
                    blocks=[Table([Col(c("")), *_heads(result.labels)], rows)])]


def sections(result: CompareResult, *, files: bool = False, sort: str = "size") -> list[Section]:
    """The report, in order. ``files`` adds the path lists (in ``sort`` order)."""
    return [
        _sizes(result.images, result.labels), *_base_own(result), *_layers(result), *_categories(result),
        _packages(result), *_vulns(result), *_files(result, files, sort), *_efficiency(result, files),
        _findings(result), *_security(result),
    ]
