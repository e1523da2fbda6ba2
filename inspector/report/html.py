"""``--format html``: one self-contained file to hand out (issue 27).

    render_compare(result, analyses, files=False, sort="size", command="") -> str
    render_export(analysis, command="", vulns=None) -> str
    read_embedded(text) -> dict      the embedded document back, as the JSON format writes it

The page is one file: inline CSS and JS (``html_assets/``, package data), SVG drawn by the
JS, no request of any kind (a Content-Security-Policy says so to the browser too). It
embeds two JSON blocks:

- ``#inspector-document``: the ``inspector.compare/v1`` document exactly as
  ``compare --format json`` (same ``--files``/``--sort``) writes it, or for ``export`` the
  ``inspector.export/v1`` document without its ``files`` array (the treemap below carries
  the filesystem, aggregated; ``export --format json`` has every row). Above
  ``INLINE_LIMIT`` bytes it is stored gzip+base64 (``data-encoding``); the page inflates it
  with ``DecompressionStream`` and ``read_embedded`` does the same in Python.
- ``#inspector-view``: what only the page needs — per image a treemap tree (files under
  ``1/TREEMAP_NODES`` of the image's bytes aggregated per directory), the category, layer
  and package names it codes, and the executables each image leaves out of the first.

Every string from an image goes through ``visible()`` and ``html.escape`` in the static
HTML; the JSON blocks escape ``<``, ``>`` and ``&`` (and, being ASCII, U+2028/U+2029), so a
file named ``</script>`` stays data. The JS shows strings with ``textContent`` only.
"""

from __future__ import annotations

import base64
import gzip
import heapq
import json
import time
from collections.abc import Sequence
from importlib import resources

from inspector import __version__
from inspector.analysis import Analysis
from inspector.classify import CATEGORY_ORDER
from inspector.compare.model import CompareResult
from inspector.index.entries import FILE
from inspector.index.merge import IMPLIED_ROW
from inspector.report import html_sections as sections
from inspector.report.html_sections import esc

#: leaves per image treemap, about: files below ``1/TREEMAP_NODES`` of the image's bytes
#: are drawn as one "N small files" rectangle per directory (keeps the file and the draw
#: small on a 150k-file image)
TREEMAP_NODES = 1200
#: an embedded document larger than this (bytes of JSON) is stored gzip+base64
INLINE_LIMIT = 1 << 20
#: strip-list rows shown per pair (the rest are counted)
STRIP_ROWS = 2000
#: categories listed first in the strip list: what an attacker would reach for
STRIP_FIRST = ("shell", "package_manager")
DOC_ID, VIEW_ID = "inspector-document", "inspector-view"


