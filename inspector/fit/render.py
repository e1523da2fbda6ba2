"""The fit verdict as text, markdown or JSON, and the Dockerfile fragment it suggests.

Paths, names, the reference and the config's Env come from the image: every line of the
text and markdown reports goes through ``visible()`` (the one escaping rule) as it is
joined (``_lines``), markdown's own escaping after our ``- `` / ``## `` prefix; the
Dockerfile's lines are visible() too, so a newline in an Env value cannot add an
instruction. JSON keeps the raw strings (the ``dockerfile`` field is the escaped text)."""

from __future__ import annotations

import json

from inspector.errors import InspectorError
from inspector.fit.bases import LANGUAGE_IMAGES, from_ref
from inspector.fit.model import COPY, FITS, FitResult
from inspector.reference import split_transport
from inspector.report.markdown import fence
from inspector.report.markdown import text as md_text
from inspector.report.sizes import human
from inspector.visible import visible

#: rows of a list shown before "… and N more"
LIST_MAX = 12


def dockerfile(r: FitResult) -> str:
    """A multi-stage starting point: current image as ``build``, the chosen base, COPYs."""
    c = r.chosen
    if c is None:
        return ""
    lines = ["# A starting point, not a finished build: check the paths, the user, and what",
             "# the application reads or runs at run time (no shell, no package manager).",
             f"FROM {_published(r.reference)} AS build", f"FROM {c.from_ref}"]
    if _published(r.reference) == "current-image":
        lines.insert(2, f"# current-image: {r.reference} (load or push it under a name first)")
    for root in r.app_roots:
        lines.append(f"COPY --from=build {root} {root}")
    for src, dest in c.copy:
        lines.append(f"COPY --from=build {src} {dest}")
    for env in r.env:
        if "=" in env:
            lines.append(f"ENV {env}")
    if r.workdir:
        lines.append(f"WORKDIR {r.workdir}")
    if c.nonroot:
        lines.append("USER nonroot")
    entry, cmd = entry_and_cmd(r)
    if entry:
        lines.append(f"ENTRYPOINT {json.dumps(entry)}")
    if cmd:
        lines.append(f"CMD {json.dumps(cmd)}")
    return "\n".join(map(visible, lines)) + "\n"


def entry_and_cmd(r: FitResult) -> tuple[list[str], list[str]]:
    """ENTRYPOINT and CMD of the new image: the original's, or, when a shell or ``env``
    started the program (the base has neither), what they ran, directly."""
    entry, cmd = r.entrypoint, r.cmd
    shell = r.language == "shell" or any(i.rsplit("/", 1)[-1] == "env" for i in r.interpreters)
    if shell and r.final_argv:
        entry, cmd = r.final_argv, []
    return entry, cmd


def _published(reference: str) -> str:
    """A name ``FROM`` understands: the registry reference, a sample's name, or a
    placeholder for an image that lives in an archive, a layout or an engine."""
    ref = from_ref(reference)
    if ref.startswith("sample:"):
        return ref.removeprefix("sample:")
    try:
        transported = split_transport(ref)
    except InspectorError:
        return "current-image"
    if transported.transport in ("registry", "docker-daemon"):
        return transported.rest
    return "current-image"


