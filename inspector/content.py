"""A file's content, which the index does not keep: re-open the layer that wrote it (local
layout or the registry's blob cache), stream the tar with ``tarfile`` (mode ``r|``) to the
member and read at most ``CONTENT_CAP`` bytes — or, for a registry layer with a table of
contents, fetch the file's first frames by range (``index.toc_files``), never the blob. Blocking: the TUI calls it from a worker
thread. ``view_text`` says what a path is in one image, for the side-by-side viewer."""

from __future__ import annotations

import posixpath
import tarfile

from inspector.errors import FormatError, InspectorError, LayerError
from inspector.index import toc_files
from inspector.index.entries import DIR, FILE, HARDLINK, SYMLINK
from inspector.index.merge import MergedFS
from inspector.sources.base import Image

#: bytes of a file's content shown at most
CONTENT_CAP = 1 << 20
#: bytes of a binary file shown as hex (a hex dump is 4x larger than its input)
HEX_CAP = 64 << 10


def _norm(name: str) -> str:
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return "/" + "/".join(parts)


def read_member(image: Image, layer: int, path: str, cap: int = CONTENT_CAP,
                notices: list[str] | None = None) -> tuple[bytes, bool]:
    """The first ``cap`` bytes of ``path`` as written by layer ``layer`` (base-first), and
    whether the file is longer. A layer with a table of contents is read through it; when
    that fails, the blob is read whole and ``notices`` gets one line saying so."""
    what = f"{image.reference}: layer {layer + 1}"
    if toc_files.usable(image.layers[layer]):
        try:
            got = toc_files.read(image.layers[layer], {path: cap})
        except FormatError as exc:
            if notices is not None:
                notices.append(f"{exc}; reading the whole layer instead")
        else:
            if path not in got:
                raise LayerError(f"{what}: {path} not found in the layer's table of contents")
            listed = got[path]
            if listed is None:
                raise LayerError(f"{what}: {path} is not a regular file")
            return listed[0], listed[1] > cap
    try:
        stream = image.layers[layer].open_uncompressed()
        with stream, tarfile.open(fileobj=stream, mode="r|") as tar:
            found = None
            for member in tar:
                if _norm(member.name) == path:
                    found = member  # last one wins, as in the merge
                    if member.isfile():
                        f = tar.extractfile(member)
                        assert f is not None
                        data = f.read(cap)
                        return data, member.size > cap
            if found is not None:
                raise LayerError(f"{what}: {path} is not a regular file")
    except InspectorError:
        raise
    except (OSError, tarfile.TarError) as exc:
        raise LayerError(f"{what}: cannot read {path}: {exc}") from exc
    raise LayerError(f"{what}: {path} not found in the layer tar")


def is_binary(data: bytes) -> bool:
    if b"\0" in data[:8192]:
        return True
    try:
        data[:8192].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(data[:8192]) - 4  # a cut multi-byte char at the end is fine
    return False


def hexdump(data: bytes) -> str:
    lines = []
    for off in range(0, min(len(data), HEX_CAP), 16):
        chunk = data[off:off + 16]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{off:08x}  {hexes:<47}  {text}")
    return "\n".join(lines)


def render_content(data: bytes, truncated: bool) -> str:
    """Text as text, binary as a hex dump; a last line says when it was cut."""
    if is_binary(data):
        out = hexdump(data)
        if len(data) > HEX_CAP or truncated:
            out += f"\n… (binary: first {min(len(data), HEX_CAP):,} bytes shown)"
        return out
    out = data.decode("utf-8", errors="replace")
    if truncated:
        out += f"\n… (cut at {len(data):,} bytes)"
    return out


#: hardlinks followed at most (a chain longer than this is malformed)
MAX_LINKS = 8


def data_path(fs: MergedFS, path: str) -> str:
    """Where ``path``'s bytes live: a hardlink's target (followed up to ``MAX_LINKS``)."""
    for _ in range(MAX_LINKS):
        if path not in fs.entries or fs.kind(path) != HARDLINK:
            break
        path = fs.target(path) or path
    return path


def link_target(fs: MergedFS, path: str) -> str | None:
    """The absolute, normalised path a symlink points to (None: not a symlink)."""
    if path not in fs.entries or fs.kind(path) != SYMLINK:
        return None
    target = fs.target(path) or ""
    joined = target if target.startswith("/") else posixpath.join(posixpath.dirname(path),
                                                                 target)
    return posixpath.normpath(joined) or "/"


def view_text(image: Image, fs: MergedFS, path: str) -> str:
    """What ``path`` is in one image, as text for a viewer: the content (text or hex),
    ``absent``, a directory's entry count, a symlink's target, or the error."""
    if path not in fs.entries:
        return "absent: this image has no " + path
    path = data_path(fs, path)
    kind = fs.kind(path) if path in fs.entries else DIR
    if kind == DIR:
        kids = sum(1 for p in fs.entries if p.startswith(path.rstrip("/") + "/"))
        return f"directory ({kids:,} entries below it)"
    if kind == SYMLINK:
        return f"symbolic link → {fs.target(path)}"
    if fs.size(path) == 0 and kind != FILE:
        return f"{fs.kind_name(path)} (no content)"
    try:
        data, truncated = read_member(image, *fs.source(path))
    except InspectorError as exc:
        return f"cannot read: {exc}"
    return render_content(data, truncated)
