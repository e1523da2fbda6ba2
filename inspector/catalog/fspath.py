"""Path resolution inside the merged filesystem (symlinks, relative targets, ``..``).

Package databases name files as the package shipped them (``/bin/bash``); on a merged-/usr
image the file sits at ``/usr/bin/bash`` behind the ``/bin -> usr/bin`` symlink. Resolution
never leaves the image: an absolute target is taken relative to the image root, and
``..`` at the root stays there.

The walk is the kernel's (``namei``), iterative: components are taken from a stack, a
symlink's target is pushed onto it, and at most ``MAX_HOPS`` symlinks are followed per
lookup (``c -> c/c`` is a "symlink loop", not a recursion). Hostile images get linear
work, not quadratic:

- a run of plain names is probed as one path first (no symlink on the way: one lookup),
  else the longest existing prefix is found by bisection — every ancestor of an entry is
  a directory (the merge makes it so), so existence is monotone along the run;
- a symlink's resolution is kept (its path → result, hops and work), so a link many
  others go through is walked once; nothing else is kept per prefix;
- each lookup may build at most ``WORK_BUDGET`` characters of paths to probe (every probe
  is a full path string); past it the lookup fails as "name too long", as the kernel's
  ``PATH_MAX`` would have failed far earlier.
"""

from __future__ import annotations

from typing import NamedTuple

from inspector.index.entries import DIR, SYMLINK
from inspector.index.merge import IMPLIED_ROW, MergedFS

#: symlink hops before giving up (Linux's MAXSYMLINKS)
MAX_HOPS = 40
#: characters of probed paths one lookup may build (a few milliseconds of work)
WORK_BUDGET = 1 << 22
#: why a lookup found nothing (``Lookup.error``)
MISSING = "no such file or directory"
NOT_DIR = "not a directory"
LOOP = "symlink loop"
TOO_LONG = "name too long"


class Lookup(NamedTuple):
    """The result of one walk: the real path, or ``None`` and why."""

    path: str | None
    error: str | None = None


class _Mark(NamedTuple):
    """On the walk's stack below a symlink's target: when popped, the target is walked and
    the link's resolution is the current directory."""

    link: str
    hops: int
    work: int


class _Exhausted(Exception):
    def __init__(self, error: str) -> None:
        self.error = error


def _names(path: str) -> list[str]:
    """``path``'s components in reverse (a stack: the first on top); no empty or ``.``."""
    names = [name for name in path.split("/") if name and name != "."]
    names.reverse()
    return names


class Resolver:
    """Resolves paths in ``fs``. Symlink resolutions are kept (one per link met), and
    ``directory`` answers are kept per path asked."""

    def __init__(self, fs: MergedFS) -> None:
        self.fs = fs
        self._dirs: dict[str, str | None] = {"/": "/"}
        #: symlink path → (result, hops, work, error): its target, walked from its directory
        self._links: dict[str, tuple[str | None, int, int, str | None]] = {}
        #: one string object per distinct result (many links may resolve to one long path)
        self._canon: dict[str, str] = {}

    def directory(self, path: str) -> str | None:
        """The real directory ``path`` names (all components resolved), or ``None``."""
        cached = self._dirs.get(path, "")
        if cached != "":
            return cached
        result = self._dirs[path] = self.lookup(path).path
        return result

    def parent_resolved(self, path: str) -> str | None:
        """``path`` with its directory resolved, its last component kept as is."""
        cut = path.rfind("/")
        if cut < 0:
            return None
        parent = self.directory(path[:cut] or "/")
        if parent is None:
            return None
        return (parent.rstrip("/") or "") + "/" + path[cut + 1:]

    def resolve(self, path: str) -> str | None:
        """``path`` with every symlink followed (the last one too); ``None`` if dangling,
        a loop, or through a non-directory (``lookup`` says which)."""
        return self.lookup(path).path

    def lookup(self, path: str, follow_last: bool = True) -> Lookup:
        """Walk ``path`` (taken as absolute) as the kernel would, inside the image."""
        walk = _Walk(self, follow_last)
        try:
            result = walk.run(_names(path))
        except _Exhausted as exc:
            walk.fail(exc.error)
            return Lookup(None, exc.error)
        if result is None:
            walk.fail(walk.error)
            return Lookup(None, walk.error)
        return Lookup(self._canon.setdefault(result, result))

    def _node(self, path: str) -> tuple[int, str | None]:
        """``path``'s kind and symlink target (``path`` is in the filesystem)."""
        if path == "/":
            return DIR, None
        li, row = self.fs.ref(path)
        if row == IMPLIED_ROW:
            return DIR, None
        index = self.fs.layers[li]
        kind = index.kinds[row]
        return kind, index.targets.get(row) if kind == SYMLINK else None


