"""The debian:12-slim recipe: debootstrap minbase + what debuerreotype 0.15 does.

See /work/shared/reference/distroless.md §8. Steps, in debuerreotype's order:
init (sources, apt-mark auto, hostname, resolv.conf, shadow dates) →
minimizing-config → slimify → fixup → tar (excludes, mtimes clamped to the epoch,
numeric owners, sorted). Not done: the `apt-get update && full-upgrade` against
bookworm-security (packages come from the bookworm suite of deb.debian.org).
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import shutil
import stat
import subprocess
import tarfile
import time
from pathlib import Path

from .oci import LayerBuilder

MIRROR = "http://deb.debian.org/debian"
SUITE = "bookworm"
CONFIG = {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["bash"]}

SLIM_EXCLUDES = ["/usr/share/doc/*", "/usr/share/info/*", "/usr/share/linda/*", "/usr/share/lintian/overrides/*",
                 "/usr/share/locale/*", "/usr/share/man/*", "/usr/share/doc/kde/HTML/*/*",
                 "/usr/share/gnome/help/*/*", "/usr/share/omf/*/*-*.emf"]
SLIM_INCLUDES = ["/usr/share/doc/*/copyright", "/usr/share/doc/kde/HTML/C/*", "/usr/share/gnome/help/*/C/*",
                 "/usr/share/locale/all_languages", "/usr/share/locale/currency/*", "/usr/share/locale/l10n/*",
                 "/usr/share/locale/languages", "/usr/share/locale/locale.alias", "/usr/share/omf/*/*-C.emf"]
TAR_EXCLUDES = ["./debuerreotype-epoch", "./proc/**", "./sys/**", "./dev/**",
                "./var/cache/apt/**", "./var/lib/apt/lists/**", "./var/state/apt/lists/**",
                "./etc/apt/apt.conf.d/01autoremove-kernels", "./var/log/apt/history.log", "./var/log/apt/term.log",
                "./run/motd.dynamic", "./etc/apt/trustdb.gpg", "./run/shm/.run-transition",
                "./var/lib/systemd/catalog/database"]

MINIMIZING = {  # debuerreotype-minimizing-config, verbatim
    "usr/sbin/policy-rc.d": (0o755, """#!/bin/sh

# For most Docker users, "apt-get install" only happens during "docker build",
# where starting services doesn't work and often fails in humorous ways. This
# prevents those failures by stopping the services from attempting to start.

exit 101
"""),
    "etc/dpkg/dpkg.cfg.d/docker-apt-speedup": (0o644, """# For most Docker users, package installs happen during "docker build", which
# doesn't survive power loss and gets restarted clean afterwards anyhow, so
# this minor tweak gives us a nice speedup (much nicer on spinning disks,
# obviously).

force-unsafe-io
"""),
    "etc/apt/apt.conf.d/docker-autoremove-suggests": (0o644, """# Since Docker users are looking for the smallest possible final images, the
# following emerges as a very common pattern:

#   RUN apt-get update \\
#       && apt-get install -y <packages> \\
#       && <do some compilation work> \\
#       && apt-get purge -y --auto-remove <packages>

# By default, APT will actually _keep_ packages installed via Recommends or
# Depends if another package Suggests them, even and including if the package
# that originally caused them to be installed is removed.  Setting this to
# "false" ensures that APT is appropriately aggressive about removing the
# packages it added.

# https://aptitude.alioth.debian.org/doc/en/ch02s05s05.html#configApt-AutoRemove-SuggestsImportant
Apt::AutoRemove::SuggestsImportant "false";
"""),
    "etc/apt/apt.conf.d/docker-clean": (0o644, """# Since for most Docker users, package installs happen in "docker build" steps,
# they essentially become individual layers due to the way Docker handles
# layering, especially using CoW filesystems.  What this means for us is that
# the caches that APT keeps end up just wasting space in those layers, making
# our layers unnecessarily large (especially since we'll normally never use
# these caches again and will instead just "docker build" again and make a brand
# new image).

# Ideally, these would just be invoking "apt-get clean", but in our testing,
# that ended up being cyclic and we got stuck on APT's lock, so we get this fun
# creation that's essentially just "apt-get clean".
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };

Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";

# Note that we do realize this isn't the ideal way to do this, and are always
# open to better suggestions (https://github.com/debuerreotype/debuerreotype/issues).
"""),
    "etc/apt/apt.conf.d/docker-gzip-indexes": (0o644, """# Since Docker users using "RUN apt-get update && apt-get install -y ..." in
# their Dockerfiles don't go delete the lists files afterwards, we want them to
# be as small as possible on-disk, so we explicitly request that Apt keep them
# compressed on-disk too instead of decompressing them.

# For comparison, an "apt-get update" layer without this on a pristine
# "debian:wheezy" base image was "29.88 MB", where with this it was only
# "8.273 MB".

