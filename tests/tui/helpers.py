"""Helpers for the TUI tests: waiting on workers (never on sleeps), in-memory filesystems
built from tables, a bare app around one file view, and ``sync`` for async pilot tests."""

from __future__ import annotations

from textual.app import App, ComposeResult

from inspector.index.entries import DIR, FILE, SYMLINK, LayerIndex
from inspector.index.merge import merge

KINDS = {"file": FILE, "dir": DIR, "symlink": SYMLINK}


async def settle(pilot, rounds: int = 4) -> None:
    """Let workers finish and their messages be handled (loading posts a message that
    starts another worker: the tree build)."""
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def layer(entries, whiteouts=(), opaque=()) -> LayerIndex:
    """A LayerIndex from ``(path, kind, size)`` or ``(path, kind, size, mode)`` tuples;
    a symlink's target goes in place of its size."""
    index = LayerIndex()
    for entry in entries:
        path, kind = entry[0], KINDS[entry[1]]
        size = entry[2] if kind == FILE else 0
        mode = entry[3] if len(entry) > 3 else (0o755 if kind == DIR else 0o644)
        row = index.add(path, kind, size, mode, 0, 0)
        if kind == SYMLINK:
            index.targets[row] = entry[2]
    index.whiteouts.extend(whiteouts)
    index.opaque.extend(opaque)
    return index


def wide_fs(dirs: int, per_dir: int, *, big: str | None = None, big_count: int = 0):
    """A one-layer filesystem of ``dirs`` × ``per_dir`` files (plus ``big`` with
    ``big_count`` files), all in memory."""
    index = LayerIndex()
    for d in range(dirs):
        index.add(f"/d{d:04d}", DIR, 0, 0o755, 0, 0)
        for f in range(per_dir):
            index.add(f"/d{d:04d}/f{f:05d}", FILE, f, 0o644, 0, 0)
    if big:
        index.add(big, DIR, 0, 0o755, 0, 0)
        for f in range(big_count):
            index.add(f"{big}/e{f:05d}", FILE, 10, 0o644, 0, 0)
    return merge([index])


def sync(test):
    """Run an async test with ``asyncio.run`` (no async plugin is needed for a handful of
    pilot tests); fixtures still resolve through the wrapped signature."""
    import asyncio
    import functools

    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return wrapper


class TreeApp(App):
    """A bare app around one file view over ``fs`` (focused), for view-level tests."""

    def __init__(self, fs) -> None:
        super().__init__()
        self.fs = fs

    def compose(self) -> ComposeResult:
        from inspector.index.tree import DirTree, TreeRows
        from inspector.tui.widgets.file_view import FileView

        yield FileView(TreeRows(DirTree(self.fs)), id="files")

    def on_mount(self) -> None:
        from inspector.tui.widgets.file_view import FileView

        self.query_one(FileView).focus()
