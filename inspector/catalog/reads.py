"""What a cataloger reads: the files whose content the indexer must capture for it.

Each cataloger's row in ``registry.py`` lists its reads (the paths its module parses are
named there once); ``index/capture.py`` builds the one capture table from them, and the
walker's pre-filter from that table — so the paths a cataloger reads and the paths
captured cannot disagree (``tests/catalog/test_reads.py`` walks a real tar of every
example path).

This module imports nothing of the project, so a cataloger's table costs no import.
"""

from __future__ import annotations

KIB = 1024
MIB = 1024 * KIB


class Read:
    """One rule (a plain class: a dataclass or named tuple costs every process that
    indexes or merges ~0.5-1 ms more to create). ``kind`` is ``exact`` (``pattern`` is the path), ``prefix`` (a directory
    prefix, with ``only`` the name endings accepted below it, or any), ``suffix`` (the path
    ends with ``pattern``), ``child`` (``pattern/<one name>/<only[0]>``: a file of that name
    in each direct subdirectory, ``/usr/share/doc/*/copyright``) or ``npm``
    (``…/node_modules/**/package.json`` and a top-level app's ``package.json``). ``cap`` is the largest file captured, in bytes; ``example``
    is a path the rule matches (the tests capture it)."""

    __slots__ = ("kind", "pattern", "cap", "example", "only")

    def __init__(self, kind: str, pattern: str, cap: int, example: str = "",
                 only: tuple[str, ...] = ()) -> None:
        self.kind, self.pattern, self.cap, self.example, self.only = kind, pattern, cap, example, only

    def __repr__(self) -> str:
        return f"Read({self.kind!r}, {self.pattern!r}, {self.cap})"

    def examples(self) -> list[str]:
        return [self.pattern] if self.kind == "exact" else [self.example]


def exact(path: str, cap: int) -> Read:
    return Read("exact", path, cap)


def prefix(directory: str, cap: int, example: str, only: tuple[str, ...] = ()) -> Read:
    return Read("prefix", directory, cap, example, only)


def suffix(ending: str, cap: int, example: str) -> Read:
    return Read("suffix", ending, cap, example)


def child(directory: str, name: str, cap: int, example: str) -> Read:
    """``directory/<one name>/name`` (``directory`` ends with ``/``)."""
    return Read("child", directory, cap, example, (name,))