class _Walk:
    """One lookup's state: the stack of names, the current directory, hops and work."""

    def __init__(self, resolver: Resolver, follow_last: bool) -> None:
        self.resolver, self.follow_last = resolver, follow_last
        self.entries = resolver.fs.entries
        self.hops = self.work = 0
        self.names = 0  # names (not marks) on the stack
        self.open: list[_Mark] = []  # symlinks whose targets are being walked
        self.error = MISSING

    def spend(self, chars: int) -> None:
        self.work += chars
        if self.work > WORK_BUDGET:
            raise _Exhausted(TOO_LONG)

    def probe(self, path: str) -> bool:
        self.spend(len(path))
        return path in self.entries

    def push(self, stack: list, names: list[str]) -> None:
        stack.extend(names)
        self.names += len(names)

    def run(self, stack: list) -> str | None:
        self.names = len(stack)
        current, is_dir = "/", True
        while stack:
            item = stack.pop()
            if isinstance(item, _Mark):  # a link's target is walked: remember where to
                self.open.pop()
                current = self.resolver._canon.setdefault(current, current)
                self.resolver._links[item.link] = (current, self.hops - item.hops,
                                                   self.work - item.work, None)
                continue
            self.names -= 1
            if not is_dir:  # a name below a file (the marks above it are done)
                self.error = NOT_DIR
                return None
            if item == "..":
                self.spend(len(current))
                current = current[:current.rfind("/")] or "/"
                continue
            run = [item]
            while stack and type(stack[-1]) is str and stack[-1] != "..":
                run.append(stack.pop())
            self.names -= len(run) - 1
            base = "" if current == "/" else current
            if self.probe(base + "/" + "/".join(run)):
                k = len(run)
            else:  # the longest existing prefix (existence is monotone along the run)
                lo, hi = 0, len(run) - 1  # prefix lo exists (0: current), prefix hi + 1 not
                while lo < hi:
                    mid = (lo + hi + 1) // 2
                    if self.probe(base + "/" + "/".join(run[:mid])):
                        lo = mid
                    else:
                        hi = mid - 1
                k = lo
                if k == 0:
                    self.error = MISSING
                    return None
            node = base + "/" + "/".join(run[:k])
            rest = run[k:]
            rest.reverse()
            kind, target = self.resolver._node(node)
            if kind == SYMLINK and (rest or self.names or self.follow_last):
                self.push(stack, rest)
                parent = current if k == 1 else node[:node.rfind("/")]
                entered = self.follow(stack, node, target or "", parent)
                if entered is None:
                    return None
                current, is_dir = entered
                continue
            if rest:  # the name after ``node`` is missing, or ``node`` is not a directory
                self.error = MISSING if kind == DIR else NOT_DIR
                return None
            current, is_dir = node, kind == DIR
        return current

    def follow(self, stack: list, link: str, target: str,
               parent: str) -> tuple[str, bool] | None:
        """Enter ``link`` (in directory ``parent``): its kept resolution, or its target
        pushed onto the stack above a mark. The new current path and whether it is a
        directory; ``None`` when the kept resolution is a failure."""
        known = self.resolver._links.get(link)
        if known is not None:
            result, hops, work, error = known
            self.hops += hops
            self.work += work
            if error is not None:
                self.error = error
                return None
            if self.hops > MAX_HOPS:
                raise _Exhausted(LOOP)
            if self.work > WORK_BUDGET:
                raise _Exhausted(TOO_LONG)
            assert result is not None
            return result, self.resolver._node(result)[0] == DIR
        self.hops += 1
        if self.hops > MAX_HOPS:
            raise _Exhausted(LOOP)
        self.spend(len(target))
        mark = _Mark(link, self.hops - 1, self.work - len(target))
        stack.append(mark)
        self.open.append(mark)
        self.push(stack, _names(target))
        return ("/" if target.startswith("/") else parent), True

    def fail(self, error: str) -> None:
        """Keep the failure for the links being walked, when it is theirs in any lookup:
        a missing name or a non-directory always; a loop only for the first link entered
        (it alone used every hop); an overlong walk never (a fresher lookup may do)."""
        links = self.resolver._links
        for mark in self.open:
            if error in (MISSING, NOT_DIR) or (error == LOOP and mark.hops == 0):
                links[mark.link] = (None, self.hops - mark.hops, self.work - mark.work, error)
