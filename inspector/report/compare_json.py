"""The ``inspector.compare/v1`` document of a ``CompareResult`` (architecture page; fields
may be added, never renamed): the model as JSON. Its own module so that every format that
embeds it (``report.compare.render``'s json, ``report.html``) imports it from below them.
Byte totals follow the hardlink rule (``inspector.index.hardlinks``); layer ``index`` and
``layers`` fields are 0-based positions."""

from __future__ import annotations

from inspector.compare.model import CompareResult, FileRef
from inspector.report.sections import sorted_changes, sorted_refs

SCHEMA = "inspector.compare/v1"


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
            "base": im.base.as_json() if im.base else None,
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
    from inspector.provenance import vulns_split
    from inspector.vulns import image_json, pair_json

    for image, ov in zip(doc["images"], result.vulns or [], strict=True):
        image["vulnerabilities"] = image_json(ov)
        if image["base"] is not None:
            side = image["base"]
            side["base"]["vulnerabilities"], side["own"]["vulnerabilities"] = vulns_split(
                ov, side["layers"])
    for pair, vp in zip(doc["pairs"], result.vuln_pairs, strict=True):
        if vp is not None:
            pair["vulns_dropped"] = pair_json(vp, "dropped")
            pair["vulns_added"] = pair_json(vp, "added")
            pair["vulns_sentence"] = vp.sentence(result.labels)