def script_json(value: object) -> str:
    """JSON that is inert inside ``<script>``: ASCII (so U+2028/9 are escaped) with ``<``,
    ``>`` and ``&`` as ``\\u00XX`` (they only occur inside strings)."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _embed_document(doc: dict) -> str:
    text = script_json(doc)
    if len(text) <= INLINE_LIMIT:
        return f'<script type="application/json" id="{DOC_ID}">{text}</script>'
    packed = base64.b64encode(gzip.compress(text.encode("ascii"), 1, mtime=0)).decode("ascii")
    return (f'<script type="application/json" id="{DOC_ID}" data-encoding="gzip+base64">'
            f'"{packed}"</script>')


def read_embedded(text: str, block: str = DOC_ID) -> dict:
    """The JSON embedded in a report (``DOC_ID``: the compare/export document;
    ``VIEW_ID``: the page's own data). ``ValueError`` when the block is missing."""
    start = text.find(f'id="{block}"')
    if start < 0:
        raise ValueError(f"no {block} block in this HTML")
    head_end = text.index(">", start)
    body = text[head_end + 1: text.index("</script>", head_end)]
    if "gzip+base64" in text[start:head_end]:
        body = gzip.decompress(base64.b64decode(json.loads(body))).decode("ascii")
    return json.loads(body)


# ---- the page's data ------------------------------------------------------------------
class _Names:
    """Strings coded as small integers in the view (a category, a package)."""

    def __init__(self, first: Sequence[str] = ()) -> None:
        self.names: list[str] = list(first)
        self.code = {n: i for i, n in enumerate(self.names)}

    def __call__(self, name: str | None) -> int:
        if name is None:
            return -1
        i = self.code.get(name)
        if i is None:
            i = self.code[name] = len(self.names)
            self.names.append(name)
        return i


def treemap(analysis: Analysis, cats: _Names, pkgs: _Names, nodes: int = TREEMAP_NODES) -> list:
    """The merged filesystem's regular files as a tree of at most ``nodes`` + 1 nodes:
    ``[name, bytes, children]`` (a directory drawn with its contents) and ``[name, bytes,
    category, layer, package, count]`` (a file, count 0; or ``count`` files drawn as one:
    a directory not opened, a directory's small files, or what did not fit). Directories
    are opened largest first while the budget lasts; in each, files under
    ``1/nodes`` of the image's bytes are one "N small files" rectangle. Codes index
    ``cats`` and ``pkgs`` (-1: none), a rectangle of many files is coded by its largest;
    layers are 0-based. Children largest first; empty files are left out."""
    fs = analysis.fs
    paths = fs.sorted_paths()
    codes, code_names = analysis.classification.column(paths)
    layer_col, row_col = fs.sorted_columns()
    kinds = [index.kinds for index in fs.layers]
    sizes = [index.sizes for index in fs.layers]
    owners, packages = analysis.catalog.owners, analysis.catalog.packages
    threshold = max(1, fs.file_bytes // max(1, nodes))
    # directory → [own small bytes, small count, largest small (size, i), big (size, i)s]
    dirs: dict[str, list] = {}
    last, cell = None, []
    for i, (path, li, row) in enumerate(zip(paths, layer_col, row_col, strict=True)):
        if row == IMPLIED_ROW or kinds[li][row] != FILE:
            continue
        size = sizes[li][row]
        if not size:
            continue
        d = path[:path.rfind("/")]
        if d != last:  # sorted paths: a directory's files mostly come in a run
            cell = dirs.get(d) or dirs.setdefault(d, [0, 0, (0, -1), []])
            last = d
        if size >= threshold:
            cell[3].append((size, i))
        else:
            cell[0] += size
            cell[1] += 1
            if size > cell[2][0]:
                cell[2] = (size, i)
    # subtree totals [bytes, files, largest (size, i)] and each directory's subdirectories
    total: dict[str, list] = {}
    children: dict[str, set[str]] = {}
    for d, (small, count, big, bigs) in dirs.items():
        own = (small + sum(b[0] for b in bigs), count + len(bigs), max([big, *bigs]))
        node = d
        while True:
            acc = total.setdefault(node, [0, 0, (0, -1)])
            acc[0] += own[0]
            acc[1] += own[1]
            acc[2] = max(acc[2], own[2])
            if not node:
                break
            parent = node.rpartition("/")[0]
            children.setdefault(parent, set()).add(node)
            node = parent
    if not total:
        return ["/", 0, []]

    def leaf(name: str, size: int, i: int, count: int) -> list:
        code = codes[i]
        owner = owners.get(paths[i])
        return [name, size, cats(code_names[code] if code < len(code_names) else None),
                layer_col[i], pkgs(None if owner is None else packages[owner].name), count]

    def opened(d: str, room: int) -> tuple[list, list[tuple[str, list]]]:
        """``d``'s children in at most ``room`` nodes, and its subdirectories among them."""
        small, count, big, bigs = dirs.get(d, (0, 0, (0, -1), []))
        items = sorted([(total[s][0], s) for s in children.get(d, ())]
                       + [(b[0], b[1]) for b in bigs], key=lambda x: (-x[0], str(x[1])))
        folded = 0
        if len(items) + (count > 0) > room:  # the rest fold into one rectangle
            keep = max(0, room - 1)
            for size, x in items[keep:]:
                sub = total[x] if isinstance(x, str) else (size, 1, (size, x))
                small, count, big = small + sub[0], count + sub[1], max(big, sub[2])
            folded, items = len(items) - keep, items[:keep]
        kids, subdirs = [], []
        for size, x in items:
            if isinstance(x, str):
                t = total[x]
                kid = leaf(x.rpartition("/")[2], size, t[2][1], t[1])
                subdirs.append((x, kid))
            else:
                kid = leaf(paths[x].rpartition("/")[2], size, x, 0)
            kids.append(kid)
        if count == 1 and not folded:
            kids.append(leaf(paths[big[1]].rpartition("/")[2], small, big[1], 0))
        elif count:
            kids.append(leaf(f"{folded:,} more ({count:,} files)" if folded
                             else f"{count:,} small files", small, big[1], count))
        kids.sort(key=lambda k: -k[1])
        return kids, subdirs

    root: list = ["/", total[""][0], []]
    used = 0
    heap: list[tuple[int, str, list]] = [(-total[""][0], "", root)]
    while heap:
        _, where, shown = heapq.heappop(heap)
        room = nodes - used
        if room < 2:
            break
        if where and where not in children and not dirs[where][3]:
            continue  # only small files: opened, it would show one rectangle all the same
        kids, subdirs = opened(where, room)
        used += len(kids)
        shown[:] = [shown[0], total[where][0], kids]
        for sub, kid in subdirs:
            heapq.heappush(heap, (-total[sub][0], sub, kid))
    return root


def strip_rows(analysis: Analysis, executables: list[str], other: Analysis) -> tuple[list, int]:
    """The executables of ``analysis`` whose path ``other`` lacks: ``[path, bytes,
    category, package]`` rows, shells and package managers first, then by category order
    and bytes; at most ``STRIP_ROWS`` (and how many there are)."""
    fs, cls, cat = analysis.fs, analysis.classification, analysis.catalog
    rank = {c: i for i, c in enumerate(dict.fromkeys(STRIP_FIRST + CATEGORY_ORDER))}
    rows = [(p, fs.size(p), cls.category_of(p), cat.owner_name(p))
            for p in executables if p not in other.fs]
    rows.sort(key=lambda r: (rank.get(r[2] or "", len(rank)), -r[1], r[0]))
    return [list(r) for r in rows[:STRIP_ROWS]], len(rows)


def view(result: CompareResult, analyses: Sequence[Analysis]) -> dict:
    cats, pkgs = _Names(CATEGORY_ORDER), _Names()
    trees = [treemap(a, cats, pkgs) for a in analyses]
    execs = result.security.executables if result.security else [[] for _ in analyses]
    strips = []
    for j in range(1, len(analyses)):
        rows, count = strip_rows(analyses[0], execs[0], analyses[j])
        strips.append({"image": j, "rows": rows, "count": count})
    return {"labels": result.labels, "categories": cats.names, "packages": pkgs.names,
            "layers": [len(a.layers) for a in analyses], "treemaps": trees,
            "treemap_nodes": TREEMAP_NODES, "strips": strips}


# ---- the page ---------------------------------------------------------------------------
def _asset(name: str) -> str:
    return resources.files("inspector.report").joinpath("html_assets", name).read_text("utf-8")


def generated_at() -> str:
    """UTC now, or ``SOURCE_DATE_EPOCH``'s time (reproducible builds; a value that is not
    one is an ``InputError``, read as the SBOMs read it)."""
    from inspector.sbom.model import source_date_epoch  # only the HTML page needs it

    epoch = source_date_epoch()
    stamp = epoch.timestamp() if epoch is not None else time.time()
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(stamp))


def page(title: str, body: str, doc: dict, data: dict) -> str:
    csp = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
           "img-src data:; connect-src data:")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="generator" content="inspector {esc(__version__)}">\n'
            f"<title>{title}</title>\n<style>{_asset('report.css')}</style>\n</head>\n"
            f"<body>\n{body}\n{_embed_document(doc)}\n"
            f'<script type="application/json" id="{VIEW_ID}">{script_json(data)}</script>\n'
            f"<script>{_asset('report.js')}</script>\n</body></html>\n")