Acquire::GzipIndexes "true";
"""),
    "etc/apt/apt.conf.d/docker-no-languages": (0o644, """# In Docker, we don't often need the "Translations" files, so we're just wasting
# time and space by downloading them, and this inhibits that.  For users that do
# need them, it's a simple matter to delete this file and "apt-get update". :)

Acquire::Languages "none";
"""),
}

SOURCES = """Types: deb
# http://snapshot.debian.org/archive/debian/{stamp}
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
# http://snapshot.debian.org/archive/debian-security/{stamp}
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


def bootstrap(rootfs: Path, epoch: int, cache_dir: Path) -> None:
    """`debootstrap --variant=minbase --merged-usr bookworm` (needs root and the Debian mirror)."""
    if os.geteuid() != 0:
        raise SystemExit("debian-12-slim needs root (debootstrap); run as root or build only the distroless images")
    if not shutil.which("debootstrap"):
        raise SystemExit("debootstrap not found: apt-get install debootstrap")
    cache_dir.mkdir(parents=True, exist_ok=True)
    if rootfs.exists():
        shutil.rmtree(rootfs)
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(epoch), LC_ALL="C")
    subprocess.run(["debootstrap", "--variant=minbase", "--merged-usr", f"--cache-dir={cache_dir}",
                    SUITE, str(rootfs), MIRROR], check=True, env=env, stdout=subprocess.DEVNULL)


def init(rootfs: Path, epoch: int) -> None:
    """debuerreotype-init's post-debootstrap steps and examples/debian.sh's sources."""
    (rootfs / "debuerreotype-epoch").write_text(f"{epoch}\n")
    subprocess.run(["chroot", str(rootfs), "apt-mark", "auto", ".*"], check=True, stdout=subprocess.DEVNULL,
                   env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"})
    (rootfs / "etc/apt/sources.list").unlink(missing_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))
    _write(rootfs / "etc/apt/sources.list.d/debian.sources", SOURCES.format(stamp=stamp), 0o644)
    _write(rootfs / "etc/hostname", "debuerreotype\n", 0o644)
    _write(rootfs / "etc/resolv.conf", "# https://1.1.1.1 (privacy-focused, highly-available DNS service)\n"
                                       "nameserver 1.1.1.1\nnameserver 1.0.0.1\n", 0o644)
    os.chown(rootfs, 0, 0)
    os.chmod(rootfs, 0o755)
    day = epoch // 86400
    for name in ("etc/shadow", "etc/shadow-"):
        path = rootfs / name
        if path.exists():
            lines = []
            for line in path.read_text().splitlines():
                fields = line.split(":")
                if len(fields) > 2 and fields[2].isdigit() and int(fields[2]) > day:
                    fields[2] = str(day)
                lines.append(":".join(fields))
            path.write_text("\n".join(lines) + "\n")  # write in place: keeps the mode


def minimizing_config(rootfs: Path) -> None:
    for name, (mode, text) in MINIMIZING.items():
        _write(rootfs / name, text, mode)


def _write(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)


def _dpkg_owners(rootfs: Path, pattern: str) -> list[str]:
    """`dpkg -S PATTERN` reduced to owning package names, from var/lib/dpkg/info/*.list."""
    owners = set()
    for lst in (rootfs / "var/lib/dpkg/info").glob("*.list"):
        for line in lst.read_text(errors="surrogateescape").splitlines():
            if fnmatch.fnmatchcase(line, pattern):
                owners.add(lst.name[:-len(".list")])
                break
    return sorted(owners)


def _fold(text: str, width: int = 76) -> list[str]:
    """`fold -w 76 -s`: break after the last blank that fits."""
    lines = []
    while len(text) > width:
        cut = text.rfind(" ", 0, width)
        cut = width if cut < 0 else cut + 1
        lines.append(text[:cut])
        text = text[cut:]
    return lines + [text]


def _resolve_in_root(root: Path, path: str, hops: int = 0) -> bool:
    """Does absolute `path` (symlinks resolved inside `root`) exist? (`find -xtype l`)."""
    parts = [p for p in path.split("/") if p and p != "."]
    cur = "/"
    for i, part in enumerate(parts):
        if part == "..":
            cur = posixpath.dirname(cur)
            continue
        nxt = posixpath.join(cur, part)
        full = str(root) + nxt
        if os.path.islink(full):
            if hops > 40:
                return False
            target = os.readlink(full)
            base = target if target.startswith("/") else posixpath.join(cur, target)
            return _resolve_in_root(root, posixpath.join(base, *parts[i + 1:]), hops + 1)
        if not os.path.lexists(full):
            return False
        cur = nxt
    return True


