"""``-o FILE`` (issue 11 item 5): an unwritable place or a full disk is one line, exit 1,
and leaves no 0-byte or partial file (nor our temporary file); an older report survives a
failed run; ``-o`` naming the input image is refused before anything is written."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from inspector import cli
from inspector.commands.context import open_output
from inspector.errors import OutputError
from tests.builders import ImageSpec, make_layer, write_docker_archive, write_oci_layout
from tests.hostile.clirun import Run, assert_one_line_error, export

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]
LAYER = make_layer({"etc/hostname": b"box\n", "etc/motd": b"hello\n" * 50})


@pytest.fixture
def layout(tmp_path) -> Path:
    root = tmp_path / "oci"
    write_oci_layout(root, [ImageSpec([LAYER])])
    return root


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []


UNWRITABLE = [  # (name, -o relative to tmp_path (a file is created at "file"), named in the error)
    ("missing directory", "nowhere/out.json", "nowhere/out.json"),
    ("under a regular file", "file/out.json", "file/out.json"),
    ("an existing directory", "adir", "adir"),
]


@pytest.mark.parametrize("name,target,named", UNWRITABLE, ids=[u[0] for u in UNWRITABLE])
def test_unwritable_output_is_one_line(tmp_path, capsys, layout, name, target, named):
    (tmp_path / "file").write_text("keep")
    (tmp_path / "adir").mkdir()
    before = _leftovers(tmp_path)
    run = export(capsys, f"oci:{layout}", tmp_path / "cache", "--no-cache", "-o", str(tmp_path / target))
    assert_one_line_error(run, named)
    assert _leftovers(tmp_path) == before
    assert (tmp_path / "file").read_text() == "keep"


def test_device_output_that_is_full_is_one_line(tmp_path, capsys, layout):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    run = export(capsys, f"oci:{layout}", tmp_path / "cache", "--no-cache", "-o", "/dev/full")
    assert_one_line_error(run, "/dev/full")


def _limit_file_size() -> None:
    """In the child: files may not grow past 2 kB (EFBIG instead of SIGXFSZ), as a full disk."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))


def test_full_disk_leaves_no_file(tmp_path, layout):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    proc = subprocess.run([sys.executable, "-m", "inspector", "export", f"oci:{layout}", "-q", "--no-cache",
                           "-o", str(out_dir / "report.json")], capture_output=True, cwd=ROOT, timeout=60,
                          preexec_fn=_limit_file_size)
    run = Run(proc.returncode, proc.stdout.decode(), proc.stderr.decode())
    assert_one_line_error(run, "report.json")
    assert _leftovers(out_dir) == [], "neither the report nor the temporary file is left"


def test_failed_run_keeps_the_older_report(tmp_path, capsys, layout):
    report = tmp_path / "report.json"
    report.write_text('{"older": true}')
    (layout / "index.json").write_text('{"manifests": "broken"}')
    run = export(capsys, f"oci:{layout}", tmp_path / "cache", "-o", str(report))
    assert_one_line_error(run, "manifests")
    assert json.loads(report.read_text()) == {"older": True}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []


def test_report_is_written_whole_with_the_usual_mode(tmp_path, capsys, layout):
    report = tmp_path / "report.json"
    run = export(capsys, f"oci:{layout}", tmp_path / "cache", "-o", str(report))
    assert run.code == 0, run.err
    assert json.loads(report.read_text())["source"] == "oci"
    umask = os.umask(0)
    os.umask(umask)
    assert report.stat().st_mode & 0o777 == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "oci", "report.json"]


def _archive(tmp_path: Path) -> Path:
    path = tmp_path / "save.tar"
    write_docker_archive(path, [ImageSpec([LAYER], ref_name="box:1")])
    return path


INPUTS = [  # (name, reference given the paths, -o given the paths)
    ("the archive itself", lambda a, lay: str(a), lambda a, lay: str(a)),
    ("the archive via docker-archive:", lambda a, lay: f"docker-archive:{a}", lambda a, lay: str(a)),
    ("the archive via a symlink", lambda a, lay: str(a), lambda a, lay: str(_link(a))),
    ("index.json of the layout", lambda a, lay: f"oci:{lay}", lambda a, lay: str(lay / "index.json")),
    ("a new file inside the layout", lambda a, lay: f"oci:{lay}", lambda a, lay: str(lay / "report.json")),
    ("a blob of the layout", lambda a, lay: str(lay), lambda a, lay: str(next((lay / "blobs/sha256").iterdir()))),
]


def _link(path: Path) -> Path:
    link = path.parent / "link.tar"
    link.symlink_to(path)
    return link


@pytest.mark.parametrize("name,reference,output", INPUTS, ids=[i[0] for i in INPUTS])
def test_output_naming_the_input_is_refused_before_writing(tmp_path, capsys, layout, name, reference, output):
    archive = _archive(tmp_path)
    out = output(archive, layout)
    snapshot = {p: p.read_bytes() for p in [archive, *layout.rglob("*")] if p.is_file()}
    files_before = sorted(map(str, tmp_path.rglob("*")))
    run = export(capsys, reference(archive, layout), tmp_path / "cache", "-o", out)
    assert_one_line_error(run, "-o")
    assert {p: p.read_bytes() for p in snapshot} == snapshot
    assert sorted(map(str, tmp_path.rglob("*"))) == files_before, "nothing written, not even the cache"


def test_compare_output_naming_an_input_is_refused(tmp_path, capsys, layout):
    archive = _archive(tmp_path)
    data = archive.read_bytes()
    capsys.readouterr()
    code = cli.main(["compare", f"oci:{layout}", str(archive), "-q", "--cache-dir", str(tmp_path / "cache"),
                     "-o", str(archive)])
    captured = capsys.readouterr()
    assert_one_line_error(Run(code, captured.out, captured.err), "-o")
    assert archive.read_bytes() == data


def test_open_output_for_write_then_close_callers(tmp_path):
    """``open_output`` (write, then close; the commands' ``ctx.open_output``) keeps the same promise as ``with output``."""
    report = tmp_path / "report.txt"
    out, close = open_output(str(report))
    out.write("complete\n")
    assert not report.exists(), "nothing in place before close"
    out.close()
    assert close and report.read_text() == "complete\n"
    full, _ = open_output("/dev/full")
    with pytest.raises(OutputError):
        full.write("x" * 100_000)
        full.close()
    full.close()  # after a failed write: nothing left to do