def render_compare(result: CompareResult, analyses: Sequence[Analysis], *,
                   files: bool = False, sort: str = "size", command: str = "") -> str:
    """The compare report as one HTML page (``analyses`` in ``result``'s image order)."""
    from inspector.report.compare_json import to_json

    if len(analyses) != len(result.images):
        raise ValueError("render_compare needs one analysis per compared image")
    doc = to_json(result, files=files, sort=sort)
    title = "inspector: " + esc(" vs ".join(result.labels))
    body = sections.body(result, analyses, doc, command=command, stamp=generated_at())
    return page(title, body, doc, view(result, analyses))


def render_export(analysis: Analysis, *, command: str = "", vulns=None, base=None) -> str:
    """One image's report; the embedded document is ``inspector.export/v1`` without
    ``files``, as ``export --format json`` writes it (``vulns``: an
    ``inspector.vulns.Overlay``; ``base``: ``--base-image``'s ``provenance.Base``)."""
    from inspector.report.export import document

    result = _one_image(analysis)
    doc = document(analysis, vulns=vulns, base=base)
    if vulns is not None:
        result.vulns = [vulns]
    title = "inspector: " + esc(result.labels[0])
    body = sections.body(result, [analysis], doc, command=command, stamp=generated_at())
    return page(title, body, doc, view(result, [analysis]))


def _one_image(analysis: Analysis) -> CompareResult:
    """``compare_analyses([analysis])`` without the file diff (one image has nothing to
    diff; on 150k files it would be most of the time)."""
    from inspector.compare import diff, labels_for
    from inspector.compare.model import FileDiff

    labels = labels_for([analysis.reference])
    images, shared = diff.summarize([analysis], labels)
    return CompareResult(
        images=images, categories=diff.categories([analysis], labels),
        packages=diff.packages([analysis]), files=FileDiff([[]], [], 0),
        findings=diff.findings([analysis]), shared_layers=shared,
        security=diff.security([analysis]))


def command_line(command: str, args) -> str:
    """The ``inspector`` command line that writes this report again (from the parsed
    arguments: what was given, in a canonical order)."""
    import shlex

    images = getattr(args, "images", None) or [args.image]
    argv = ["inspector", command, *images, "--format", "html"]
    if getattr(args, "files", False):
        argv.append("--files")
    if getattr(args, "sort", "size") != "size":
        argv += ["--sort", args.sort]
    for report in getattr(args, "vulns", None) or []:
        argv += ["--vulns", report]
    if getattr(args, "vulns_any_image", False):
        argv.append("--vulns-any-image")
    for flag in ("platform", "source", "base_image"):
        if getattr(args, flag, None):
            argv += ["--" + flag.replace("_", "-"), getattr(args, flag)]
    if getattr(args, "output", None):
        argv += ["-o", args.output]
    return shlex.join(argv)
