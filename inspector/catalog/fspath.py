"""Path resolution inside the merged filesystem (symlinks, relative targets, ``..``).

Package databases name files as the package shipped them (``/bin/bash``); on a merged-/usr
image the file sits at ``/usr/bin/bash`` behind the ``/bin -> usr/bin`` symlink. Resolution
never leaves the image: an absolute target is taken relative to the image root.
"""

from __future__ import annotations

import posixpath

from inspector.index.entries import SYMLINK
from inspector.index.merge import IMPLIED_ROW, MergedFS

#: symlink hops before giving up (Linux's MAXSYMLINKS)
MAX_HOPS = 40


class Resolver:
    """Resolves paths in ``fs``; directory resolutions are cached (one per directory)."""

    def __init__(self, fs: MergedFS) -> None:
        self.fs = fs
        self._dirs: dict[str, str | None] = {"/": "/"}

    def _link(self, path: str) -> str | None:
        at = self.fs.find(path)
        if at is None or at[1] == IMPLIED_ROW:
            return None
        index, row = self.fs.layers[at[0]], at[1]
        return index.targets.get(row) if index.kinds[row] == SYMLINK else None

    def directory(self, path: str) -> str | None:
        """The real directory ``path`` names (all components resolved), or ``None``."""
        cached = self._dirs.get(path, "")
        if cached != "":
            return cached
        result = self._resolve(path, follow_last=True)
        self._dirs[path] = result
        return result

    def parent_resolved(self, path: str) -> str | None:
        """``path`` with its directory resolved, its last component kept as is."""
        cut = path.rfind("/")
        parent = self.directory(path[:cut] or "/")
        if parent is None:
            return None
        return (parent.rstrip("/") or "") + "/" + path[cut + 1:] if cut >= 0 else None

    def resolve(self, path: str) -> str | None:
        """``path`` with every symlink followed (the last one too); ``None`` if dangling."""
        return self._resolve(path, follow_last=True)

    def _parent(self, head: str) -> str | None:
        """``directory(head)`` without recursing once per level (hostile layers nest
        thousands of directories): climb to the nearest resolved ancestor, then resolve
        each level on the way down, its own parent already known."""
        chain = []
        while self._dirs.get(head, "") == "":
            chain.append(head)
            head = head[:head.rfind("/")] or "/"
        result = self._dirs[head]
        for head in reversed(chain):
            result = self._dirs[head] = self._resolve(head, follow_last=True)
        return result

    def _resolve(self, path: str, follow_last: bool) -> str | None:
        hops = 0
        path = posixpath.normpath("/" + path.lstrip("/"))
        while True:
            if path == "/":
                return "/"
            cut = path.rfind("/")
            head = path[:cut] or "/"
            name = path[cut + 1:]
            parent = self._dirs.get(head, "")
            if parent == "":
                parent = self._parent(head)
            if parent is None:
                return None
            full = (parent if parent != "/" else "") + "/" + name
            if full not in self.fs.entries:
                return None
            target = self._link(full) if follow_last else None
            if target is None:
                return full
            hops += 1
            if hops > MAX_HOPS:
                return None
            base = parent if not target.startswith("/") else "/"
            path = posixpath.normpath(posixpath.join(base, target))
            if path.startswith("//"):
                path = "/" + path.lstrip("/")
