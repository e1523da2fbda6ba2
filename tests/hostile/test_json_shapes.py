"""JSON of the wrong shape anywhere in index.json, a manifest, a config, oci-layout or a
docker-save manifest.json: a ``FormatError`` naming the document and the field, and from
the CLI one line, exit 1, no traceback (issue 11 item 2).

Each case edits one field of a valid layout and re-addresses what it changed (a new
manifest/config digest), so the document reaches the parser instead of failing its digest.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from inspector.errors import FormatError
from inspector.options import Options
from inspector.sources.resolve import open_image
from tests.builders import (
    ImageSpec,
    make_layer,
    sha256,
    write_blobs,
    write_docker_archive,
    write_oci_layout,
)
from tests.hostile.clirun import assert_one_line_error, export

pytestmark = pytest.mark.timeout(60)

LAYER = make_layer({"etc/hostname": b"box\n"})
GOOD_HEX = "a" * 64


def _write_json(root: Path, doc) -> tuple[str, int]:
    data = json.dumps(doc).encode() if not isinstance(doc, bytes) else doc
    write_blobs(root, {sha256(data): data})
    return sha256(data), len(data)


def _index(root: Path, edit) -> None:
    index = json.loads((root / "index.json").read_text())
    index = edit(index) or index
    (root / "index.json").write_text(json.dumps(index))


def _manifest(root: Path, edit) -> None:
    entry = json.loads((root / "index.json").read_text())["manifests"][0]
    doc = json.loads((root / "blobs/sha256" / entry["digest"].split(":")[1]).read_bytes())
    doc = edit(doc) or doc
    digest, size = _write_json(root, doc)

    def repoint(index):
        index["manifests"][0].update(digest=digest, size=size)
    _index(root, repoint)


def _config(root: Path, edit) -> None:
    def rewrite(manifest):
        cfg = json.loads((root / "blobs/sha256" / manifest["config"]["digest"].split(":")[1]).read_bytes())
        cfg = edit(cfg) or cfg
        digest, size = _write_json(root, cfg)
        manifest["config"].update(digest=digest, size=size)
    _manifest(root, rewrite)


def _set(path: str, value):
    """An edit setting ``a.b[0].c`` (``[i]`` indexes a list) to ``value``."""
    import re

    keys = [int(k[1:-1]) if k.startswith("[") else k for k in re.findall(r"\[\d+\]|[^.\[\]]+", path)]

    def edit(doc):
        target = doc
        for k in keys[:-1]:
            target = target[k]
        target[keys[-1]] = value
    return edit


def _drop(*keys):
    """An edit deleting ``doc[k1][k2]…``."""
    def edit(doc):
        for k in keys[:-1]:
            doc = doc[k]
        del doc[keys[-1]]
    return edit


LAYOUT_CASES = [  # (name, document editor, edit, field named)
    ("index: manifests a string", _index, _set("manifests", "x"), "manifests"),
    ("index: manifests missing", _index, _drop("manifests"), "manifests"),
    ("index: entry a string", _index, _set("manifests[0]", "sha256:" + GOOD_HEX), "manifests[0]"),
    ("index: digest an int", _index, _set("manifests[0].digest", 12345), "manifests[0].digest"),
    ("index: digest short", _index, _set("manifests[0].digest", "sha256:abc"), "manifests[0].digest"),
    ("index: digest upper case", _index, _set("manifests[0].digest", "sha256:" + "A" * 64), "manifests[0].digest"),
    ("index: digest md5", _index, _set("manifests[0].digest", "md5:" + "a" * 32), "manifests[0].digest"),
    ("index: sha512 of sha256 length", _index, _set("manifests[0].digest", "sha512:" + GOOD_HEX),
     "manifests[0].digest"),
    ("index: size a string", _index, _set("manifests[0].size", "12"), "manifests[0].size"),
    ("index: size negative", _index, _set("manifests[0].size", -1), "manifests[0].size"),
    ("index: size a boolean", _index, _set("manifests[0].size", True), "manifests[0].size"),
    ("index: size 2**64", _index, _set("manifests[0].size", 2 ** 64), "manifests[0].size"),
    ("index: platform a string", _index, _set("manifests[0].platform", "linux/amd64"), "manifests[0].platform"),
    ("index: platform.architecture an int", _index, _set("manifests[0].platform.architecture", 64),
     "manifests[0].platform.architecture"),
    ("index: annotations a list", _index, _set("manifests[0].annotations", ["a"]), "manifests[0].annotations"),
    ("index: ref.name an int", _index, _set("manifests[0].annotations", {"org.opencontainers.image.ref.name": 5}),
     "manifests[0].annotations.org.opencontainers.image.ref.name"),
    ("index: data null", _index, _set("manifests[0].data", None), "manifests[0].data"),
    ("index: mediaType a list", _index, _set("manifests[0].mediaType", ["x"]), "manifests[0].mediaType"),
    ("index: urls a string", _index, _set("manifests[0].urls", "http://x"), "manifests[0].urls"),
    ("index: a list", _index, lambda doc: [doc], None),
    ("manifest: config a string", _manifest, _set("config", "sha256:" + GOOD_HEX), "config"),
    ("manifest: config missing", _manifest, _drop("config"), "config"),
    ("manifest: config.digest an int", _manifest, _set("config.digest", 7), "config.digest"),
    ("manifest: config.size missing", _manifest, _drop("config", "size"), "config.size"),
    ("manifest: layers a string", _manifest, _set("layers", "none"), "layers"),
    ("manifest: layers[0] null", _manifest, _set("layers[0]", None), "layers[0]"),
    ("manifest: layers[0].size a string", _manifest, _set("layers[0].size", "10"), "layers[0].size"),
    ("manifest: layers[0].size 2**63", _manifest, _set("layers[0].size", 2 ** 63), "layers[0].size"),
    ("manifest: layers[0].digest path", _manifest, _set("layers[0].digest", "sha256:../../../etc/passwd"),
     "layers[0].digest"),
    ("manifest: mediaType an int", _manifest, _set("mediaType", 2), "mediaType"),
    ("manifest: annotations a string", _manifest, _set("annotations", "x"), "annotations"),
    ("manifest: a list", _manifest, lambda doc: [doc], None),
    ("manifest: not UTF-8", _manifest, lambda doc: b"\xff\xfe{", None),
    ("manifest: nested 100000 deep", _manifest, lambda doc: b"[" * 100_000 + b"]" * 100_000, None),
    ("config: history a string", _config, _set("history", "made by hand"), "history"),
    ("config: history[0] a string", _config, _set("history[0]", "x"), "history[0]"),
    ("config: created_by an int", _config, _set("history[0].created_by", 1), "history[0].created_by"),
    ("config: empty_layer a string", _config, _set("history[0].empty_layer", "yes"), "history[0].empty_layer"),
    ("config: rootfs a list", _config, _set("rootfs", []), "rootfs"),
    ("config: diff_ids a string", _config, _set("rootfs.diff_ids", "sha256:" + GOOD_HEX), "rootfs.diff_ids"),
    ("config: diff_id an int", _config, _set("rootfs.diff_ids[0]", 0), "rootfs.diff_ids[0]"),
    ("config: diff_id not hex", _config, _set("rootfs.diff_ids[0]", "sha256:" + "z" * 64), "rootfs.diff_ids[0]"),
    ("config: os an int", _config, _set("os", 1), "os"),
    ("config: architecture a list", _config, _set("architecture", ["amd64"]), "architecture"),
    ("config: Env a string", _config, _set("config.Env", "PATH=/bin"), "config.Env"),
    ("config: Env[0] an int", _config, _set("config.Env", [1]), "config.Env[0]"),
    ("config: Labels a list", _config, _set("config.Labels", ["a=b"]), "config.Labels"),
    ("config: label value an int", _config, _set("config.Labels", {"a": 1}), "config.Labels.a"),
    ("config: config a string", _config, _set("config", "x"), "config"),
    ("config: a list", _config, lambda doc: [doc], None),
    ("oci-layout: version an int", None, None, "imageLayoutVersion"),
]


def _layout(tmp_path: Path) -> Path:
    root = tmp_path / "oci"
    write_oci_layout(root, [ImageSpec([LAYER])])
    return root


@pytest.mark.parametrize("name,document,edit,field", LAYOUT_CASES, ids=[c[0] for c in LAYOUT_CASES])
def test_layout_json_of_the_wrong_shape(tmp_path, capsys, name, document, edit, field):
    root = _layout(tmp_path)
    if document is None:
        (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": 1}))
    else:
        document(root, edit)
    with pytest.raises(FormatError) as info:
        open_image(f"oci:{root}", Options(cache_dir=tmp_path / "cache"))
    assert info.value.field == field
    assert info.value.where and str(root) in info.value.where
    run = export(capsys, f"oci:{root}", tmp_path / "cache")
    assert_one_line_error(run, str(root), *([field] if field else []))


def _docker_dir(tmp_path: Path) -> Path:
    tar = tmp_path / "save.tar"
    write_docker_archive(tar, [ImageSpec([LAYER], ref_name="box:1")], "legacy")
    root = tmp_path / "save"
    with tarfile.open(tar) as t:
        t.extractall(root, filter="tar")
    return root


MANIFEST_JSON_CASES = [  # (name, edit of the parsed manifest.json, field named)
    ("an object", lambda items: {"items": items}, "top level"),
    ("entry a string", lambda items: ["x"], "[0]"),
    ("Config an int", _set("[0].Config", 1), "[0].Config"),
    ("Config missing", _drop(0, "Config"), "[0].Config"),
    ("Layers a string", _set("[0].Layers", "layer.tar"), "[0].Layers"),
    ("Layers[0] null", _set("[0].Layers[0]", None), "[0].Layers[0]"),
    ("RepoTags a string", _set("[0].RepoTags", "box:1"), "[0].RepoTags"),
    ("RepoTags[0] an int", _set("[0].RepoTags", [1]), "[0].RepoTags[0]"),
    ("LayerSources a list", _set("[0].LayerSources", []), "[0].LayerSources"),
]


@pytest.mark.parametrize("name,edit,field", MANIFEST_JSON_CASES, ids=[c[0] for c in MANIFEST_JSON_CASES])
def test_docker_manifest_json_of_the_wrong_shape(tmp_path, capsys, name, edit, field):
    root = _docker_dir(tmp_path)
    items = json.loads((root / "manifest.json").read_text())
    items = edit(items) or items
    (root / "manifest.json").write_text(json.dumps(items))
    with pytest.raises(FormatError) as info:
        open_image(f"docker-archive:{root}", Options(cache_dir=tmp_path / "cache"))
    assert info.value.field == field
    assert_one_line_error(export(capsys, f"docker-archive:{root}", tmp_path / "cache"), field)


def test_docker_archive_config_of_the_wrong_shape_in_a_tar(tmp_path, capsys):
    """The same validators run on a tar read in place (legacy config ``<hex>.json``)."""
    root = _docker_dir(tmp_path)
    item = json.loads((root / "manifest.json").read_text())[0]
    config = json.loads((root / item["Config"]).read_text())
    config["history"] = {"created_by": "x"}
    (root / item["Config"]).write_text(json.dumps(config))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for p in sorted(root.rglob("*")):
            tar.add(p, arcname=p.relative_to(root).as_posix(), recursive=False)
    (tmp_path / "bad.tar").write_bytes(buf.getvalue())
    with pytest.raises(FormatError) as info:
        open_image(str(tmp_path / "bad.tar"), Options(cache_dir=tmp_path / "cache"))
    assert info.value.field == "history"
    assert_one_line_error(export(capsys, str(tmp_path / "bad.tar"), tmp_path / "cache"), "history")