def slimify(rootfs: Path) -> None:
    """debuerreotype-slimify: delete docs/man/locales now, write the dpkg path-exclude file."""
    special = sorted(p.name for p in (rootfs / "usr/share/man").glob("man[0-9]") if p.is_dir())
    text = ['# This is the "slim" variant of the Debian base image.\n'
            "# Many files which are normally unnecessary in containers are excluded,\n"
            "# and this configuration file keeps them that way.\n"]
    for pattern in sorted(set(SLIM_EXCLUDES)):
        owners = _dpkg_owners(rootfs, pattern)
        comment = " ".join(owners) if owners else f"dpkg-query: no path found matching pattern {pattern}"
        text.append(f"\n# dpkg -S '{pattern}'\n")
        text.extend(f"#  {line}\n" for line in _fold(comment))
        text.append(f"path-exclude {pattern}\n")
        if not pattern.endswith("/*"):
            (rootfs / pattern.lstrip("/")).unlink(missing_ok=True)
            continue
        top = rootfs / posixpath.dirname(pattern).lstrip("/")
        if not top.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(top, topdown=False):
            for name in filenames + dirnames:
                full = Path(dirpath, name)
                inside = "/" + str(full.relative_to(rootfs))
                if full.is_symlink() or full.is_dir():
                    continue
                if not any(fnmatch.fnmatchcase(inside, inc) for inc in SLIM_INCLUDES):
                    full.unlink()
        while True:  # dangling symlinks and empty dirs, until none are left
            removed = 0
            for dirpath, dirnames, filenames in os.walk(top, topdown=False):
                for name in filenames + dirnames:
                    full = Path(dirpath, name)
                    inside = "/" + str(full.relative_to(rootfs))
                    if full.is_symlink():
                        if not _resolve_in_root(rootfs, inside):
                            full.unlink()
                            removed += 1
                    elif full.is_dir() and not any(full.iterdir()):
                        full.rmdir()
                        removed += 1
            if not removed:
                break
    text.append("\n")
    text.extend(f"path-include {pattern}\n" for pattern in sorted(set(SLIM_INCLUDES)))
    _write(rootfs / "etc/dpkg/dpkg.cfg.d/docker", "".join(text), 0o644)
    for name in special:
        (rootfs / "usr/share/man" / name).mkdir(parents=True, exist_ok=True)


def fixup(rootfs: Path) -> None:
    machine_id = rootfs / "etc/machine-id"
    if machine_id.exists() and machine_id.stat().st_size:
        machine_id.write_text("")
        os.chmod(machine_id, 0o644)
    for name in ("var/log/dpkg.log", "var/log/bootstrap.log", "var/log/alternatives.log",
                 "var/cache/ldconfig/aux-cache", "run/mount/utab"):
        (rootfs / name).unlink(missing_ok=True)
    try:
        (rootfs / "run/mount").rmdir()
    except OSError:
        pass


def installed(rootfs: Path) -> dict[str, str]:
    """{package: version} with `Status: install ok installed` in var/lib/dpkg/status."""
    out = {}
    for stanza in (rootfs / "var/lib/dpkg/status").read_text().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line and not line[0].isspace())
        if fields.get("Status") == "install ok installed":
            out[fields["Package"]] = fields["Version"]
    return out


def layer(rootfs: Path, epoch: int) -> LayerBuilder:
    """debuerreotype-tar: excludes, numeric owners, mtimes clamped to `epoch`, no `./`."""
    builder = LayerBuilder()
    seen_inodes: dict[tuple[int, int], str] = {}
    for dirpath, dirnames, filenames in os.walk(rootfs):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, rootfs)
            if any(fnmatch.fnmatchcase("./" + rel, pat) for pat in TAR_EXCLUDES):
                continue
            st = os.lstat(full)
            info = tarfile.TarInfo(rel)
            info.mode, info.uid, info.gid = stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid
            info.mtime = min(int(st.st_mtime), epoch)
            data = None
            if stat.S_ISDIR(st.st_mode):
                info.type = tarfile.DIRTYPE
            elif stat.S_ISLNK(st.st_mode):
                info.type, info.linkname = tarfile.SYMTYPE, os.readlink(full)
            elif stat.S_ISREG(st.st_mode):
                key = (st.st_dev, st.st_ino)
                if st.st_nlink > 1 and key in seen_inodes:
                    info.type, info.linkname = tarfile.LNKTYPE, seen_inodes[key]
                else:
                    seen_inodes[key] = rel
                    info.type, info.size, data = tarfile.REGTYPE, st.st_size, Path(full)
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                info.type = tarfile.CHRTYPE if stat.S_ISCHR(st.st_mode) else tarfile.BLKTYPE
                info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
            elif stat.S_ISFIFO(st.st_mode):
                info.type = tarfile.FIFOTYPE
            else:
                continue  # sockets
            builder.add(info, data)
    return builder
