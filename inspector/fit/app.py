"""The application's own files: what a multi-stage build must copy onto a new base.

A file belongs to the application when no OS package (deb, apk, rpm) owns it and it is not
state the OS tools made (package databases, caches, logs, users, alternatives, generated
links): language packages (pip, npm, Go modules) count as the application's. Ownership
comes from the catalog's file → package map, not from a category label.

The program the entrypoint runs is the application whoever owns it: when an OS package
does (``ENTRYPOINT ["/usr/bin/curl"]``), that program and the files its package needs at
run time (``package_runtime``: its data, not its docs, man pages or translations) are the
application's too.
"""

from __future__ import annotations

from dataclasses import dataclass

from inspector.catalog.builder import Catalog
from inspector.catalog.fspath import Resolver
from inspector.index.entries import DIR, FILE, SYMLINK
from inspector.index.merge import MergedFS

OS_PACKAGE_TYPES = ("deb", "apk", "rpm")
#: directories whose unowned content the OS tools write (maintainer scripts, caches…)
OS_STATE_PREFIXES = (
    "/var/lib/dpkg/", "/var/lib/apt/", "/var/lib/rpm/", "/usr/lib/sysimage/rpm/", "/lib/apk/",
    "/var/lib/ucf/", "/var/lib/systemd/", "/var/lib/pam/", "/var/lib/misc/", "/var/cache/",
    "/var/log/", "/var/mail/", "/var/spool/", "/etc/apt/", "/etc/dpkg/", "/etc/alternatives/",
    "/etc/ssl/certs/", "/etc/ld.so.conf.d/", "/etc/apk/", "/etc/rc", "/etc/systemd/",
    "/etc/init.d/", "/etc/pam.d/", "/etc/security/", "/etc/default/", "/etc/skel/",
    "/usr/share/doc/", "/usr/share/man/", "/usr/share/info/", "/usr/share/locale/",
    "/usr/share/zoneinfo/", "/usr/share/ca-certificates/", "/usr/lib/locale/",
    "/proc/", "/sys/", "/dev/", "/run/", "/tmp/", "/var/tmp/", "/var/run/",
)
#: files the OS tools write outside those directories
OS_STATE_FILES = frozenset((
    "/etc/passwd", "/etc/passwd-", "/etc/group", "/etc/group-", "/etc/shadow", "/etc/shadow-",
    "/etc/gshadow", "/etc/gshadow-", "/etc/subuid", "/etc/subgid", "/etc/hostname", "/etc/hosts",
    "/etc/resolv.conf", "/etc/machine-id", "/etc/mtab", "/etc/localtime", "/etc/timezone",
    "/etc/ld.so.cache", "/etc/shells", "/etc/motd", "/etc/profile", "/etc/environment",
    "/etc/fstab", "/etc/nsswitch.conf", "/etc/debian_version", "/etc/os-release",
    "/etc/adduser.conf", "/etc/login.defs", "/usr/sbin/policy-rc.d", "/root/.bashrc",
    "/root/.profile", "/.dockerenv", "/usr/local/man",
))


#: what a package ships that its program does not read when it runs
NOT_RUNTIME_PREFIXES = ("/usr/share/doc/", "/usr/share/man/", "/usr/share/info/",
                        "/usr/share/locale/", "/usr/share/lintian/", "/usr/share/bug/",
                        "/usr/share/bash-completion/", "/usr/share/zsh/", "/usr/share/fish/",
                        "/usr/share/menu/", "/usr/share/applications/", "/usr/share/pixmaps/",
                        "/usr/share/icons/", "/usr/lib/systemd/", "/lib/systemd/", "/etc/init.d/",
                        "/etc/cron.", "/etc/logrotate.d/", "/usr/share/gtk-doc/")

#: where applications live: unowned files here are the app's even in a layer that also
#: installed OS packages (``RUN apt-get install … && cp app /opt/app``)
APP_DIRS = ("/app/", "/opt/", "/srv/", "/home/", "/usr/local/", "/workspace/", "/code/")


