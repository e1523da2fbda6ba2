"""The static parts of the HTML report (``inspector.report.html``): verdict header,
category bars, strip-list and treemap frames, package, layer, security and vulnerability
tables, footer. Everything from an image goes through ``esc`` (``visible`` + HTML
escaping); numbers are formatted here. The JS fills the treemaps and the file lists."""

from __future__ import annotations

import html as _html
from collections.abc import Sequence

from inspector import __version__
from inspector.analysis import Analysis
from inspector.classify import CATEGORY_ORDER
from inspector.compare.model import CompareResult
from inspector.report.sizes import count, human
from inspector.visible import visible
from inspector.vulns.model import SEVERITIES


def esc(text: object) -> str:
    """An image-derived string as HTML text: ``visible()`` then entity-escaped (the HTML
    report's one escaping rule; ``report.html`` imports it from here)."""
    return _html.escape(visible(text), quote=True)


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "") -> str:
    """Cells are already HTML (escaped by the caller)."""
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _num(n: int | None) -> str:
    return "—" if n is None else f'<span class="num">{n:,}</span>'


def _bytes(n: int | None) -> str:
    return "—" if n is None else f'<span class="num" title="{n:,} bytes">{human(n)}</span>'


def header(result: CompareResult, doc: dict) -> str:
    labels = result.labels
    rows = []
    for im in result.images:
        eff = im.efficiency
        rows.append([f"<b>{esc(im.label)}</b>", _bytes(im.compressed_size),
                     _bytes(im.uncompressed_size), _bytes(im.file_bytes),
                     _bytes(eff.reclaimable_bytes) if eff else "—", _num(im.files),
                     _num(im.packages), _num(len(im.layers))])
    sentences = [f"<li>{esc(p.sentence(labels))}</li>" for p in result.pairs]
    sentences += [f'<li class="vuln">{esc(p["vulns_sentence"])}</li>'
                  for p in doc.get("pairs", []) if p.get("vulns_sentence")]
    verdicts = "".join(f"<li>{esc(v)}</li>" for v in result.verdicts)
    return ('<header><h1>' + esc(" vs ".join(labels)) + "</h1>"
            + _table(["image", "pull bytes (compressed)", "layer tars (uncompressed)",
                      "file bytes", "reclaimable", "files", "packages", "layers"], rows,
                     "verdict")
            + (f'<ul class="sentences">{"".join(sentences)}</ul>' if sentences else "")
            + (f'<details class="verdicts"><summary>{len(result.verdicts):,} '
               f"categor{'y differs' if len(result.verdicts) == 1 else 'ies differ'}</summary><ul>{verdicts}</ul></details>" if verdicts else "")
            + "</header>")


def categories(result: CompareResult) -> str:
    """One row per category any image has, one bar per image; widths are bytes over the
    largest cell (``data-bytes`` carries the exact figure)."""
    rows = [r for r in result.categories if any(c.files for c in r.per_image)]
    scale = max((c.bytes for r in rows for c in r.per_image), default=0) or 1
    out = []
    for r in rows:
        bars = []
        for j, c in enumerate(r.per_image):
            width = 100 * c.bytes / scale
            bars.append(
                f'<div class="barrow"><span class="who">{esc(result.labels[j])}</span>'
                f'<button class="bar cat-{esc(r.name)}" data-cat="{esc(r.name)}" '
                f'data-image="{j}" data-bytes="{c.bytes}" style="width:{width:.4f}%"'
                f' aria-label="{esc(r.name)} in {esc(result.labels[j])}"></button>'
                f'<span class="fig">{human(c.bytes)} · {count(c.files, "file")}</span></div>')
        out.append(f'<div class="catrow"><div class="catname"><i class="sw cat-{esc(r.name)}">'
                   f"</i>{esc(r.name)}</div><div>{''.join(bars)}</div></div>")
    return ('<section id="categories"><h2>Where the bytes go, by category</h2>'
            '<p class="hint">Click a bar for its files.</p>' + "".join(out)
            + '<div id="filelist" hidden><h3></h3><ol></ol><p class="more"></p></div>'
            "</section>")


def strips(result: CompareResult) -> str:
    if len(result.images) < 2:
        return ""
    return ('<section id="strips"><h2>What ' + esc(", ".join(result.labels[1:]))
            + " strips</h2><p>Executables " + esc(result.labels[0])
            + " has at paths the other image lacks; shells and package managers first.</p>"
            + "".join(f'<div class="strip" data-image="{j}"></div>'
                      for j in range(1, len(result.images))) + "</section>")


def treemaps(result: CompareResult) -> str:
    frames = "".join(
        f'<figure class="tm" data-image="{j}"><figcaption>{esc(label)} · '
        f"{human(result.images[j].file_bytes)}</figcaption>"
        f'<svg class="treemap" role="img" aria-label="treemap of {esc(label)}"></svg></figure>'
        for j, label in enumerate(result.labels))
    toggles = ('<label><input type="checkbox" name="scale" checked> to scale</label> · colour by'
               if len(result.labels) > 1 else "colour by")
    toggles += "".join(
        f'<label><input type="radio" name="colour" value="{v}"{" checked" if v == "category" else ""}>'
        f" {v}</label>" for v in ("category", "layer", "package"))
    legend = "".join(f'<span><i class="sw cat-{c}"></i>{c}</span>' for c in CATEGORY_ORDER)
    return ('<section id="treemaps"><h2>The merged filesystem</h2>'
            f'<div class="toggles">{toggles}</div><div class="legend">{legend}</div>'
            f'<div class="tms">{frames}</div><div id="tip" hidden></div></section>')


