"""``inspector compare``: render a ``CompareResult`` as text, markdown or the
``inspector.compare/v1`` JSON (architecture page; fields may be added, never renamed).
Text and markdown format the rows of ``inspector.report.sections``; the JSON is the model.
Byte totals follow the hardlink rule (``inspector.index.hardlinks``); JSON layer ``index``
and ``layers`` fields are 0-based positions, text and markdown print layers 1..N.

    render(result, "markdown", files=True, sort="size", color=False) -> str
"""

from __future__ import annotations

import json

from inspector.compare.model import CompareResult, FileRef
from inspector.report.sections import sorted_changes, sorted_refs

SCHEMA = "inspector.compare/v1"
FORMATS = ("text", "markdown", "json", "html")
SORTS = ("size", "path")


def _file_json(ref: FileRef | None) -> dict | None:
    if ref is None:
        return None
    return {"path": ref.path, "type": ref.type, "size": ref.size,
            "mode": format(ref.mode & 0o7777, "04o"), "target": ref.target}


def to_json(result: CompareResult, *, files: bool = False, sort: str = "size") -> dict:
    """The ``inspector.compare/v1`` document. With ``files``, ``files`` also lists the
    paths (``only_in_paths``, ``changed_paths``) in ``sort`` order."""
    pk, fd = result.packages, result.files
    doc_files: dict = {"only_in": fd.only_in_counts, "changed": len(fd.changed),
                       "common": fd.common, "partial": fd.partial,
                       "changed_by": fd.changed_by()}
    if files:
        doc_files["only_in_paths"] = [[_file_json(r) for r in sorted_refs(refs, sort)]
                                      for refs in fd.only_in]
        doc_files["changed_paths"] = [
            {"path": c.path, "reasons": list(c.reasons),
             "per_image": [_file_json(r) for r in c.per_image]}
            for c in sorted_changes(fd.changed, sort)]
    doc = {
        "schema": SCHEMA,
        "images": [{
            "reference": im.reference, "manifest_digest": im.manifest_digest,
            "platform": im.platform, "compressed_size": im.compressed_size,
            "uncompressed_size": im.uncompressed_size, "files": im.files,
            "packages": im.packages,
            "label": im.label, "source": im.source, "file_bytes": im.file_bytes,
            "layers": [{"index": la.index, "digest": la.digest, "diff_id": la.diff_id,
                        "compressed_size": la.compressed_size,
                        "uncompressed_size": la.uncompressed_size,
                        "created_by": la.created_by, "shared_with": la.shared_with}
                       for la in im.layers],
            "warnings": im.warnings,
            "efficiency": im.efficiency.as_json() if im.efficiency else None,
        } for im in result.images],
        "categories": [{
            "name": row.name,
            "per_image": [{"files": c.files, "bytes": c.bytes, "paths": c.paths}
                          for c in row.per_image],
            "verdict": row.verdict,
        } for row in result.categories],
        "verdicts": result.verdicts,
        "pairs": [{"image": p.image, "base": 0, "left_out_files": p.left_out_files,
                   "left_out_bytes": p.left_out_bytes, "added_files": p.added_files,
                   "added_bytes": p.added_bytes, "changed": p.changed,
                   "identical": p.identical, "sentence": p.sentence(result.labels)}
                  for p in result.pairs],
        "packages": {
            "only_in": [[p.name for p in refs] for refs in pk.only_in],
            "version_changed": [{"name": v.name, "versions": v.versions, "type": v.type,
                                 "sizes": v.sizes} for v in pk.version_changed],
            "common": pk.common_count,
            "only_in_detail": [[{"type": p.type, "name": p.name, "version": p.version,
                                 "size": p.size} for p in refs] for refs in pk.only_in],
        },
        "files": doc_files,
        "findings": result.findings,
        "security": None if result.security is None else {
            "runs_as": [{"user": r.user, "root": r.root} for r in result.security.runs_as],
            "executables": [len(p) for p in result.security.executables],
            "interpreters": result.security.interpreters,
        },
        "shared_layers": [{"diff_id": s.diff_id, "images": s.images,
                           "compressed_size": s.compressed_size,
                           "uncompressed_size": s.uncompressed_size}
                          for s in result.shared_layers],
    }
    if result.vulns is not None:
        _add_vulns(doc, result)
    return doc


def _add_vulns(doc: dict, result: CompareResult) -> None:
    """``--vulns``: ``vulnerabilities`` per image, ``vulns_dropped``/``vulns_added`` (and
    their sentence) per pair; absent without scanner reports."""
    from inspector.vulns import image_json, pair_json

    for image, ov in zip(doc["images"], result.vulns or [], strict=True):
        image["vulnerabilities"] = image_json(ov)
    for pair, vp in zip(doc["pairs"], result.vuln_pairs, strict=True):
        if vp is not None:
            pair["vulns_dropped"] = pair_json(vp, "dropped")
            pair["vulns_added"] = pair_json(vp, "added")
            pair["vulns_sentence"] = vp.sentence(result.labels)


def render(result: CompareResult, fmt: str = "text", *, files: bool = False,
           sort: str = "size", color: bool = False, analyses=None, command: str = "") -> str:
    """The report as one string ending in a newline. ``color`` (ANSI) applies to text
    only; the CLI sets it when stdout is a terminal and ``NO_COLOR`` is unset. ``html``
    needs the ``analyses`` (in image order; treemaps) and shows ``command`` in its footer."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {SORTS}, not {sort!r}")
    if fmt == "json":
        return json.dumps(to_json(result, files=files, sort=sort), indent=2,
                          ensure_ascii=True) + "\n"
    if fmt == "markdown":
        from inspector.report.markdown import render_markdown

        return render_markdown(result, files=files, sort=sort)
    if fmt == "html":
        from inspector.report.html import render_compare

        if analyses is None:
            raise ValueError("the html format needs the analyses of the compared images")
        return render_compare(result, analyses, files=files, sort=sort, command=command)
    if fmt == "text":
        from inspector.report.text import render_text

        return render_text(result, files=files, sort=sort, color=color)
    raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
