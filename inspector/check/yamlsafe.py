"""YAML for dive's ``.dive-ci`` without anchors and aliases.

PyYAML's ``safe_load`` expands aliases by reference, so a 1 kB "billion laughs" document
(nine aliases of nine aliases …) loads quickly, and then anything that walks or prints the
value (``str()`` of a rule's value) builds 9⁹ strings: gigabytes. dive's CI file is a flat
mapping of three scalars, so an anchor or an alias is refused where it appears.
"""

from __future__ import annotations

from typing import Any

import yaml


class AliasFound(Exception):
    """An anchor (``&a``) or alias (``*a``) at ``line`` (1-based)."""

    def __init__(self, line: int) -> None:
        super().__init__(f"YAML anchor or alias at line {line}")
        self.line = line


class _NoAliasLoader(yaml.SafeLoader):
    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise AliasFound(event.start_mark.line + 1)
        return super().compose_node(parent, index)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` refusing anchors and aliases (``AliasFound``); other errors are
    PyYAML's ``YAMLError`` (with ``problem_mark``), ``RecursionError`` for nesting past the
    stack and ``ValueError`` for an integer past Python's digit limit."""
    loader = _NoAliasLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