def packages(result: CompareResult) -> str:
    pk, labels = result.packages, result.labels
    parts = []
    for j, refs in enumerate(pk.only_in):
        rows = [[esc(p.name), esc(p.version), esc(p.type), _bytes(p.size)] for p in refs]
        title = (f"Only in {esc(labels[j])}" if len(labels) > 1 else "Packages")
        parts.append(f"<details open><summary>{title}: {len(refs):,}</summary>"
                     + _table(["name", "version", "type", "bytes"], rows) + "</details>")
    if len(labels) > 1:
        rows = [[esc(v.name), esc(v.type)] + [esc(x) if x else "—" for x in v.versions]
                + [_bytes(s) for s in v.sizes] for v in pk.version_changed]
        parts.append(f"<details open><summary>Version changed: {len(rows):,}</summary>"
                     + _table(["name", "type", *(esc(x) for x in labels),
                               *(f"bytes in {esc(x)}" for x in labels)], rows) + "</details>")
        rows = [[esc(p.name), esc(p.version), esc(p.type), _bytes(p.size)] for p in pk.common]
        parts.append(f"<details><summary>Common: {len(rows):,}</summary>"
                     + _table(["name", "version", "type", "bytes"], rows) + "</details>")
    return '<section id="packages"><h2>Packages</h2>' + "".join(parts) + "</section>"


def layers(result: CompareResult, analyses: Sequence[Analysis]) -> str:
    parts = []
    for im, a in zip(result.images, analyses, strict=True):
        rows = []
        for la, blob in zip(im.layers, a.image.layers, strict=True):
            shared = ", ".join(result.labels[k] for k in la.shared_with)
            rows.append([str(la.index + 1), f'<code class="cb">{esc(la.created_by)}</code>',
                         _bytes(la.compressed_size), _bytes(la.uncompressed_size),
                         esc(blob.media_type), esc(shared) or "—"])
        parts.append(f"<h3>{esc(im.label)}</h3>" + _table(
            ["#", "created by", "compressed", "uncompressed", "media type", "shared with"],
            rows, "layers"))
    return '<section id="layers"><h2>Layers</h2>' + "".join(parts) + "</section>"


def security(result: CompareResult) -> str:
    labels, f = result.labels, result.findings
    sec = result.security

    def counts(name: str, lists: list[list] | None) -> list[str]:
        values = [len(x) for x in lists or [[] for _ in labels]]
        delta = [""] if len(labels) < 2 else [
            ", ".join(f"{v - values[0]:+,}" for v in values[1:])]
        return [name, *(_num(v) for v in values), *delta]

    rows = [["runs as", *(esc(r.describe()) for r in sec.runs_as),
             *([""] if len(labels) > 1 else [])]] if sec else []
    rows += [counts("setuid files", f.get("setuid")), counts("setgid files", f.get("setgid")),
             counts("world-writable files", f.get("world_writable")),
             counts("login users", f.get("login_users"))]
    if sec:
        rows += [counts("executables", sec.executables),
                 counts("interpreters", sec.interpreters)]
    for cat in ("shell", "package_manager"):
        row = next((r for r in result.categories if r.name == cat), None)
        if row:
            rows.append(counts(f"{cat} files", [c.paths for c in row.per_image]))
    head = ["", *(esc(x) for x in labels), *(["Δ vs " + esc(labels[0])] if len(labels) > 1 else [])]
    return ('<section id="security"><h2>Attack surface</h2>'
            + _table(head, rows, "security") + "</section>")


def vulns(result: CompareResult, doc: dict) -> str:
    per_image = [im.get("vulnerabilities") for im in doc.get("images", [])]
    if "vulnerabilities" in doc and "totals" in doc["vulnerabilities"]:  # export/v1
        v = doc["vulnerabilities"]
        per_image = [{**v["totals"], "scanner": v["scanner"]}]
    if not any(per_image):
        return ""
    rows = []
    for label, v in zip(result.labels, per_image, strict=True):
        if not v:
            rows.append([esc(label), *(["—"] * (len(SEVERITIES) + 2))])
            continue
        sc = v.get("scanner") or {}
        rows.append([esc(label), _num(v.get("total")), *(_num(v.get(s)) for s in SEVERITIES),
                     esc(f"{sc.get('name', '')} {sc.get('version', '')}, database "
                         f"{sc.get('db_built') or 'time not recorded'}")])
    return ('<section id="vulns"><h2>Vulnerabilities (from the scanner reports given)</h2>'
            + _table(["image", "total", *SEVERITIES, "scanner"], rows) + "</section>")


def footer(result: CompareResult, command: str, stamp: str) -> str:
    rows = [[esc(im.label), f"<code>{esc(im.manifest_digest)}</code>", esc(im.platform),
             esc(im.reference)] for im in result.images]
    return ("<footer>" + _table(["image", "manifest digest", "platform", "reference"], rows)
            + f"<p>inspector {esc(__version__)} · {esc(stamp)}</p>"
            + (f'<p>Reproduce: <code class="cmd">{esc(command)}</code></p>' if command else "")
            + "</footer>")


def body(result: CompareResult, analyses: Sequence[Analysis], doc: dict, *,
         command: str, stamp: str) -> str:
    return "\n".join([
        header(result, doc), categories(result), treemaps(result), strips(result),
        security(result), vulns(result, doc), packages(result), layers(result, analyses),
        footer(result, command, stamp)])
