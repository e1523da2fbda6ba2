"""The compare Overview's content, as data the screen lays out: the intro box, the rows
(sizes; what each image leaves out of the first and adds; categories; security facts) and
the verdict. Every row has a key; ``drill`` says what Enter on it opens. Image-derived
text (labels, users, paths) goes through ``visible`` and into ``Text`` (never markup)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from inspector.compare import CompareResult
from inspector.tui.format import bar, human, one_line
from inspector.visible import visible

#: cells of a category bar when there is room
BAR_WIDTH = 14
#: the security rows: (row key, name on screen); Enter drills into each
SECURITY_ROWS = (("sec:runs_as", "runs as"), ("sec:setuid", "setuid/setgid"),
                 ("sec:world_writable", "world-writable"), ("sec:login_users", "login users"),
                 ("sec:executables", "executables"), ("sec:interpreters", "interpreters"),
                 ("sec:shared_layers", "shared layers"))


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def intro_text(labels: list[str]) -> Text:
    """The intro box, naming the columns shown (after ``a``/``x`` too); short, so the
    first category rows still show at 80x24."""
    names = [visible(label) for label in labels]
    text = Text()
    if len(names) == 1:
        text.append(f"What is in {names[0]}?", "bold")
    elif len(names) == 2:
        text.append(f"What does {names[1]} leave out of {names[0]}?", "bold")
    else:
        text.append(f"What do {_and(names[1:])} each leave out of {names[0]}?", "bold")
    if len(names) == 2:
        text.append(f" Left: {names[0]}. Right: {names[1]}.")
    elif len(names) > 2:
        text.append(" " + " ".join(f"Column {n}: {name}." for n, name in enumerate(names, 1)))
    text.append(" Each category's bar is its bytes on one scale: no shell, no package manager, "
                "no core utilities leaves nothing for an attacker to run. ")
    for key, words in (("↑↓ Enter", " lists a row's files (on \"leaves out\": what that image "
                                    "lacks); "),
                       ("1 2 3", " tabs; "), ("v", " views a file in every image; "),
                       ("a", " adds an image; "), ("i", " hides this box; "),
                       ("?", " every key.")):
        text.append(key, "bold")
        text.append(words)
    return text


def bar_width(screen_width: int, images: int) -> int:
    """Cells of a category bar so that every column fits (``BAR_WIDTH`` when there is room;
    a cell's text after the bar takes about 16 cells, the row names about 20)."""
    return max(3, min(BAR_WIDTH, (screen_width - 20) // max(1, images) - 18))


@dataclass
class Row:
    key: str  # sizes: their name; pair rows ``out:I`` / ``add:I``; ``cat:NAME``; ``sec:NAME``
    name: Text
    cells: list[Text]


def _count(items: list[str], *, bad: bool = True, names: str = "", width: int = 30) -> Text:
    """``none`` (dim), or the count (red when ``bad``), then the items when ``names`` is
    ``base`` (a path's last part) or ``whole``."""
    if not items:
        return Text("none", "dim green" if bad else "dim")
    shown = f"{len(items):,}"
    if names:
        shown += ": " + ", ".join(visible(i.rsplit("/", 1)[-1] if names == "base" else i)
                                  for i in items)
    return Text(one_line(shown, width), "red" if bad else "")


def overview_rows(result: CompareResult, width: int = BAR_WIDTH) -> list[Row]:
    """The Overview's rows, in order: sizes, the pair rows, one row per category with a
    bar of its bytes on one scale across the images, then the security facts."""
    ims = result.images
    rows = [Row(key, Text(key), [Text(cell(i)) for i in ims]) for key, cell in (
        ("compressed", lambda i: human(i.compressed_size)),
        ("uncompressed", lambda i: human(i.uncompressed_size)),
        ("files", lambda i: f"{i.files:,} · {human(i.file_bytes)}"),
        ("packages", lambda i: f"{i.packages:,}"),
        ("layers", lambda i: str(len(i.layers))))]
    for pair in result.pairs:
        for key, name, files, size in (
                (f"out:{pair.image}", "leaves out", pair.left_out_files, pair.left_out_bytes),
                (f"add:{pair.image}", "adds", pair.added_files, pair.added_bytes)):
            cells = [Text("") for _ in ims]
            cells[pair.image] = Text(f"{files:,} files · {human(size)} ⏎")
            rows.append(Row(key, Text(name, "bold"), cells))
    scale = max((c.bytes for row in result.categories for c in row.per_image), default=0)
    for cat in result.categories:
        cells = []
        for c in cat.per_image:
            if not c.files:
                cells.append(Text("absent", style="dim red" if cat.differs else "dim"))
                continue
            t = Text(bar(c.bytes, scale, width).ljust(width), style="cyan")
            t.append(f" {c.files:,} · {human(c.bytes)}")
            cells.append(t)
        rows.append(Row(f"cat:{cat.name}", Text(cat.name, "bold" if cat.differs else ""), cells))
    rows += security_rows(result, width + 16)
    return rows


def security_rows(result: CompareResult, width: int) -> list[Row]:
    """Who each image runs as, its setuid/setgid and world-writable files, login users,
    executables, interpreters and the layers it shares with the others."""
    sec, findings = result.security, result.findings
    if sec is None:
        return []
    n = len(result.images)
    setuid = [sorted(set(a) | set(b)) for a, b in zip(findings.get("setuid", [[]] * n),
                                                       findings.get("setgid", [[]] * n),
                                                       strict=True)]
    cells: dict[str, list[Text]] = {
        "sec:runs_as": [Text(one_line(visible(r.describe()), width),
                             "bold red" if r.root else "green") for r in sec.runs_as],
        "sec:setuid": [_count(s, width=width) for s in setuid],
        "sec:world_writable": [_count(w, width=width)
                               for w in findings.get("world_writable", [[]] * n)],
        "sec:login_users": [_count(u, names="whole", width=width)
                            for u in findings.get("login_users", [[]] * n)],
        "sec:executables": [_count(e, bad=False, width=width) for e in sec.executables],
        "sec:interpreters": [_count(i, names="base", width=width) for i in sec.interpreters],
        "sec:shared_layers": [
            Text(f"{sum(1 for la in im.layers if la.shared_with)} of {len(im.layers)}")
            for im in result.images],
    }
    keep = [(k, name) for k, name in SECURITY_ROWS if n > 1 or k != "sec:shared_layers"]
    return [Row(key, Text(name, "bold"), cells[key]) for key, name in keep]


def verdict_text(result: CompareResult) -> Text:
    """Each image against the first, pairwise, then the category verdicts."""
    text = Text()
    for pair in result.pairs:
        text.append(visible(pair.sentence(result.labels)) + "\n")
    for line in result.verdicts:
        text.append(f"• {visible(line)}\n")
    return text


def runs_as_text(result: CompareResult, configs: list[dict]) -> list[tuple[str, str]]:
    """Per image: its user and how it starts (the config's User, Entrypoint, Cmd,
    WorkingDir), for the side-by-side viewer."""
    import json

    assert result.security is not None
    out = []
    for label, who, config in zip(result.labels, result.security.runs_as, configs, strict=True):
        cfg = config.get("config") or {}
        lines = [f"runs as     {who.describe()}",
                 f"User        {json.dumps(cfg.get('User', ''))}",
                 f"Entrypoint  {json.dumps(cfg.get('Entrypoint'))}",
                 f"Cmd         {json.dumps(cfg.get('Cmd'))}",
                 f"WorkingDir  {json.dumps(cfg.get('WorkingDir', ''))}"]
        out.append((label, "\n".join(lines)))
    return out


def layers_text(result: CompareResult) -> list[tuple[str, str]]:
    """Per image: its layers (1..N, base first) and which other images share each."""
    labels = result.labels
    out = []
    for im in result.images:
        lines = []
        for la in im.layers:
            shared = (" shared with " + ", ".join(labels[j] for j in la.shared_with)
                      if la.shared_with else "")
            lines.append(f"{la.index + 1:>3}  {la.diff_id.split(':')[-1][:12]}  "
                         f"{human(la.uncompressed_size):>9}{shared}")
            if la.created_by.strip():
                lines.append(f"     {one_line(la.created_by, 70)}")
        out.append((im.label, "\n".join(lines)))
    return out


def vuln_rows(overlays, labels: list[str], width: int) -> list[Row]:
    """``--vulns``: per image its findings by severity (``vulns``, Enter lists the packages
    with findings) and who scanned when (``scanner``: the counts are the report's, not live
    truth); per pair what the image drops of the first's (``vdrop:I``). Nothing without
    reports. ``overlays``: an ``inspector.vulns.Overlay`` (or None) per image."""
    from inspector.vulns import pair_vulns

    if not overlays:
        return []
    counts, scanners = [], []
    for ov in overlays:
        if ov is None:  # reports are given at start (--vulns), one per image named
            counts.append(Text("no report", "dim"))
            scanners.append(Text(one_line("no --vulns report names it", width), "dim"))
            continue
        c = ov.counts
        worst = c.by_severity["critical"] or c.by_severity["high"]
        counts.append(Text(one_line(visible(severity_line(ov)), width)
                           + (" ⏎" if c.total else ""),
                           "red" if worst else "green" if not c.total else ""))
        scanners.append(Text(one_line(visible(ov.scanner.describe()), width), "dim"))
    rows = [Row("vulns", Text("vulnerabilities", "bold"), counts),
            Row("scanner", Text("scanned by"), scanners)]
    for pair in pair_vulns(overlays):
        if pair is None:
            continue
        cells = [Text("") for _ in overlays]
        cells[pair.image] = Text(one_line(
            f"drops {pair.dropped.total:,} of {pair.base_total:,}, adds {pair.added.total:,}"
            + (" ⏎" if pair.base_total else ""), width))
        rows.append(Row(f"vdrop:{pair.image}", Text("vulns vs first", "bold"), cells))
    return rows


#: how an image's base was found (``provenance.Base.how``), in words
BASE_HOW = {"given": "--base-image", "compared": "an image compared", "sample": "a bundled sample"}


def base_rows(result: CompareResult, width: int) -> list[Row]:
    """When an image's base is known (``ImageSummary.base``): ``base`` (which, its layers,
    how it was found) and ``own`` (the files, bytes and packages the image adds on top)."""
    splits = [im.base for im in result.images]
    if not any(sp is not None and sp.base is not None for sp in splits):
        return []
    bases, layers, owns = [], [], []
    for sp, im in zip(splits, result.images, strict=True):
        if sp is None or sp.base is None:
            bases.append(Text("none found", "dim"))
            layers.append(Text(""))
            owns.append(Text("all of it", "dim"))
            continue
        b = sp.base
        bases.append(Text(one_line(visible(b.reference), width)))
        layers.append(Text(one_line(f"{b.layers} of {len(im.layers)} · "
                                    f"{BASE_HOW.get(b.how, visible(b.how))}", width)))
        owns.append(Text(one_line(f"{sp.own.files:,} files · {human(sp.own.bytes)} · "
                                  f"{sp.own.packages:,} pkgs", width)))
    return [Row("base", Text("base", "bold"), bases),
            Row("base_layers", Text("base layers"), layers),
            Row("own", Text("own (on top)"), owns)]


def compare_rows(result: CompareResult, overlays, screen_width: int) -> list[Row]:
    """Every Overview row, in order, for a screen ``screen_width`` cells wide: the sizes,
    the base and own split and the scanner reports (``overlays``: see ``vuln_rows``), what
    each image leaves out and adds, the categories, the security facts."""
    images = max(1, len(result.labels))
    width = bar_width(screen_width, images)
    rows = overview_rows(result, width)
    room = max(width + 16, (screen_width - 24) // images)
    rows[5:5] = [*base_rows(result, room), *vuln_rows(overlays, result.labels, room)]
    return rows


def severity_line(ov) -> str:
    """``17: 1 critical, 3 high, …`` (the severities found, worst first), then the findings
    on no package of the image."""
    from inspector.vulns import SEVERITIES

    c = ov.counts
    shown = ", ".join(f"{c.by_severity[s]:,} {s}" for s in SEVERITIES if c.by_severity[s])
    line = f"{c.total:,}" + (f": {shown}" if shown else "")
    if ov.unmatched:
        line += f" ({ov.unmatched:,} on no package)"
    return line


def vulns_line(ov) -> Text:
    """One image's findings by severity and who scanned when (the Packages tab's head)."""
    return Text(f"vulnerabilities {visible(severity_line(ov))} — "
                f"{visible(ov.scanner.describe())}")


def vuln_sentences(overlays, labels: list[str]) -> Text:
    """Each pair's "drops N of M" sentence, for the verdict (empty without reports)."""
    from inspector.vulns import pair_vulns

    text = Text()
    for pair in pair_vulns(overlays or []):
        if pair is not None:
            text.append(visible(pair.sentence(labels)) + "\n")
    return text


def package_rows(result: CompareResult, overlays, vulnerable_only: bool = False
                 ) -> list[tuple[str, list[Text], str]]:
    """The Packages tab's rows: (name, with ``overlays`` the findings per image, then a
    version · size cell per image, where it is); ``vulnerable_only``: only those with
    findings, most first."""
    from inspector.tui.scan import package_counts

    labels = [visible(label) for label in result.labels]
    pk = result.packages
    per = [package_counts(ov) for ov in overlays] if overlays else None
    rows: list[tuple[int, str, list[Text], str]] = []

    def add(name: str, cells: list[Text], where: str) -> None:
        if per is None:
            rows.append((0, name, cells, where))
            return
        found = [c.get(name, 0) if ov else None for c, ov in zip(per, overlays, strict=True)]
        if vulnerable_only and not any(found):
            return
        cells = [Text(" · ".join("—" if n is None else f"{n:,}" for n in found),
                      "red" if any(found) else "dim"), *cells]  # first: seen at 80 columns
        rows.append((sum(n or 0 for n in found), name, cells, where))

    def cell(version: str | None, size: int | None) -> Text:
        return Text("—" if version is None else f"{visible(version)} · {human(size)}")

    for i, only in enumerate(pk.only_in):
        for p in only:
            add(p.name, [cell(p.version, p.size) if j == i else Text("—")
                         for j in range(len(labels))], f"only {labels[i]}")
    for change in pk.version_changed:
        add(change.name, [cell(v, n) for v, n in zip(change.versions, change.sizes,
                                                      strict=True)], "version differs")
    for p in pk.common:
        add(p.name, [cell(p.version, p.size)] * len(labels), "same")
    if vulnerable_only:
        rows.sort(key=lambda row: -row[0])
    return [(name, cells, where) for _, name, cells, where in rows]
