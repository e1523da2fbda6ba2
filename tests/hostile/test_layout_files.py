"""Layouts that reach outside themselves (issue 11 item 3, item 7): a blob that is a
symlink out of the layout, a FIFO, a device or a directory is refused without being read,
and the error never tells the size of anything outside; a FIFO named on the command line
does not block; a descriptor ``size: 0`` does not switch the size check off; an archive
piped into ``-`` is read by spooling."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import pytest

from inspector.errors import FormatError, SizeMismatch
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

ROOT = Path(__file__).resolve().parents[2]
LAYER = make_layer({"etc/hostname": b"box\n"})
#: a size that appears nowhere else: if it shows in a message, the outside file leaked
SECRET_SIZE = 31337


def _layout(tmp_path: Path):
    root = tmp_path / "oci"
    written = write_oci_layout(root, [ImageSpec([LAYER])])
    return root, written.images[0]


def _blob(root: Path, digest: str) -> Path:
    return root / "blobs" / "sha256" / digest.split(":")[1]


def _secret(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "shadow"
    secret.parent.mkdir()
    secret.write_bytes(b"s" * SECRET_SIZE)
    return secret


def _replace(path: Path, kind: str, tmp_path: Path) -> None:
    path.unlink()
    if kind == "symlink out":
        path.symlink_to(_secret(tmp_path))
    elif kind == "relative symlink out":
        path.symlink_to(os.path.relpath(_secret(tmp_path), path.parent))
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "symlink to a device":
        path.symlink_to("/dev/zero")
    elif kind == "device":
        try:
            os.mknod(path, 0o600 | 0o020000, os.makedev(1, 5))  # /dev/zero's numbers
        except PermissionError:
            pytest.skip("mknod needs CAP_MKNOD")


KINDS = ["symlink out", "relative symlink out", "fifo", "directory", "symlink to a device", "device"]
BLOBS = [("manifest", lambda img: img.manifest_digest), ("config", lambda img: img.config_digest),
         ("layer", lambda img: img.layer_digests[0])]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("blob,digest_of", BLOBS, ids=[b[0] for b in BLOBS])
def test_blob_that_is_not_a_regular_file_inside_is_refused(tmp_path, capsys, kind, blob, digest_of):
    root, image = _layout(tmp_path)
    path = _blob(root, digest_of(image))
    _replace(path, kind, tmp_path)
    with pytest.raises(FormatError) as info:
        with open_image(f"oci:{root}", Options(cache_dir=tmp_path / "cache")) as img:
            for layer in img.layers:
                layer.open_compressed().close()
    assert info.value.where == str(root)
    line = assert_one_line_error(export(capsys, f"oci:{root}", tmp_path / "cache"), path.name)
    assert str(SECRET_SIZE) not in line


def test_symlink_inside_the_layout_is_followed(tmp_path):
    """skopeo-style deduplication by symlink inside the layout stays readable."""
    root, image = _layout(tmp_path)
    path = _blob(root, image.layer_digests[0])
    (root / "store").mkdir()
    path.rename(root / "store" / "layer")
    path.symlink_to(Path("../../store/layer"))
    with open_image(f"oci:{root}", Options(cache_dir=tmp_path / "cache")) as img:
        assert img.layers[0].open_compressed().read() == LAYER


@pytest.mark.parametrize("kind", ["symlink out", "fifo", "directory"])
def test_docker_archive_directory_with_a_hostile_layer_file(tmp_path, capsys, kind):
    tar = tmp_path / "save.tar"
    write_docker_archive(tar, [ImageSpec([make_layer({"a": b"1"}, compression=None)], ref_name="box:1")])
    root = tmp_path / "save"
    with tarfile.open(tar) as t:
        t.extractall(root, filter="tar")
    layer = root / json.loads((root / "manifest.json").read_text())[0]["Layers"][0]
    _replace(layer, kind, tmp_path)
    line = assert_one_line_error(export(capsys, f"docker-archive:{root}", tmp_path / "cache"), layer.name)
    assert str(SECRET_SIZE) not in line


def test_fifo_on_the_command_line_without_a_writer_does_not_block(tmp_path, capsys):
    fifo = tmp_path / "image.tar"
    os.mkfifo(fifo)
    assert_one_line_error(export(capsys, str(fifo), tmp_path / "cache"), str(fifo))


def test_fifo_on_the_command_line_with_a_writer_is_spooled(tmp_path, capsys):
    archive = tmp_path / "save.tar"
    write_docker_archive(archive, [ImageSpec([LAYER], ref_name="box:1")])
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    opened = threading.Event()

    def feed():
        with open(fifo, "wb") as w:
            opened.set()
            w.write(archive.read_bytes())

    # a reader holds the FIFO open so the writer's open returns; once the writer is
    # there, inspector's own open sees a pipe with a writer (as with `cat x | …`)
    holder = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        assert opened.wait(10)
        run = export(capsys, str(fifo), tmp_path / "cache")
    finally:
        os.close(holder)
    writer.join(10)
    assert run.code == 0, run.err
    assert json.loads(run.out)["source"] == "docker-archive"
    assert not list((tmp_path / "cache" / "tmp").glob("archive-*")), "the spool is removed"


def test_archive_piped_into_dash_is_spooled(tmp_path):
    archive = tmp_path / "save.tar"
    write_docker_archive(archive, [ImageSpec([LAYER], ref_name="box:1")])
    with open(archive, "rb") as stdin:
        proc = subprocess.run([sys.executable, "-m", "inspector", "export", "-", "-q",
                               "--cache-dir", str(tmp_path / "cache")], stdin=stdin,
                              capture_output=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(proc.stdout)["source"] == "docker-archive"


def test_dash_with_nothing_piped_in_is_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "inspector", "export", "-", "-q",
                           "--cache-dir", str(tmp_path / "cache")], stdin=subprocess.DEVNULL,
                          capture_output=True, cwd=ROOT, timeout=60)
    err = proc.stderr.decode()
    assert proc.returncode == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert "/dev/stdin" in err


@pytest.mark.parametrize("stored", [0, 1])
def test_descriptor_size_never_switches_the_check_off(tmp_path, capsys, stored):
    """A layer descriptor claiming 0 (or 1) bytes for a 100+ byte blob is a size mismatch."""
    root, image = _layout(tmp_path)
    manifest = json.loads(image.manifest_bytes)
    manifest["layers"][0]["size"] = stored
    data = json.dumps(manifest).encode()
    write_blobs(root, {sha256(data): data})
    index = json.loads((root / "index.json").read_text())
    index["manifests"][0].update(digest=sha256(data), size=len(data))
    (root / "index.json").write_text(json.dumps(index))
    with pytest.raises(SizeMismatch):
        with open_image(f"oci:{root}", Options(cache_dir=tmp_path / "cache")) as img:
            with img.layers[0].open_uncompressed() as f:
                while f.read(1 << 16):
                    pass
    assert_one_line_error(export(capsys, f"oci:{root}", tmp_path / "cache"), "layer 1")
