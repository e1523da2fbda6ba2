"""Property tests: any JSON value put anywhere in an index, manifest, config or docker-save
manifest.json gives either a readable image or an ``InspectorError`` — never another
exception (issue 11, "random JSON shapes").

The documents live in an in-memory ``Store``; an edited document is re-addressed (new
digest and size in its parent) so the parser, not the digest check, meets it.
"""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.errors import InspectorError
from inspector.options import Options
from inspector.sources.archive import Store
from inspector.sources.base import validate_image
from inspector.sources.docker_archive import open_docker_store
from inspector.sources.oci_layout import open_layout
from tests.builders import ImageSpec, build_image, image_index, make_layer, sha256

pytestmark = pytest.mark.timeout(300)

KEYS = ["mediaType", "digest", "size", "manifests", "layers", "config", "platform", "os",
        "architecture", "variant", "rootfs", "diff_ids", "history", "created_by", "empty_layer",
        "annotations", "data", "urls", "schemaVersion", "Env", "Labels", "Config", "Layers",
        "RepoTags", "LayerSources"]
SCALARS = (st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70) | st.floats(allow_nan=True)
           | st.text(max_size=8)
           | st.sampled_from(["sha256:" + "a" * 64, "sha256:", "sha512:" + "b" * 64, "linux/arm64",
                              "application/vnd.oci.image.index.v1+json",
                              "application/vnd.oci.image.manifest.v1+json",
                              "application/vnd.docker.distribution.manifest.v1+json",
                              "../../etc/passwd", "@0"]))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), inner, max_size=4),
                    max_leaves=12)


class MemStore(Store):
    where = "mem"

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    def exists(self, name: str) -> bool:
        return name in self.files

    def size(self, name: str) -> int:
        if name not in self.files:
            raise self.missing(name)
        return len(self.files[name])

    def open(self, name: str):
        if name not in self.files:
            raise self.missing(name)
        return io.BytesIO(self.files[name])

    def names(self) -> list[str]:
        return sorted(self.files)


def _paths(doc, prefix=()):
    """Every (path, value) inside a JSON document, the root included."""
    yield prefix, doc
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, prefix + (i,))


def _mutate(data, doc, value, delete: bool):
    """``doc`` with one place (drawn from ``data``) replaced by ``value`` or deleted."""
    doc = json.loads(json.dumps(doc))
    paths = [p for p, _ in _paths(doc)]
    path = data.draw(st.sampled_from(paths))
    if not path:
        return value
    parent = doc
    for k in path[:-1]:
        parent = parent[k]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return doc


def _blob(digest: str) -> str:
    return "blobs/" + digest.replace(":", "/")


def _layout(data, which: str) -> MemStore:
    built, blobs = build_image(ImageSpec([make_layer({"etc/hostname": b"box\n"})]))
    manifest, config = json.loads(built.manifest_bytes), json.loads(built.config_bytes)
    files = {_blob(d): b for d, b in blobs.items()}
    value, delete = data.draw(JSON), data.draw(st.booleans())
    if which == "config":
        config = _mutate(data, config, value, delete)
        cfg = json.dumps(config).encode()
        files[_blob(sha256(cfg))] = cfg
        manifest["config"].update(digest=sha256(cfg), size=len(cfg))
    if which == "manifest":
        manifest = _mutate(data, manifest, value, delete)
    man = json.dumps(manifest).encode()
    files[_blob(sha256(man))] = man
    index = json.loads(image_index([{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                     "digest": sha256(man), "size": len(man)}]))
    if which == "index":
        index = _mutate(data, index, value, delete)
    files["index.json"] = json.dumps(index).encode()
    files["oci-layout"] = b'{"imageLayoutVersion": "1.0.0"}'
    return MemStore(files)


def _read(image) -> None:
    """Everything a report reads of an opened image."""
    with image:
        validate_image(image)
        image.created_by()
        assert isinstance(image.config, dict)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), which=st.sampled_from(["index", "manifest", "config"]))
def test_layout_documents_with_random_shapes(data, which):
    store = _layout(data, which)
    try:
        image = open_layout(store, None, Options(), reference="fuzz", source="oci")
        _read(image)
    except InspectorError:
        pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_docker_manifest_json_with_random_shapes(data):
    layer = make_layer({"etc/hostname": b"box\n"}, compression=None)
    built, blobs = build_image(ImageSpec([layer]))
    files = {"config.json": built.config_bytes, "layer.tar": layer}
    items = [{"Config": "config.json", "RepoTags": ["box:1"], "Layers": ["layer.tar"]}]
    items = _mutate(data, items, data.draw(JSON), data.draw(st.booleans()))
    files["manifest.json"] = json.dumps(items).encode()
    try:
        image = open_docker_store(MemStore(files), None, Options(), reference="fuzz", source="docker-archive")
        _read(image)
    except InspectorError:
        pass
