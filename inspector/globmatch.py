"""Globs compiled to a matcher that cannot backtrack: time linear in the subject.

A glob from a user (a rules file's ``forbid_paths``/``forbid_packages``, ``audit --tags``,
the TUI's filter and search) must not be handed to ``re``: a backtracking engine takes
exponential time on ``**a**a…**b`` (70 s for eight ``**a`` on a 60-character path), and
``[[`` makes ``re`` print a ``FutureWarning``. Here a glob is a list of tokens and a
subject is matched by simulating the automaton whose states are positions in that list
(Thompson's construction, as RE2 and Go's ``path.Match`` avoid backtracking): the live
states are the bits of one Python int, so one character costs a few integer operations on
``len(pattern) / 64`` words, and a subject of n characters costs O(n·m) at worst. The
transitions already taken are memoised (a lazily built DFA, bounded), so the usual cost is
one dict lookup per character.

Syntax, as ``fnmatch.fnmatchcase`` (and POSIX ``fnmatch``):

* ``*`` any run of characters, ``?`` one character;
* ``[abc]``, ``[a-z]``, ``[!a-z]`` a class; a ``]`` first in the class is literal
  (``[]x]`` is ``]`` or ``x``), a ``[`` with no closing ``]`` is literal, and ``\\`` is
  not special. A reversed range (``[z-a]``) is an error (``GlobError``), not a class that
  silently matches nothing.

With ``pathname=True`` (POSIX ``FNM_PATHNAME``, the rules file's path globs): ``*``, ``?``
and a class never match ``/``, and ``**`` matches any run including ``/``. With
``anywhere=True`` a pattern that does not start with ``/`` may match from the start of any
path component (``id_rsa`` matches ``/root/.ssh/id_rsa``).

``regex_source`` writes the same language as an ``re`` pattern for callers that match
many subjects one C call each (the TUI filter): its runs between stars are atomic groups,
so it cannot backtrack either.

Stdlib only; part of the headless core (``docs/architecture.md``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import cast

__all__ = ["GlobError", "GlobSet", "compile_glob", "regex_source", "MAX_PATTERN"]

#: longest glob accepted (characters): bounds the per-character cost of a hostile rules file
MAX_PATTERN = 4096
#: memoised DFA states and characters kept at most (cleared, not grown, past this: memory
#: stays bounded and the cost per character stays O(len(pattern) / 64))
_MAX_MEMO = 65536
#: DFA states kept at most (each has one dict of transitions)
_MAX_STATES = 4096

_LIT, _ANY, _CLASS, _STAR, _DSTAR, _END = range(6)


class GlobError(ValueError):
    """A glob that cannot be compiled (a reversed range, too long)."""


def _parse_class(body: str, pattern: str) -> tuple[bool, list[tuple[str, str]]]:
    """``!a-z_`` → (negated, [("a", "z"), ("_", "_")])."""
    negate = body.startswith("!")
    if negate:
        body = body[1:]
    ranges: list[tuple[str, str]] = []
    i = 0
    while i < len(body):
        lo = body[i]
        if i + 2 < len(body) and body[i + 1] == "-":
            hi = body[i + 2]
            if hi < lo:
                raise GlobError(f"reversed range {lo}-{hi} in {pattern!r} "
                                f"(write [{hi}-{lo}])")
            ranges.append((lo, hi))
            i += 3
        else:
            ranges.append((lo, lo))
            i += 1
    return negate, ranges


def _tokens(pattern: str, pathname: bool) -> list[tuple[int, object]]:
    if len(pattern) > MAX_PATTERN:
        raise GlobError(f"glob longer than {MAX_PATTERN} characters")
    out: list[tuple[int, object]] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            kind = _STAR
            if pathname and pattern.startswith("**", i):
                kind = _DSTAR
                i += 1
            if out and out[-1][0] in (_STAR, _DSTAR):  # runs of stars are one star
                kind = max(kind, out.pop()[0])
            out.append((kind, None))
        elif c == "?":
            out.append((_ANY, None))
        elif c == "[":
            j = i + 1
            if j < n and pattern[j] == "!":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            j = pattern.find("]", j)
            if j < 0:  # no closing bracket: a literal "["
                out.append((_LIT, c))
            else:
                out.append((_CLASS, _parse_class(pattern[i + 1:j], pattern)))
                i = j
        else:
            out.append((_LIT, c))
        i += 1
    out.append((_END, None))
    return out


class GlobSet:
    """Matches a subject against any of several globs (one automaton for all of them)."""

    def __init__(self, patterns: Iterable[str], *, pathname: bool = False,
                 anywhere: bool = False, ignorecase: bool = False) -> None:
        self.patterns = list(patterns)
        self.pathname, self.ignorecase = pathname, ignorecase
        tokens: list[tuple[int, object]] = []
        start = floating = stars = 0
        for pattern in self.patterns:
            base = len(tokens)
            start |= 1 << base
            if anywhere and not pattern.startswith("/"):
                floating |= 1 << base
            tokens += _tokens(pattern, pathname)
        for i, (kind, _) in enumerate(tokens):
            if kind in (_STAR, _DSTAR):
                stars |= 1 << i
        self._tokens, self._stars, self._floating = tokens, stars, floating
        self._accept = sum(1 << i for i, (kind, _) in enumerate(tokens) if kind == _END)
        self._start = self._close(start)
        self._masks: dict[str, tuple[int, int]] = {}
        # the lazily built DFA: state id → its NFA state set, its transitions (char → id)
        self._ids: dict[int, int] = {}
        self._sets: list[int] = []
        self._trans: list[dict[str, int]] = []  # -1: dead, the subject cannot match
        self._resets = 0

    def _close(self, state: int) -> int:
        # a star may match nothing: its state also stands at the next token (runs of stars
        # were merged, so one step reaches every state a star can skip to)
        return state | ((state & self._stars) << 1)

    def _hit(self, kind: int, data: object, c: str) -> bool:
        if self.pathname and c == "/" and kind in (_ANY, _STAR, _CLASS):
            return False
        if kind in (_ANY, _STAR, _DSTAR):
            return True
        chars = (c, c.lower(), c.upper()) if self.ignorecase else (c,)
        if kind == _LIT:
            return any(x == data for x in chars)
        negate, ranges = cast("tuple[bool, list[tuple[str, str]]]", data)
        inside = any(lo <= x <= hi for x in chars for lo, hi in ranges)
        return inside != negate

    def _masks_of(self, c: str) -> tuple[int, int]:
        """(states that move on to the next token on ``c``, star states that stay on ``c``)."""
        masks = self._masks.get(c)
        if masks is None:
            move = stay = 0
            for i, (kind, data) in enumerate(self._tokens):
                if kind != _END and self._hit(kind, data, c):
                    if kind in (_STAR, _DSTAR):
                        stay |= 1 << i
                    else:
                        move |= 1 << i
            if len(self._masks) >= _MAX_MEMO:
                self._masks.clear()
            masks = self._masks[c] = (move, stay)
        return masks

    def _step(self, state: int, c: str) -> int:
        move, stay = self._masks_of(c)
        nxt = ((state & move) << 1) | (state & stay)
        if c == "/":
            nxt |= self._floating
        return self._close(nxt)

    def _id(self, state: int) -> int:
        """The DFA state id of an NFA state set (a new one, or after a reset)."""
        sid = self._ids.get(state)
        if sid is None:
            if len(self._sets) >= _MAX_STATES:  # bounded memory: start the memo afresh
                self._ids.clear()
                self._sets.clear()
                self._trans.clear()
                self._resets += 1
            sid = self._ids[state] = len(self._sets)
            self._sets.append(state)
            self._trans.append({})
        return sid

    def run(self, text: str, state: int | None = None) -> int:
        """The live states after reading ``text`` from ``state`` (the start by default);
        feed the result back to continue (a directory's state serves all its files)."""
        sets, trans = self._sets, self._trans
        sid = self._id(self._start if state is None else state)
        for c in text:
            nxt = trans[sid].get(c)
            if nxt is None:
                bits = self._step(sets[sid], c)
                resets = self._resets
                # no live state, and none can come back (only "/" restarts a floating glob)
                nxt = -1 if not bits and not self._floating else self._id(bits)
                if resets == self._resets and len(trans[sid]) < _MAX_MEMO:
                    trans[sid][c] = nxt
            if nxt < 0:
                return 0
            sid = nxt
        return sets[sid]

    def accepts(self, state: int) -> bool:
        return bool(state & self._accept)

    def match(self, text: str) -> bool:
        """Whether one of the globs matches the whole of ``text``."""
        return bool(self.run(text) & self._accept)

    __call__ = match

    def filter_paths(self, paths: Iterable[str]) -> list[str]:
        """The paths one of the globs matches. A directory's state is computed once, from
        its parent's (so each path costs about the length of its last component)."""
        dirs: dict[str, int] = {"": self._start}
        accept, floating, run = self._accept, self._floating, self.run
        out = []
        for path in paths:
            cut = path.rfind("/") + 1
            head = path[:cut]
            state = dirs.get(head)
            if state is None:
                state = self._dir_state(head, dirs)
            if (state or floating) and run(path[cut:], state) & accept:
                out.append(path)
        return out

    def _dir_state(self, head: str, dirs: dict[str, int]) -> int:
        """The state after ``head`` (ending in "/"), from the nearest known ancestor's."""
        missing = []
        parent = head
        while parent not in dirs:
            missing.append(parent)
            parent = parent[:parent.rstrip("/").rfind("/") + 1] if parent.rstrip("/") else ""
        state = dirs[parent]
        if len(dirs) + len(missing) > _MAX_MEMO * 4:  # bounded memory
            dirs.clear()
            dirs[""] = self._start
        for child in reversed(missing):
            state = dirs[child] = self.run(child[len(parent):], state)
            parent = child
        return state


def compile_glob(pattern: str, *, pathname: bool = False, anywhere: bool = False,
                 ignorecase: bool = False) -> GlobSet:
    """One glob (``GlobError`` when it cannot be compiled)."""
    return GlobSet([pattern], pathname=pathname, anywhere=anywhere, ignorecase=ignorecase)


def regex_source(pattern: str, *, name: bool = False) -> str:
    """``pattern`` (plain: no ``pathname``, ``anywhere`` or ``ignorecase``) as the source of
    a ``re`` pattern that matches exactly the subjects ``compile_glob(pattern).match``
    accepts, for ``re.match`` (anchored at the end by ``\\Z``; ``GlobError`` as
    ``compile_glob``). With ``name`` (a pattern without "/"), it matches a path whose last
    component (after its last "/") the glob matches. For matching many subjects with one C
    call each (the TUI filter); it cannot backtrack badly: as ``fnmatch.translate`` (3.11),
    every run of tokens between two stars is an atomic group found by a lazy scan (the
    leftmost place it fits is always as good as any later one), so a subject costs O(n·m)
    at worst."""
    any_char, star = ("[^/]", "[^/]*") if name else (".", ".*")

    def token(kind: int, data: object) -> str:
        if kind == _LIT:
            return re.escape(cast(str, data))
        if kind == _ANY:
            return any_char
        negate, ranges = cast("tuple[bool, list[tuple[str, str]]]", data)
        body = "".join(re.escape(lo) if lo == hi else f"{re.escape(lo)}-{re.escape(hi)}"
                       for lo, hi in ranges)
        if not name:
            return f"[{'^' if negate else ''}{body}]"
        # within a name: never "/" (a range such as !-9 holds it)
        return f"[^{body}/]" if negate else f"(?!/)[{body}]"

    segments: list[list[str]] = [[]]
    for kind, data in _tokens(pattern, False):
        if kind == _STAR:
            segments.append([])
        elif kind != _END:
            segments[-1].append(token(kind, data))
    parts = ["(?:.*/)?" if name else "", "".join(segments[0])]
    if len(segments) > 1:
        parts += [f"(?>{star}?{''.join(s)})" for s in segments[1:-1]]
        parts.append(star + "".join(segments[-1]))
    return "(?s:" + "".join(parts) + r")\Z"
