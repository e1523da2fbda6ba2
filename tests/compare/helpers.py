"""Fixture images for the compare tests: OCI layouts written in code, opened by ``oci:``."""

from __future__ import annotations

from pathlib import Path

from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout

Files = dict[str, "bytes | Entry"]


def layout(root: Path, images: dict[str, list[bytes]]) -> dict[str, str]:
    """Write ``images`` (name → layer blobs, base first) into one OCI layout; returns
    name → ``oci:ROOT:NAME`` reference."""
    write_oci_layout(root, [ImageSpec(layers, ref_name=name) for name, layers in images.items()])
    return {name: f"oci:{root}:{name}" for name in images}


def layer(files: Files, whiteouts=()) -> bytes:
    return make_layer(files, whiteouts=whiteouts)


__all__ = ["Entry", "layer", "layout"]
