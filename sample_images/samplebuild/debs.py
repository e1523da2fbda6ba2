"""packages.lock, fetching pinned ``.deb`` files, and reading them in Python.

A lock entry pins one package: name, version, architecture, the archive URL it
was resolved from, its size and sha256. Fetching verifies the sha256 of every
file, cached or downloaded; a mismatch is an error, never a warning.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import shlex
import subprocess
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from .oci import norm_name

DEFAULT_CACHE = Path(os.environ.get("INSPECTOR_SAMPLES_CACHE",
                                    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "inspector-samples"))
"""Where downloaded .debs live (outside git). INSPECTOR_SAMPLES_CACHE overrides."""

VENDORED = Path(__file__).resolve().parents[1] / "debs"
"""The .debs of distroless-static, committed (580 kB), so that its reproducibility check
needs no network and survives Debian superseding a pinned version (tzdata often is)."""

SNAPSHOT = "https://snapshot.debian.org/archive/{archive}/{stamp}/"
"""Fallback for pinned .debs that left deb.debian.org (superseded by a newer version)."""
DOWNLOAD_TIMEOUT = 60  # seconds per request


class FetchError(RuntimeError):
    """A .deb could not be downloaded (offline, or gone from the mirror)."""


class VerifyError(RuntimeError):
    """A .deb does not match the sha256 pinned in packages.lock."""


def load_lock(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def save_lock(path: Path, lock: dict) -> None:
    path.write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n")


def resolve(names: list[str]) -> dict[str, dict]:
    """Current candidate versions from apt's lists (run `apt-get update` first)."""
    out = subprocess.run(["apt-get", "download", "--print-uris", *names],
                         check=True, capture_output=True, text=True).stdout
    entries = {}
    for line in out.splitlines():
        url, filename, size, checksum = shlex.split(line)
        name, version, arch = filename[:-len(".deb")].split("_")
        name = urllib.parse.unquote(name)
        entries[name] = {
            "version": urllib.parse.unquote(version),
            "arch": arch,
            "url": url,
            "size": int(size),
            "sha256": checksum.split(":", 1)[1].lower(),
        }
    missing = set(names) - set(entries)
    if missing:
        raise SystemExit(f"apt could not resolve {sorted(missing)}; run apt-get update?")
    return entries


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def snapshot_url(url: str, epoch: int) -> str | None:
    """The same pool file on snapshot.debian.org, as of the end of the lock's day."""
    for archive in ("debian-security", "debian"):
        prefix = f"http://deb.debian.org/{archive}/"
        if url.startswith(prefix):
            stamp = time.strftime("%Y%m%dT235959Z", time.gmtime(epoch))
            return SNAPSHOT.format(archive=archive, stamp=stamp) + url[len(prefix):]
    return None


def _download(url: str, dest: Path) -> None:
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as resp, open(dest, "wb") as fh:
        while chunk := resp.read(1 << 20):
            fh.write(chunk)


def fetch(name: str, entry: dict, cache_dir: Path = DEFAULT_CACHE, epoch: int | None = None) -> Path:
    """Path of the pinned .deb: committed (``VENDORED``), cached, or downloaded; sha256
    verified. Tries the locked URL, then (given the lock's epoch) snapshot.debian.org."""
    filename = urllib.parse.unquote(entry["url"].rsplit("/", 1)[1])
    vendored = VENDORED / filename
    if vendored.exists() and _sha256_file(vendored) == entry["sha256"]:
        return vendored
    debs = cache_dir / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    path = debs / filename
    if path.exists() and _sha256_file(path) == entry["sha256"]:
        return path
    tmp = path.with_name(f"{path.name}.part-{os.getpid()}")  # two builds at once: each its own
    urls = [entry["url"]] + [u for u in [epoch is not None and snapshot_url(entry["url"], epoch)] if u]
    errors = []
    for url in urls:
        try:
            _download(url, tmp)
            break
        except (urllib.error.URLError, OSError) as exc:
            tmp.unlink(missing_ok=True)
            errors.append(f"{url}: {exc}")
    else:
        raise FetchError(f"cannot download {name} {entry['version']} ({'; '.join(errors)}): "
                         "offline, or the version left the mirror (rebuild with --refresh)")
    got = _sha256_file(tmp)
    if got != entry["sha256"]:
        tmp.unlink()
        raise VerifyError(f"{entry['url']}: sha256 {got}, packages.lock pins {entry['sha256']}")
    os.replace(tmp, path)
    return path


def _ar_members(data: bytes) -> dict[str, bytes]:
    """Members of a Debian `ar` archive (`!<arch>` + 60-byte headers, 2-byte aligned)."""
    if not data.startswith(b"!<arch>\n"):
        raise ValueError("not an ar archive")
    pos, members = 8, {}
    while pos + 60 <= len(data):
        header = data[pos:pos + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58])
        members[name] = data[pos + 60:pos + 60 + size]
        pos += 60 + size + (size & 1)
    return members


def _open_tar(name: str, blob: bytes) -> tarfile.TarFile:
    if name.endswith(".zst"):  # not in the stdlib of Python 3.11
        blob = subprocess.run(["zstd", "-dc"], input=blob, check=True, capture_output=True).stdout
    return tarfile.open(fileobj=io.BytesIO(blob), mode="r:*")


@dataclasses.dataclass
class Deb:
    """One unpacked .deb: raw control files and the data.tar members."""

    name: str
    version: str
    arch: str
    sha256: str
    control: bytes  # the raw ./control member = distroless status.d/<name>
    control_mtime: int
    md5sums: bytes | None
    md5sums_mtime: int
    members: list[tuple[tarfile.TarInfo, bytes | None]]  # data.tar order, names as stored

    @classmethod
    def open(cls, path: Path) -> Deb:
        raw = path.read_bytes()
        ar = _ar_members(raw)
        control_name = next(n for n in ar if n.startswith("control.tar"))
        data_name = next(n for n in ar if n.startswith("data.tar"))
        control = md5sums = None
        control_mtime = md5sums_mtime = 0
        with _open_tar(control_name, ar[control_name]) as tar:
            for info in tar:
                base = norm_name(info.name)
                if base == "control":
                    control, control_mtime = tar.extractfile(info).read(), int(info.mtime)
                elif base == "md5sums":
                    md5sums, md5sums_mtime = tar.extractfile(info).read(), int(info.mtime)
        fields = dict(line.split(": ", 1) for line in control.decode().splitlines()
                      if ": " in line and not line.startswith(" "))
        members = []
        with _open_tar(data_name, ar[data_name]) as tar:
            for info in tar:
                data = tar.extractfile(info).read() if info.isreg() else None
                members.append((info, data))
        return cls(fields["Package"], fields["Version"], fields["Architecture"],
                   hashlib.sha256(raw).hexdigest(), control, control_mtime, md5sums, md5sums_mtime, members)

    def member(self, name: str) -> bytes:
        for info, data in self.members:
            if norm_name(info.name) == norm_name(name):
                return data
        raise KeyError(f"{self.name}: no {name} in data.tar")