def render(r: FitResult, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(r.as_json(), indent=2) + "\n"
    md = fmt == "markdown"
    out: list[str] = []  # one line each (a value's own line break is escaped in _lines)
    h = (lambda t: out.extend(("", f"## {t}", ""))) if md else (lambda t: out.extend(("", t)))
    item = "- " if md else "  "
    out.append(f"# Fit: {r.reference}" if md else f"fit: {r.reference}")
    h("The application")
    out.append(f"{item}command: {json.dumps(r.argv)}")
    for path, note in r.chain:
        out.append(f"{item}{note}: {path}")
    out.append(f"{item}runs {r.program}: {r.kind}, {r.machine}"
               + (f", loader {r.interpreter}" if r.interpreter else ""))
    if r.interpreters:
        out.append(f"{item}script interpreter(s): {', '.join(r.interpreters)} ({r.language})")
    out.append(f"{item}its own files: {len(r.app_files)} ({human(r.app_bytes)})"
               + (f" in {', '.join(r.app_roots[:6])}" + (" …" if len(r.app_roots) > 6 else "")
                  if r.app_roots else ""))
    for f in r.findings:
        out.append(f"{item}finding: {f}")
    if r.libraries or r.missing:
        h(f"What it loads ({len(r.libraries)} objects)")
        for lib in r.libraries[:LIST_MAX * 3]:
            owner = lib.package or "the application's own file"
            out.append(f"{item}{lib.name} → {lib.path} [{lib.how}] {human(lib.size)}, {owner}")
        if len(r.libraries) > LIST_MAX * 3:
            out.append(f"{item}… and {len(r.libraries) - LIST_MAX * 3} more")
        for name, users in r.missing:
            out.append(f"{item}NOT FOUND: {name} (needed by {', '.join(users)})")
    for w in r.warnings:
        out.append(f"{item}warning: {w}")
    h("Candidate bases")
    for c in r.candidates:
        line = f"{item}{c.label}: {c.verdict}"
        if c.missing:
            shown = ", ".join(c.missing[:LIST_MAX]) + (" …" if len(c.missing) > LIST_MAX else "")
            line += f" (missing: {shown})"
        if c.verdict == COPY:
            line += f"; copy {len(c.copy)} libraries, {human(c.copy_bytes)}"
        out.append(line + f"; base {human(c.base_bytes)}")
    out.append(f"{item}(distroless also publishes language images: "
               + ", ".join(LANGUAGE_IMAGES.values()) + "; pass one with --base)")
    body = _chosen(r, out, item, h, md)
    return "\n".join(_lines(out, md) + body) + "\n"


def _lines(out: list[str], md: bool) -> list[str]:
    """The report's lines shown visibly; in markdown the text after a list or heading
    marker escaped as markdown text."""
    if not md:
        return [visible(line) for line in out]
    shown = []
    for line in out:
        marker, space, rest = line.partition(" ")
        if space and marker in ("-", "#", "##"):
            shown.append(f"{marker} {md_text(rest)}")
        else:
            shown.append(md_text(line))
    return shown


def _chosen(r: FitResult, out: list[str], item: str, h, md: bool) -> list[str]:
    """Appends the verdict to ``out``; returns the Dockerfile's lines (already shown)."""
    c, s = r.chosen, r.savings
    if c is None or s is None:
        h("Verdict")
        out.append(f"{item}no candidate base fits: see what each is missing above")
        return []
    h(f"Smallest base that fits: {c.label}" + ("" if c.verdict == FITS else " (with copies)"))
    out.append(f"{item}result: {s.result_files:,} files, {human(s.result_bytes)} "
               f"(base {human(c.base_bytes)} + the application {human(r.app_bytes)}"
               + (f" + libraries {human(c.copy_bytes)}" if c.copy_bytes else "") + ")")
    if s.saved_bytes >= 0:
        change = f"saved: {s.saved_files:,} files, {human(s.saved_bytes)}"
    else:  # the image is already smaller than the base
        change = f"grows by {-s.saved_files:,} files, {human(-s.saved_bytes)}"
    out.append(f"{item}now: {s.current_files:,} files, {human(s.current_bytes)}; {change}")
    if s.categories_gone:
        out.append(f"{item}gone: " + ", ".join(f"{name} ({files:,} files, {human(size)})"
                                                for name, files, size in s.categories_gone))
    h("Dockerfile (a starting point)")
    lines = [visible(line) for line in r.dockerfile.rstrip("\n").splitlines()]
    if not md:
        return ["    " + line for line in lines]
    ticks = fence("\n".join(lines))
    return [f"{ticks}dockerfile", *lines, ticks]