@dataclass
class AppFiles:
    paths: list[str]  # sorted, non-directory entries
    bytes: int  # regular files' bytes
    roots: list[str]  # what to COPY: the topmost directories (or files) holding only app files

    @property
    def files(self) -> int:
        return len(self.paths)


def _os_state(path: str) -> bool:
    if path in OS_STATE_FILES or path.startswith(OS_STATE_PREFIXES):
        return True
    # Python bytecode the OS's python3 compiled in its postinst
    return "/__pycache__/" in path and path.startswith(("/usr/lib/python", "/usr/share/"))


class _Judge:
    """Whether one path is the application's (memoised: symlinks ask about their targets)."""

    def __init__(self, fs: MergedFS, catalog: Catalog, extra: frozenset[str] = frozenset()) -> None:
        self.fs, self.owners, self.extra = fs, catalog.owners, extra
        self.os_owned = {i for i, p in enumerate(catalog.packages) if p.type in OS_PACKAGE_TYPES}
        # layers that installed OS packages: their unowned files are the OS's leftovers
        self.os_layers = {fs.layer_of(path) for path, i in self.owners.items()
                          if i in self.os_owned and path in fs.entries}
        self.resolver = Resolver(fs)
        self.memo: dict[str, bool] = {}

    def is_app(self, path: str, depth: int = 0) -> bool:
        known = self.memo.get(path)
        if known is None:
            known = self.memo[path] = self._judge(path, depth)
        return known

    def _judge(self, path: str, depth: int) -> bool:
        if path in self.extra:
            return True
        owner = self.owners.get(path)
        if owner is not None:
            return owner not in self.os_owned  # a language package's file is the app's
        if _os_state(path):
            return False
        if self.fs.kind(path) == SYMLINK and depth < 8:
            real = self.resolver.resolve(path)
            if real is not None and real != path and real in self.fs.entries \
                    and self.fs.kind(real) != DIR:
                return self.is_app(real, depth + 1)
        return path.startswith(APP_DIRS) or self.fs.layer_of(path) not in self.os_layers


def package_runtime(fs: MergedFS, catalog: Catalog, paths: list[str]) -> set[str]:
    """``paths`` (real paths of programs and scripts the entrypoint runs) and, for each an OS
    package owns, the non-directory files that package has in the image other than docs,
    man pages, translations and service glue."""
    os_types = {i for i, p in enumerate(catalog.packages) if p.type in OS_PACKAGE_TYPES}
    wanted = {catalog.owners[p] for p in paths if catalog.owners.get(p) in os_types}
    out = {p for p in paths if p in fs.entries and fs.kind(p) != DIR}
    if wanted:
        resolver = Resolver(fs)
        for path, i in catalog.owners.items():
            if i not in wanted or path not in fs.entries or path.startswith(NOT_RUNTIME_PREFIXES):
                continue
            kind = fs.kind(path)
            if kind == DIR:
                continue
            if kind == SYMLINK:  # merged /usr's /lib -> usr/lib is "owned" too: not a file
                real = resolver.resolve(path)
                if real is not None and fs.kind(real) == DIR:
                    continue
            out.add(path)
    return out


def app_files(fs: MergedFS, catalog: Catalog, extra: set[str] | frozenset[str] = frozenset()
              ) -> AppFiles:
    """The application's files; ``extra`` paths are the application's whoever owns them."""
    judge = _Judge(fs, catalog, frozenset(extra))
    app: list[str] = []
    mixed: set[str] = {"/"}  # directories holding something that is not the app's
    total = 0
    for path in fs.sorted_paths():
        kind = fs.kind(path)
        if kind == DIR:
            continue
        if not judge.is_app(path):
            parent = path
            while parent != "/":
                parent = parent[:parent.rfind("/")] or "/"
                if parent in mixed:
                    break
                mixed.add(parent)
            continue
        app.append(path)
        if kind == FILE:
            total += fs.size(path)
    roots: list[str] = []
    for path in app:
        top = path
        parent = path[:path.rfind("/")] or "/"
        while parent not in mixed:
            top = parent
            parent = parent[:parent.rfind("/")] or "/"
        if not roots or roots[-1] != top:
            roots.append(top)
    return AppFiles(app, total, list(dict.fromkeys(roots)))
