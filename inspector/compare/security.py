"""The security facts of one image, as a reviewer reads them beside another image's: who
it runs as, its executables and interpreters, and (from the classification) its setuid,
setgid and world-writable files and login users. Pure functions over an ``Analysis``;
``inspector check`` gates on the same facts (``runs_as`` is its ``require_nonroot_user``).

Sets of paths are named by ``SECURITY_SETS`` (the TUI's ``finding:NAME`` filter term and
the compare Overview's drill-down use the same names).
"""

from __future__ import annotations

from collections.abc import Iterable

from inspector.analysis import Analysis
from inspector.compare.model import RunsAs
from inspector.content import data_path
from inspector.index.entries import FILE, HARDLINK
from inspector.index.merge import IMPLIED_ROW, MergedFS

#: user names that are root by name alone (empty: unset; a numeric uid is checked as a number)
ROOT_NAMES = ("", "root")
#: the category whose executables count as interpreters
INTERPRETER = "interpreter"
#: the named path sets (``finding:NAME``), in display order
SECURITY_SETS = ("setuid", "world_writable", "executables", "interpreters")


def runs_as(analysis: Analysis) -> RunsAs:
    """The config's ``User`` and whether it means uid 0: unset, ``root``, ``0``, or a name
    that the image's ``/etc/passwd`` maps to uid 0 (a group after ``:`` is ignored)."""
    user = ((analysis.config.get("config") or {}).get("User") or "").strip()
    name = user.split(":", 1)[0]
    if name in ROOT_NAMES:
        return RunsAs(user, True)
    if name.isdigit():
        return RunsAs(user, int(name) == 0)
    passwd = analysis.fs.captured("/etc/passwd") or b""
    for line in passwd.decode("utf-8", "surrogateescape").split("\n"):  # as glibc reads it
        fields = line.split(":")
        if len(fields) > 2 and fields[0] == name:
            return RunsAs(user, fields[2] == "0")
    return RunsAs(user, False)


def executables(fs: MergedFS) -> list[str]:
    """Regular files with an execute bit for anyone, and hardlinks to them (a hardlink is
    the same file: its target's mode counts, not its own header's), sorted by path."""
    layers = fs.layers
    out, links = [], []
    for path, li, row in fs.located():
        if row == IMPLIED_ROW:
            continue
        index = layers[li]
        kind = index.kinds[row]
        if kind == FILE and index.modes[row] & 0o111:
            out.append(path)
        elif kind == HARDLINK:
            links.append(path)
    programs = set(out)
    out += [p for p in links if data_path(fs, p) in programs]
    out.sort()
    return out


def interpreters(analysis: Analysis, programs: Iterable[str]) -> list[str]:
    """The ``programs`` (executables) the classifier puts in the interpreter category:
    python, perl, node … (their modules are not programs)."""
    category_of = analysis.classification.category_of
    return [p for p in programs if category_of(p) == INTERPRETER]


def security_sets(analysis: Analysis) -> dict[str, list[str]]:
    """``SECURITY_SETS`` name → the image's paths (sorted): setuid (setuid or setgid),
    world_writable, executables, interpreters."""
    findings = analysis.classification.findings
    programs = executables(analysis.fs)
    return {
        "setuid": sorted(set(findings.setuid) | set(findings.setgid)),
        "world_writable": list(findings.world_writable),
        "executables": programs,
        "interpreters": interpreters(analysis, programs),
    }
