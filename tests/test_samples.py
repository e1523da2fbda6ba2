"""The bundled sample images (sample_images/oci): integrity, contents, reproducibility.

Read with the stdlib (json, gzip, tarfile) as ground truth, independent of
inspector's own readers; one extra test runs inspector's OCI layout source and
``validate_image`` over every sample.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.util
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent.parent / "sample_images"
LAYOUT = SAMPLES / "oci"
LOCK = SAMPLES / "packages.lock"
REF_NAME = "org.opencontainers.image.ref.name"
NAMES = ["debian-12-slim", "distroless-static", "distroless-base", "distroless-cc",
         "distroless-static-debug", "hello-debian", "hello-distroless", "hello-c-debian",
         "hello-cpp-debian", "distroless-python3", "hello-python-debian"]
DISTROLESS = [n for n in NAMES if n.startswith("distroless")]
SHELLS = {"sh", "bash", "rbash", "dash", "ash", "zsh", "ksh", "csh", "tcsh", "fish"}
PACKAGE_TOOLS = {"dpkg", "dpkg-deb", "dpkg-query", "apt", "apt-get", "apt-cache", "apk", "rpm", "dnf", "yum"}


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def blob(digest: str) -> bytes:
    return (LAYOUT / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes()


@functools.cache
def index() -> dict:
    return json.loads((LAYOUT / "index.json").read_text())


def descriptor(name: str) -> dict:
    return next(d for d in index()["manifests"] if d["annotations"][REF_NAME] == name)


def manifest(name: str) -> dict:
    return json.loads(blob(descriptor(name)["digest"]))


def config(name: str) -> dict:
    return json.loads(blob(manifest(name)["config"]["digest"]))


@functools.cache
def layer_tar(digest: str) -> bytes:
    return gzip.decompress(blob(digest))


@functools.cache
def merged(name: str) -> dict[str, tuple[tarfile.TarInfo, str]]:
    """Final filesystem: path -> (member, digest of the layer that last wrote it).
    The samples have no whiteouts, so later layers simply overwrite."""
    files: dict[str, tuple[tarfile.TarInfo, str]] = {}
    for desc in manifest(name)["layers"]:
        with tarfile.open(fileobj=io.BytesIO(layer_tar(desc["digest"]))) as tar:
            for member in tar:
                files["/" + member.name.removeprefix("./").strip("/")] = (member, desc["digest"])
    return files


def read(name: str, path: str) -> bytes:
    member, digest = merged(name)[path]
    with tarfile.open(fileobj=io.BytesIO(layer_tar(digest))) as tar:
        return tar.extractfile(tar.getmember(member.name)).read()


def basenames(name: str, wanted: set[str]) -> list[str]:
    """Paths of non-directory entries whose last component is in `wanted`."""
    return sorted(p for p, (m, _) in merged(name).items() if not m.isdir() and p.rsplit("/", 1)[1] in wanted)


# --- the layout as a whole ----------------------------------------------------------------

def test_index_names_every_sample_once_with_a_description():
    assert (LAYOUT / "oci-layout").exists()
    assert json.loads((LAYOUT / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    assert index()["mediaType"] == "application/vnd.oci.image.index.v1+json"
    assert [d["annotations"][REF_NAME] for d in index()["manifests"]] == NAMES
    for desc in index()["manifests"]:
        assert desc["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
        assert desc["platform"] == {"architecture": "amd64", "os": "linux"}
        assert desc["annotations"]["org.opencontainers.image.description"].strip()


def test_every_blob_is_referenced():
    referenced = set()
    for name in NAMES:
        referenced.add(descriptor(name)["digest"])
        referenced.add(manifest(name)["config"]["digest"])
        referenced.update(layer["digest"] for layer in manifest(name)["layers"])
    stored = {"sha256:" + p.name for p in (LAYOUT / "blobs" / "sha256").iterdir()}
    assert stored == referenced


@pytest.mark.parametrize("name", NAMES)
def test_digests_sizes_and_diff_ids_match_the_blobs(name):
    desc = descriptor(name)
    raw = blob(desc["digest"])
    assert (sha256(raw), len(raw)) == (desc["digest"], desc["size"])
    man = json.loads(raw)
    assert man["schemaVersion"] == 2 and man["mediaType"] == desc["mediaType"]
    cfg_raw = blob(man["config"]["digest"])
    assert (sha256(cfg_raw), len(cfg_raw)) == (man["config"]["digest"], man["config"]["size"])
    assert man["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json"
    cfg = json.loads(cfg_raw)
    diff_ids = cfg["rootfs"]["diff_ids"]
    assert cfg["rootfs"]["type"] == "layers"
    assert len(man["layers"]) == len(diff_ids) == len(cfg["history"])
    for layer, diff_id in zip(man["layers"], diff_ids, strict=True):
        assert layer["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"
        data = blob(layer["digest"])
        assert (sha256(data), len(data)) == (layer["digest"], layer["size"])
        assert sha256(layer_tar(layer["digest"])) == diff_id
    assert (cfg["created"], cfg["architecture"], cfg["os"]) == ("1970-01-01T00:00:00Z", "amd64", "linux")
    assert all(h["created"] == "1970-01-01T00:00:00Z" and h["created_by"] for h in cfg["history"])


@pytest.mark.parametrize("name", NAMES)
def test_layer_members_are_clean(name):
    """Names without ./ or /, numeric owners without names, no whiteouts, gzip without timestamp."""
    for layer in manifest(name)["layers"]:
        data = blob(layer["digest"])
        assert data[4:8] == b"\0\0\0\0", "gzip header mtime must be 0"
        assert not data[3] & 0x08, "gzip header must not carry a file name"
        with tarfile.open(fileobj=io.BytesIO(layer_tar(layer["digest"]))) as tar:
            names = tar.getnames()
            assert names == sorted(names, key=str.encode)
            for member in tar:
                assert not member.name.startswith(("./", "/")) and member.name
                assert member.uname == member.gname == ""
                assert not member.name.rsplit("/", 1)[-1].startswith(".wh.")


def test_annotations_pin_the_locked_packages():
    lock = json.loads(LOCK.read_text())
    for name in NAMES:
        ann = manifest(name)["annotations"]
        pins = {k.removeprefix("io.inspector.sample.deb."): v for k, v in ann.items()
                if k.startswith("io.inspector.sample.deb.")}
        assert pins, name
        # a Debian image's own packages are slim's; what it installs on top is pinned like
        # distroless's (hello-python-debian's python3.11-minimal)
        section = ({**lock["distroless"], **lock["debian-12-slim"]["packages"]}
                   if "debian" in name else lock["distroless"])
        for pkg, value in pins.items():
            assert value == f"{section[pkg]['version']} sha256:{section[pkg]['sha256']}", (name, pkg)
        assert ann["io.inspector.sample.source-date-epoch"] == str(lock["source_date_epoch"])


# --- what each image contains --------------------------------------------------------------

def test_distroless_static_has_no_shell_no_package_manager_no_libc():
    files = merged("distroless-static")
    assert "/bin/sh" not in files
    assert basenames("distroless-static", SHELLS | PACKAGE_TOOLS | {"ls", "cat", "busybox"}) == []
    assert not [p for p in files if p.startswith("/lib/x86_64-linux-gnu/") or p.endswith("/libc.so.6")]
    assert "/var/lib/dpkg/status" not in files
    for path in ("/bin", "/sbin", "/lib"):  # bookworm distroless is not usr-merged
        assert files[path][0].isdir(), path
    assert len(manifest("distroless-static")["layers"]) == 12


def test_distroless_static_users_certificates_and_status_d():
    passwd = read("distroless-static", "/etc/passwd").decode()
    assert "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin" in passwd.splitlines()
    assert "nonroot:x:65532:" in read("distroless-static", "/etc/group").decode().splitlines()
    home = merged("distroless-static")["/home/nonroot"][0]
    assert (home.uid, home.gid, home.mode) == (65532, 65532, 0o700)
    assert merged("distroless-static")["/tmp"][0].mode == 0o1777
    bundle = read("distroless-static", "/etc/ssl/certs/ca-certificates.crt")
    assert bundle.count(b"-----BEGIN CERTIFICATE-----") > 100
    for pkg in ("base-files", "netbase", "tzdata", "media-types", "ca-certificates"):
        control = read("distroless-static", f"/var/lib/dpkg/status.d/{pkg}").decode()
        assert control.startswith(f"Package: {pkg}\n") and "Status:" not in control
        assert f"/var/lib/dpkg/status.d/{pkg}.md5sums" in merged("distroless-static")
    assert b'PRETTY_NAME="Distroless"' in read("distroless-static", "/usr/lib/os-release")
    env = config("distroless-static")["config"]["Env"]
    assert "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" in env
    assert any(e.startswith("PATH=") for e in env)


def test_debian_slim_has_bash_apt_and_a_full_package_database():
    files = merged("debian-12-slim")
    for path in ("/usr/bin/bash", "/usr/bin/apt", "/usr/bin/apt-get", "/usr/bin/dpkg", "/usr/bin/ls"):
        assert files[path][0].isreg(), path
    assert files["/bin"][0].issym() and files["/bin"][0].linkname == "usr/bin"
    status = read("debian-12-slim", "/var/lib/dpkg/status").decode()
    installed = [s for s in status.split("\n\n") if "\nStatus: install ok installed" in s]
    assert len(installed) >= 80
    regular = sum(m.size for m, _ in files.values() if m.isreg())
    assert 60_000_000 <= regular <= 110_000_000
    assert len(manifest("debian-12-slim")["layers"]) == 1
    assert config("debian-12-slim")["config"]["Cmd"] == ["bash"]


def test_debian_slim_follows_the_slim_rules():
    files = merged("debian-12-slim")
    docs = [p for p, (m, _) in files.items() if p.startswith("/usr/share/doc/") and m.isreg()]
    assert docs and all(p.endswith("/copyright") for p in docs)
    assert not [p for p, (m, _) in files.items() if p.startswith(("/usr/share/man/", "/usr/share/info/",
                                                                      "/usr/share/lintian/overrides/")) and m.isreg()]
    assert "path-exclude /usr/share/doc/*" in read("debian-12-slim", "/etc/dpkg/dpkg.cfg.d/docker").decode()
    assert not [p for p in files if p.startswith(("/var/lib/apt/lists/", "/var/cache/apt/")) and files[p][0].isreg()]
    assert not [p for p in files if p.startswith(("/proc/", "/sys/", "/dev/"))]


def test_debug_image_has_busybox_as_its_only_shell():
    shells = basenames("distroless-static-debug", SHELLS)
    assert shells and all(p.startswith("/busybox/") for p in shells)
    sh = merged("distroless-static-debug")["/busybox/sh"][0]
    assert sh.issym() and sh.linkname == "/busybox/busybox"
    assert merged("distroless-static-debug")["/busybox/busybox"][0].isreg()
    cfg = config("distroless-static-debug")["config"]
    assert cfg["Entrypoint"] == ["/busybox/sh"]
    assert any(e.startswith("PATH=") and e.endswith(":/busybox") for e in cfg["Env"])


@pytest.mark.parametrize(("name", "base", "extra"), [
    ("distroless-base", "distroless-static", 2),
    ("distroless-cc", "distroless-base", 4),
    ("distroless-static-debug", "distroless-static", 1),
    ("hello-debian", "debian-12-slim", 1),
    ("hello-distroless", "distroless-static", 1),
    ("hello-c-debian", "debian-12-slim", 1),
    ("hello-cpp-debian", "debian-12-slim", 1),
])
def test_derived_images_share_their_base_layers(name, base, extra):
    layers, base_layers = manifest(name)["layers"], manifest(base)["layers"]
    assert layers[:len(base_layers)] == base_layers
    assert len(layers) == len(base_layers) + extra
    assert manifest(name)["annotations"]["org.opencontainers.image.base.digest"] == descriptor(base)["digest"]


def test_libc_in_base_and_cxx_runtime_in_cc():
    assert merged("distroless-base")["/lib/x86_64-linux-gnu/libc.so.6"][0].isreg()
    assert "/lib64/ld-linux-x86-64.so.2" in merged("distroless-base")
    assert [p for p in merged("distroless-cc") if "libstdc++.so.6" in p]
    assert basenames("distroless-cc", SHELLS | PACKAGE_TOOLS) == []


def test_hello_images_share_one_application_layer():
    app = manifest("hello-debian")["layers"][-1]
    assert manifest("hello-distroless")["layers"][-1] == app
    assert merged("hello-distroless")["/app/hello"][0].mode == 0o755
    cfg = config("hello-distroless")["config"]
    assert (cfg["User"], cfg["WorkingDir"], cfg["Entrypoint"]) == ("nonroot", "/home/nonroot", ["/app/hello"])
    assert read("hello-distroless", "/app/hello")[:4] == b"\x7fELF"


# --- inspector's own reader agrees ---------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_inspector_opens_and_validates_every_sample(name):
    from inspector.options import Options
    from inspector.sources import oci_layout
    from inspector.sources.base import validate_image

    with oci_layout.open_oci(str(LAYOUT), name, Options(), reference=f"oci:{LAYOUT}:{name}") as image:
        assert image.manifest_digest == descriptor(name)["digest"]
        validate_image(image)


# --- reproducibility -------------------------------------------------------------------------

def _load_builder():
    spec = importlib.util.spec_from_file_location("inspector_sample_build", SAMPLES / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rebuilding_distroless_static_gives_the_committed_digests(tmp_path, monkeypatch):
    """Rebuild from the pinned .debs: committed in sample_images/debs (so this runs offline),
    else cached, else deb.debian.org; skip only when offline and they are missing."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    build = _load_builder()
    from samplebuild import debs  # importable once build.py put sample_images on sys.path

    try:
        layout = build.build(["distroless-static"], output=tmp_path / "oci", lock_path=LOCK,
                             write_lock=False, log=lambda msg: None)
    except debs.FetchError as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"offline: cannot fetch the pinned .debs ({exc})")
    rebuilt = layout.entries["distroless-static"]
    assert rebuilt["digest"] == descriptor("distroless-static")["digest"]
    assert rebuilt == descriptor("distroless-static")
    committed = {d.name for d in (LAYOUT / "blobs" / "sha256").iterdir()}
    assert {p.name for p in (tmp_path / "oci" / "blobs" / "sha256").iterdir()} <= committed


def test_rebuilding_the_python_layers_gives_the_committed_blobs(tmp_path):
    """distroless-python3's four package layers and its symlink layer, from the committed
    .debs (offline), are the committed blobs byte for byte; so is hello-python-debian's
    app layer."""
    _load_builder()
    from samplebuild import debs, distroless, hello
    from samplebuild.oci import Layout

    lock = json.loads(LOCK.read_text())
    layout = Layout(tmp_path / "oci")
    written = []
    for name in distroless.PYTHON_PACKAGES:
        if name == "zlib1g":  # not vendored: rebuilt where the network or the cache has it
            continue
        deb = debs.Deb.open(debs.fetch(name, lock["distroless"][name], tmp_path / "cache"))
        written.append(layout.write_layer(distroless.deb_layer(deb), "").digest)
    written.append(layout.write_layer(distroless.python_links_layer(), "").digest)
    committed = [d["digest"] for d in manifest("distroless-python3")["layers"]]
    assert set(written) <= set(committed)
    assert committed[-1] == written[-1]  # the symlink layer is the last one
    epoch = int(lock["source_date_epoch"])
    app = layout.write_layer(hello.python_app_layer(epoch), "").digest
    assert manifest("hello-python-debian")["layers"][-1]["digest"] == app
