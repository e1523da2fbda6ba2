"""The classifier's per-entry loop: the decision (one entry → its category name) apart from
the tally (codes, files, bytes, paths per category), in Python (the reference) and in C
(``_tarscan.classify_rows``, the same decisions with the same rule tables and memos).

The C loop takes three tuples, built here: ``Columns`` (the merged filesystem as it reads
it), ``RowRules`` (the rules, the catalog's ownership and every category name it may give:
the C spells none) and ``Tally`` (what it fills in). ``tests/classify/test_classify_c.py``
checks that the two loops agree.

A hardlink is decided as its inode's file (``hardlinks.settle`` gave it the file's mode;
its first bytes are read at the inode): a hardlink to an ELF outside the bin directories
is a program, as the file is. It still counts 0 bytes.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Set
from typing import NamedTuple

from inspector.classify.rules import NO_RULE, PACKAGE_SYSTEMS, Rules
from inspector.index import tarscan
from inspector.index.entries import DIR, FILE, HARDLINK, SYMLINK, LayerIndex
from inspector.index.merge import IMPLIED_ROW, MergedFS
from inspector.index.packed import MASK, SHIFT

#: the category of busybox and its applet links (first in the category contract)
SHELL = "shell"
FALLBACK = "application"
#: where an OS package's file no rule names goes (ownership first: never ``application``)
OWNED_FALLBACK = "system"
BUSYBOX = "busybox"


class Columns(NamedTuple):
    """The merged filesystem as the loop reads it (one item per layer in the lists)."""

    paths: list[str]  # fs.sorted_paths()
    packed: array  # fs.sorted_packed(): array("Q")
    kinds: list[bytes | bytearray]
    sizes: list[array]  # array("q")
    modes: list[array]  # array("I")
    targets: list[dict[int, str]]
    heads: list[dict[int, bytes]]
    inodes: dict[str, int]  # hardlink path → packed entry of its inode


class RowRules(NamedTuple):
    """The rules as the loop applies them (``Rules``' tables and memos, not copies), the
    catalog's ownership, and the category names the rules do not spell."""

    dir_rule: Callable[[str], int]
    bin_dirs: Set[str]
    exact: dict[str, int]  # path → rule
    name_cache: dict[str, int]  # basename → rule (memo of ``names_match``)
    names_match: Callable[[str], int]
    command_cache: dict[str, int]  # basename → rule (memo of ``commands_match``)
    commands_match: Callable[[str], int]
    rule_names: tuple[str, ...]  # rule → category name
    content_end: int  # rules below it are generic content
    no_rule: int
    owners: dict[str, int]  # path → catalog package index
    #: per package: None (a language package), "" (an OS package the table does not
    #: list) or the table's category
    owned: tuple[str | None, ...]
    busybox: str
    shell: str
    fallback: str
    owned_fallback: str


class Tally(NamedTuple):
    """What the loop fills in."""

    code_of: dict[str, int]  # category name → code (``_Codes``: assigned on first use)
    codes: bytearray  # per sorted path
    files: array  # array("q") of 256, per code
    bytes: array  # array("q") of 256, per code
    per_code: list[list[str]]  # 256 lists of paths
    #: ``(i, path, owned)`` of the symlinks no rule names (they take their target's)
    pending: list[tuple[int, str, bool]]


def owned_categories(catalog, rules: Rules) -> tuple[str | None, ...]:
    """Per catalog package: ``None`` for a language package (python, npm, go), else the
    OS package's table category, ``""`` when the table does not list it."""
    if catalog is None:
        return ()
    return tuple(None if p.type not in PACKAGE_SYSTEMS
                 else rules.package_category(p.type, p.name) or "" for p in catalog.packages)


def row_rules(rules: Rules, catalog) -> RowRules:
    return RowRules(
        rules.dir_rule, rules.bin_dirs, rules.paths.exact, rules.name_cache, rules.names.match,
        rules.command_cache, rules.commands.match, tuple(rules.categories), rules.content_end,
        NO_RULE, catalog.owners if catalog is not None else {}, owned_categories(catalog, rules),
        BUSYBOX, SHELL, FALLBACK, OWNED_FALLBACK)


def columns(fs: MergedFS) -> Columns:
    layers = fs.layers
    return Columns(fs.sorted_paths(), fs.sorted_packed(), [ix.kinds for ix in layers],
                   [ix.sizes for ix in layers], [ix.modes for ix in layers],
                   [ix.targets for ix in layers], [ix.heads for ix in layers], fs.inodes)


def _is_program(head: bytes | None) -> bool:
    return head is not None and (head.startswith(b"\x7fELF") or head.startswith(b"#!"))


class Pending(NamedTuple):
    """The decision for a symlink no rule names: its target's category, later."""

    owned: bool  # an OS package owns the link


def decider(fs: MergedFS, rules: RowRules) -> Callable[[str, int, LayerIndex, int], str | Pending]:
    """The per-entry decision (the reference for ``_tarscan.c``'s ``cl_decide``):
    ``decide(path, kind, index, row)`` is the entry's category name, or a ``Pending`` for
    a symlink no rule names. Evidence in order — busybox links, generic content by path,
    the owning OS package's table for its executables, path rules, the fallbacks (see
    ``classify``). A closure over the rules' items: the loop calls it once per entry."""
    (dir_rule, bin_dirs, exact, by_name, names_match, by_command, commands_match, rule_names,
     content_end, no_rule, owners, owned, busybox, shell, fallback, owned_fallback) = rules
    layers, inodes = fs.layers, fs.inodes
    last_parent: str | None = None  # sorted paths: siblings come together
    parent_rule, parent_bin = no_rule, False

    def head(path: str, kind: int, index: LayerIndex, row: int) -> bytes | None:
        """The entry's first bytes: a hardlink's are its inode's."""
        if kind == HARDLINK:
            inode = inodes.get(path)
            if inode is None:
                return None  # dangling
            index, row = layers[inode >> SHIFT], inode & MASK
        return index.heads.get(row)

    def by_owner(path: str, kind: int, best: int, executable: int) -> str | Pending:
        """Past the generic content: the owner's table, the rule, the fallbacks."""
        owner = owners.get(path)
        table = owned[owner] if owner is not None else None
        if table and executable:  # a well-known OS package's executable
            return table
        if best != no_rule:
            name = rule_names[best]
            return owned_fallback if name == fallback and table is not None else name
        if kind == SYMLINK:
            return Pending(table is not None)
        return fallback if table is None else owned_fallback

    def decide(path: str, kind: int, index: LayerIndex, row: int) -> str | Pending:
        nonlocal last_parent, parent_rule, parent_bin
        if kind == SYMLINK or kind == HARDLINK:
            target = index.targets.get(row) or ""
            if target.rstrip("/").rpartition("/")[2] == busybox:
                return shell
        parent, _, base = path.rpartition("/")
        parent = parent or "/"
        if parent != last_parent:
            last_parent, parent_rule, parent_bin = parent, dir_rule(parent), parent in bin_dirs
        best = parent_rule
        rule = exact.get(path, no_rule)
        if rule < best:
            best = rule
        named = by_name.get(base)
        if named is None:
            named = by_name[base] = names_match(base)
        if named < best:
            best = named
        executable = parent_bin or ((kind == FILE or kind == HARDLINK) and index.modes[row] & 0o111
                                    and _is_program(head(path, kind, index, row)))
        if executable:
            command = by_command.get(base)
            if command is None:
                command = by_command[base] = commands_match(base)
            if command < best:
                best = command
        if best < content_end:  # generic content: the path decides, whoever ships it
            return rule_names[best]
        return by_owner(path, kind, best, executable)

    return decide


def tally_rows(fs: MergedFS, rules: RowRules, codes: bytearray, code_of: dict[str, int],
               totals: dict, pending: list[tuple[int, str, bool]]) -> None:
    """The per-entry loop in Python (the reference for ``classify_rows``): each entry's
    decision, counted under its category (``totals``: name → ``CategoryTotal``)."""
    decide = decider(fs, rules)
    layers = fs.layers
    for i, (path, li, row) in enumerate(fs.located_sorted()):
        if row == IMPLIED_ROW:
            continue
        index = layers[li]
        kind = index.kinds[row]
        if kind == DIR:
            continue
        name = decide(path, kind, index, row)
        if isinstance(name, Pending):
            pending.append((i, path, name.owned))
            continue
        codes[i] = code_of[name]
        total = totals[name]
        total.files += 1
        if kind == FILE:
            total.bytes += index.sizes[row]
        total.paths.append(path)


def tally_rows_c(fs: MergedFS, rules: RowRules, codes: bytearray, code_of: dict[str, int],
                 totals: dict, pending: list[tuple[int, str, bool]]) -> bool:
    """The loop in C; False when it is not available (or declines: a category's bytes
    past a signed 64-bit integer), and the Python loop is to run instead."""
    loop: Callable[[Columns, RowRules, Tally], bool] | None = tarscan.classify_rows
    if loop is None or not tarscan.native(fs.layers):
        return False
    out = Tally(code_of, codes, array("q", bytes(8 * 256)), array("q", bytes(8 * 256)),
                [[] for _ in range(256)], pending)
    if not loop(columns(fs), rules, out):
        return False
    for name, code in code_of.items():
        total = totals[name]
        total.files, total.bytes, total.paths = out.files[code], out.bytes[code], out.per_code[code]
    return True
