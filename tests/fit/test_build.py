"""``inspector fit IMAGE --build``: the fitted image is valid (our sources, skopeo, umoci read
it), reproducible, holds what fit predicted (``compare`` measures it), and starts: each
built image is unpacked with ``umoci`` and its entrypoint run under ``chroot`` (servers
answer one request on loopback in their own network namespace)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from inspector.cli import main
from inspector.options import Options
from inspector.sources.base import validate_image
from inspector.sources.resolve import open_image
from tests.fit.test_truth import fit_root
from tests.tools import require_tool

CHROOTRUN = Path(__file__).with_name("chrootrun.py")


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> list[str]:
    return ["--cache-dir", str(tmp_path_factory.mktemp("cache")), "-q"]


def fit_build(capsys, cache, image: str, dest: str, *extra: str) -> dict:
    code = main(["fit", image, "--build", dest, "--format", "json", *extra, *cache])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def unpack(layout: Path, tag: str, dest: Path) -> Path:
    require_tool("umoci")
    proc = subprocess.run(["umoci", "unpack", "--image", f"{layout}:{tag}", str(dest)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return dest / "rootfs"


def start(rootfs: Path, argv: list[str], port: int = 0) -> tuple[int, str]:
    """Run ``argv`` in ``rootfs`` (chroot, own network namespace): (status, output)."""
    for tool in ("chroot", "unshare", "ip"):
        require_tool(tool)
    if os.geteuid() != 0:
        pytest.skip("chroot needs root")
    proc = subprocess.run(["unshare", "-n", sys.executable, str(CHROOTRUN), str(rootfs),
                           str(port), "--", *argv], capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


def image_config(layout: Path, tag: str) -> dict:
    index = json.loads((layout / "index.json").read_text())
    desc = next(m for m in index["manifests"]
                if m["annotations"]["org.opencontainers.image.ref.name"] == tag)
    blob = layout / "blobs/sha256"
    manifest = json.loads((blob / desc["digest"].split(":")[1]).read_text())
    return json.loads((blob / manifest["config"]["digest"].split(":")[1]).read_text())


def compare_bytes(capsys, cache, a: str, b: str) -> tuple[int, int]:
    code = main(["compare", a, b, "--format", "json", *cache])
    out, err = capsys.readouterr()
    assert code == 0, err
    images = json.loads(out)["images"]
    return images[0]["file_bytes"], images[1]["file_bytes"]


SAMPLES = [
    # (sample, chosen base, argv to start it with, port it answers on, what it answers)
    ("hello-debian", "distroless-static", ["/app/hello"], 8080, "hello from"),
    ("hello-c-debian", "distroless-base", ["/app/hello-c"], 8080, "hello from"),
    ("hello-cpp-debian", "distroless-cc", ["/app/hello-cpp"], 8080, "C++"),
    ("hello-python-debian", "distroless-python3", ["python3", "/app/main.py"], 8080, "Python"),
]


@pytest.mark.parametrize(("sample", "base", "argv", "port", "answer"), SAMPLES,
                         ids=[s[0] for s in SAMPLES])
def test_built_sample_starts_and_answers(capsys, cache, tmp_path, sample, base, argv, port,
                                         answer):
    layout = tmp_path / "out"
    r = fit_build(capsys, cache, f"sample:{sample}", f"oci:{layout}:fitted")
    assert r["chosen"]["label"] == base
    config = image_config(layout, "fitted")["config"]
    assert config["Entrypoint"] + config.get("Cmd", []) == argv and config["User"] == "nonroot"
    rootfs = unpack(layout, "fitted", tmp_path / "bundle")
    assert not (rootfs / "bin/sh").exists()
    status, output = start(rootfs, config["Entrypoint"] + config.get("Cmd", []), port)
    assert status == 0 and "200 OK" in output and answer in output, output
    before, after = compare_bytes(capsys, cache, f"sample:{sample}", f"oci:{layout}:fitted")
    assert (before, after) == (r["savings"]["current_bytes"], r["savings"]["result_bytes"])
    assert after < before


def test_the_python_app_imports_and_prints_on_distroless_python3(capsys, cache, tmp_path):
    layout = tmp_path / "out"
    fit_build(capsys, cache, "sample:hello-python-debian", f"oci:{layout}:py")
    rootfs = unpack(layout, "py", tmp_path / "bundle")
    config = image_config(layout, "py")["config"]
    status, output = start(rootfs, config["Entrypoint"] + config["Cmd"] + ["--check"])
    assert status == 0 and output.startswith("hello-python: ok (Python 3.11"), output
    # no shell, no pip, as in the published image
    assert not any((rootfs / p).exists() for p in ("bin/sh", "usr/bin/sh", "usr/bin/pip3"))


#: left out of the image: what is under the kernel's mounts, and test_truth.py's work
#: directories (``opt/fittest-PID``: another worker of a parallel run may be writing one)
SKIPPED = ("proc/", "sys/", "dev/", "opt/fittest-")


def _tree(root: Path) -> list[str]:
    """Every path under ``root`` but SKIPPED (relative, in ``Path`` order), without
    descending into what is skipped."""
    out = []
    for top, dirs, files in os.walk(root):
        base = os.path.relpath(top, root)
        rel = {n: n if base == "." else f"{base}/{n}" for n in dirs + files}
        dirs[:] = [d for d in dirs if not (rel[d] + "/").startswith(SKIPPED)]
        out += [r for r in rel.values() if not r.startswith(SKIPPED)]
    return sorted(out, key=lambda r: r.split("/"))


@pytest.fixture(scope="module")
def debfat(tmp_path_factory) -> str:
    """The debootstrap root with curl and python3 (tests/fit/test_truth.py) as a one-layer
    image, ``ENTRYPOINT ["/usr/bin/curl"] CMD ["--version"]``."""
    root = fit_root()
    layout = tmp_path_factory.mktemp("debfat")
    blobs = layout / "blobs/sha256"
    blobs.mkdir(parents=True)
    tmp = layout / "layer.tar"
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        for rel in _tree(root):
            tar.add(root / rel, arcname=rel, recursive=False)
    h = hashlib.sha256()
    with tmp.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    layer = "sha256:" + h.hexdigest()
    size = tmp.stat().st_size
    tmp.rename(blobs / layer.split(":")[1])
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {
        "Entrypoint": ["/usr/bin/curl"], "Cmd": ["--version"],
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [layer]}}).encode()
    cfg = "sha256:" + hashlib.sha256(config).hexdigest()
    (blobs / cfg.split(":")[1]).write_bytes(config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType":
                           "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": cfg, "size": len(config)},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                                       "digest": layer, "size": size}]}).encode()
    md = "sha256:" + hashlib.sha256(manifest).hexdigest()
    (blobs / md.split(":")[1]).write_bytes(manifest)
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md,
         "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": "curl"}}]}))
    return f"oci:{layout}:curl"


OS_PROGRAMS = [
    # (program, chosen base, argv after it, what its output starts with, exit status)
    ("/usr/bin/curl", "distroless-base", ["--version"], "curl ", 0),
    # apt needs libstdc++ (cc); it starts and prints its version, then misses dpkg's
    # cputable (dpkg's file, not apt's): exit 100
    ("/usr/bin/apt", "distroless-cc", ["--version"], "apt 2.", 100),
]


@pytest.mark.parametrize(("program", "base", "args", "starts", "status"), OS_PROGRAMS,
                         ids=[p[0] for p in OS_PROGRAMS])
def test_an_os_package_program_is_built_with_its_libraries_and_runs(capsys, cache, tmp_path,
                                                                    debfat, program, base, args,
                                                                    starts, status):
    """A Debian package's program as the entrypoint: the program, its package's run-time
    files and the libraries the base lacks, on the base it needs; it runs in the result."""
    layout = tmp_path / "out"
    r = fit_build(capsys, cache, debfat, f"oci:{layout}:os", "--entrypoint", program)
    assert r["chosen"]["label"] == base
    assert program in r["app_files"]
    assert r["chosen"]["copy"]  # libcurl, libapt-pkg and friends
    rootfs = unpack(layout, "os", tmp_path / "bundle")
    # the image's merged-/usr /lib -> usr/lib link (listed by apt) did not hide the base's /lib
    assert (rootfs / "lib").is_dir() and not (rootfs / "lib").is_symlink()
    got, output = start(rootfs, [program, *args])
    assert got == status and output.startswith(starts), output
    _, after = compare_bytes(capsys, cache, debfat, f"oci:{layout}:os")
    assert after == r["savings"]["result_bytes"]


def test_the_build_is_reproducible_and_valid(capsys, cache, tmp_path):
    digests = []
    for name in ("a", "b"):
        fit_build(capsys, cache, "sample:hello-c-debian", f"oci:{tmp_path / name}:t")
        index = json.loads((tmp_path / name / "index.json").read_text())
        digests.append(index["manifests"][0]["digest"])
    assert digests[0] == digests[1]
    image = open_image(f"oci:{tmp_path / 'a'}:t", Options(cache_dir=str(tmp_path / "c")))
    with image:
        validate_image(image)
        assert image.manifest_digest == digests[0]
    require_tool("skopeo")
    proc = subprocess.run(["skopeo", "inspect", f"oci:{tmp_path / 'a'}:t"], capture_output=True,
                          text=True)
    assert proc.returncode == 0 and json.loads(proc.stdout)["Digest"] == digests[0], proc.stderr


def test_a_docker_archive_is_valid_and_reproducible(capsys, cache, tmp_path):
    paths = [tmp_path / "a.tar", tmp_path / "b.tar"]
    for path in paths:
        fit_build(capsys, cache, "sample:hello-debian", f"docker-archive:{path}:hello:fitted")
    assert paths[0].read_bytes() == paths[1].read_bytes()
    image = open_image(f"docker-archive:{paths[0]}", Options(cache_dir=str(tmp_path / "c")))
    with image:
        validate_image(image)
        assert json.loads(image.config_bytes)["config"]["Entrypoint"] == ["/app/hello"]
    require_tool("skopeo")
    proc = subprocess.run(["skopeo", "inspect", f"docker-archive:{paths[0]}"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


BAD = [
    ("an unknown transport", "docker://x", "--build docker://x: write oci:DIR"),
    ("a file where the layout goes", "oci:{tmp}/file", "exists and is not a directory"),
    ("a directory that is not a layout", "oci:{tmp}/notlayout", "not empty and not an OCI"),
]


@pytest.mark.parametrize(("name", "dest", "expected"), BAD, ids=[b[0] for b in BAD])
def test_bad_destinations_are_one_line(capsys, cache, tmp_path, name, dest, expected):
    (tmp_path / "file").write_text("x")
    (tmp_path / "notlayout").mkdir()
    (tmp_path / "notlayout/keep").write_text("x")
    code = main(["fit", "sample:hello-debian", "--build", dest.format(tmp=tmp_path), *cache])
    out, err = capsys.readouterr()
    assert code == 1 and expected in err and err.count("\n") == 1, err
    assert (tmp_path / "notlayout").exists() and (tmp_path / "file").read_text() == "x"


def test_nothing_fits_nothing_is_built(capsys, cache, tmp_path):
    """debian-12-slim runs bash: no distroless base has a shell, so there is no image to
    write, and the destination is left alone."""
    code = main(["fit", "sample:debian-12-slim", "--build", f"oci:{tmp_path / 'out'}", *cache])
    out, err = capsys.readouterr()
    assert code == 1 and "no candidate base fits, so there is nothing to build" in err, err
    assert err.count("\n") == 1 and not (tmp_path / "out").exists()
