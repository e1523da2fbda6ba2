"""Which small files the indexer keeps the content of, while it walks a layer once.

Later steps (package catalogers, findings, the OS name) need a few files' bytes; reading
them during the one streaming pass means no layer is ever read twice. Each rule has a size
cap: a larger file is not captured (and the consumer reports that, never guesses).

The rules are not listed here: each cataloger's row in ``inspector/catalog/registry.py``
says what it reads (``catalog/reads.py``: the rule type); this module joins them with the
few files other steps read (``OTHER_READS``) into one table, and derives the walker's
pre-filter from it. The registry imports nothing of the index, so neither does this
module reach the catalogers or the merge.
"""

from __future__ import annotations

from inspector.catalog.reads import KIB, MIB, Read, exact
from inspector.catalog.registry import CATALOGERS

#: files read by steps other than the catalogers: findings (login users, shells), OS name
OTHER_READS = (
    exact("/etc/passwd", 1 * MIB),
    exact("/etc/group", 1 * MIB),
    exact("/etc/shells", 64 * KIB),
    exact("/etc/os-release", 64 * KIB),
    exact("/usr/lib/os-release", 64 * KIB),
    exact("/etc/debian_version", 4 * KIB),
    exact("/etc/alpine-release", 4 * KIB),
    exact("/etc/redhat-release", 4 * KIB),
)

#: executables whose first bytes are kept (ELF/shebang detection)
HEAD_BYTES = 64
GO_BUILDINFO_MAGIC = b"\xff Go buildinf:"
#: the smallest ELF executable searched for Go build info (bytes). A Go toolchain binary
#: cannot be smaller: ``package main; func main(){}`` built by go1.19 with
#: ``-ldflags="-s -w" -trimpath`` is 760-960 KiB on every Linux architecture
#: (docs/architecture.md, "Go binaries"), three times this floor. Every path applies it
#: alike — the tar walker (both loops: the C one hands every executable to Python), a
#: layer listed from its TOC (``from_toc``) — so they stay equal by construction; below
#: it an executable's data is skipped, never scanned.
GO_FLOOR = 256 * KIB
#: bytes kept from the Go build-info magic on (inline format: header + version + modinfo)
GO_BUILDINFO_BYTES = 64 * KIB


def all_reads() -> tuple[Read, ...]:
    """Every cataloger's reads (registry order), then ``OTHER_READS``."""
    return (*(rule for cataloger in CATALOGERS for rule in cataloger.reads), *OTHER_READS)


READS = all_reads()
#: exact paths → cap in bytes
EXACT = {r.pattern: r.cap for r in READS if r.kind == "exact"}
_PREFIXES = tuple(r for r in READS if r.kind == "prefix")
_SUFFIXES = tuple((r.pattern, r.cap) for r in READS if r.kind == "suffix")
#: ``child`` reads: (directory, "/" + basename, cap)
_CHILDREN = tuple((r.pattern, "/" + r.only[0], r.cap) for r in READS if r.kind == "child")
_SUFFIX_ENDS = tuple(s for s, _ in _SUFFIXES)
NPM_CAP = max((r.cap for r in READS if r.kind == "npm"), default=0)

#: the walker's pre-filter, derived from the table (both walkers, the C one too, ask
#: ``capture_limit`` only about a file it admits, so every rule kind must reach it):
#: a whole basename (``exact``, ``child`` and ``npm`` reads, and a ``suffix`` read's last
#: component: ``.dist-info/METADATA`` → ``METADATA``) …
BASENAMES = frozenset(
    {p.rsplit("/", 1)[1] for p in EXACT}
    | {s.rsplit("/", 1)[1] for s in _SUFFIX_ENDS if "/" in s}
    | {r.only[0] for r in READS if r.kind == "child"}
    | ({"package.json"} if NPM_CAP else set())
)
#: … the end of a basename (a ``suffix`` read within one name: ``.egg-info``) …
BASE_ENDINGS = tuple(sorted(s for s in _SUFFIX_ENDS if "/" not in s))
#: … or the start of the path (``prefix`` reads: ``/var/lib/dpkg/info/``)
PATH_PREFIXES = tuple(sorted(r.pattern for r in _PREFIXES))


def candidate(path: str, base: str) -> bool:
    """Whether the pre-filter admits the file ``path`` (basename ``base``); a superset of
    what ``capture_limit`` accepts."""
    return base in BASENAMES or base.endswith(BASE_ENDINGS) or path.startswith(PATH_PREFIXES)


def capture_limit(path: str) -> int:
    """Cap in bytes if ``path``'s content should be captured, else 0."""
    cap = EXACT.get(path)
    if cap:
        return cap
    for rule in _PREFIXES:
        if path.startswith(rule.pattern):
            return rule.cap if not rule.only or path.endswith(rule.only) else 0
    for directory, name, cap in _CHILDREN:
        if (path.startswith(directory) and path.endswith(name)
                and path.find("/", len(directory)) == len(path) - len(name)):
            return cap
    if NPM_CAP and path.endswith("/package.json"):
        return NPM_CAP if "/node_modules/" in path or path.count("/") <= 3 else 0
    if path.endswith(_SUFFIX_ENDS):
        for ending, cap in _SUFFIXES:
            if path.endswith(ending):
                return cap
    return 0
