"""Ground truth: paths of a real ``debootstrap --variant=minbase bookworm`` root, each with
the category a Debian maintainer would give it and why, written by hand (not generated
from the classifier's output). Paths without version numbers, so a point release keeps
them. The classifier must agree with every row, through the real catalog (dpkg owners)."""

from __future__ import annotations

import pytest

from inspector.catalog.builder import catalog_image
from inspector.classify import CATEGORY_ORDER, classify_image
from inspector.index.merge import merge
from tests.catalog.fsbuild import debootstrap_root, tar_directory_index

#: (path, category, reason)
TRUTH = [
    # shell
    ("/usr/bin/bash", "shell", "the bash shell itself"),
    ("/usr/bin/dash", "shell", "dash, Debian's /bin/sh"),
    ("/usr/bin/sh", "shell", "symlink to dash: the POSIX shell"),
    ("/usr/bin/rbash", "shell", "restricted bash, a link to bash"),
    ("/usr/bin/bashbug", "shell", "bash's bug-report script, shipped by bash"),
    ("/usr/share/bash-completion/completions/apt", "shell", "completion code runs inside bash"),
    # package manager
    ("/usr/bin/apt", "package_manager", "the apt front end"),
    ("/usr/bin/apt-get", "package_manager", "apt's classic front end"),
    ("/usr/bin/dpkg", "package_manager", "the package installer"),
    ("/usr/bin/dpkg-deb", "package_manager", "builds and unpacks .deb files"),
    ("/usr/bin/update-alternatives", "package_manager", "dpkg's alternatives tool"),
    ("/usr/sbin/start-stop-daemon", "package_manager", "shipped by dpkg (the package's table entry)"),
    ("/usr/bin/gpgv", "package_manager", "verifies apt's repository signatures"),
    ("/usr/lib/apt/methods/http", "package_manager", "apt's download method"),
    ("/usr/bin/debconf-set-selections", "package_manager", "debconf, dpkg's configuration system"),
    ("/usr/share/perl5/Debconf/Config.pm", "package_manager", "debconf's own Perl modules"),
    ("/etc/apt/apt.conf.d/01autoremove", "package_manager", "apt's own settings"),
    ("/usr/share/keyrings/debian-archive-keyring.gpg", "package_manager", "apt's trust anchors"),
    # package database
    ("/var/lib/dpkg/status", "package_database", "dpkg's database of installed packages"),
    ("/var/lib/dpkg/info/bash.list", "package_database", "dpkg's file list for bash"),
    ("/var/lib/dpkg/alternatives/awk", "package_database", "dpkg's record of the awk alternative"),
    ("/var/cache/debconf/config.dat", "package_database", "debconf's answers database"),
    ("/var/log/dpkg.log", "package_database", "dpkg's install log"),
    # core utilities
    ("/usr/bin/ls", "core_utilities", "coreutils"),
    ("/usr/bin/cat", "core_utilities", "coreutils"),
    ("/usr/bin/[", "core_utilities", "coreutils' test under its other name"),
    ("/usr/bin/find", "core_utilities", "findutils"),
    ("/usr/bin/grep", "core_utilities", "grep"),
    ("/usr/bin/sed", "core_utilities", "sed"),
    ("/usr/bin/tar", "core_utilities", "tar"),
    ("/usr/bin/gzip", "core_utilities", "gzip"),
    ("/usr/bin/mawk", "core_utilities", "the awk Debian installs by default"),
    ("/usr/bin/awk", "core_utilities", "alternatives link to mawk"),
    ("/usr/bin/mount", "core_utilities", "util-linux's mount"),
    ("/usr/bin/su", "core_utilities", "util-linux's su"),
    ("/usr/bin/passwd", "core_utilities", "the passwd package's password tool"),
    ("/usr/sbin/useradd", "core_utilities", "passwd package's user management"),
    ("/usr/sbin/adduser", "core_utilities", "Debian's adduser"),
    ("/usr/bin/login", "core_utilities", "login"),
    ("/usr/bin/hostname", "core_utilities", "the hostname package"),
    ("/usr/bin/clear", "core_utilities", "ncurses-bin"),
    ("/usr/sbin/ldconfig", "core_utilities", "libc-bin's linker cache tool"),
    ("/usr/bin/ldd", "core_utilities", "libc-bin's dependency lister"),
    ("/usr/bin/getent", "core_utilities", "libc-bin's name service query tool"),
    ("/usr/sbin/mke2fs", "core_utilities", "e2fsprogs"),
    ("/usr/bin/pidof", "core_utilities", "sysvinit-utils' process tool"),
    ("/usr/bin/run-parts", "core_utilities", "debianutils"),
    ("/usr/lib/terminfo/x/xterm", "core_utilities", "terminal descriptions ncurses tools read"),
    ("/usr/share/tabset/std", "core_utilities", "tab stop settings for tset"),
    # interpreter
    ("/usr/bin/perl", "interpreter", "perl-base: Debian's essential Perl"),
    ("/usr/lib/x86_64-linux-gnu/perl-base/strict.pm", "interpreter", "Perl's standard library"),
    ("/usr/lib/x86_64-linux-gnu/perl-base/auto/POSIX/POSIX.so", "interpreter",
     "a Perl extension module: goes with the interpreter that loads it"),
    # development
    ("/usr/share/gcc/python/libstdcxx/v6/printers.py", "development",
     "gdb pretty printers shipped by libstdc++6: a debugger helper, not a compiler"),
    ("/usr/share/gdb/auto-load/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30-gdb.py", "development",
     "gdb auto-load script, not a library"),
    # documentation
    ("/usr/share/doc/bash/copyright", "documentation", "licence text"),
    ("/usr/share/doc/dpkg/changelog.gz", "documentation", "changelog"),
    ("/usr/share/man/man1/ls.1.gz", "documentation", "man page"),
    ("/usr/share/info/coreutils.info.gz", "documentation", "info manual"),
    ("/usr/share/common-licenses/GPL-3", "documentation", "base-files' licence texts"),
    ("/usr/share/lintian/overrides/bash", "documentation", "packaging metadata for lintian"),
    ("/usr/share/bug/apt/script", "documentation", "reportbug hook: bug-reporting material"),
    # locale
    ("/usr/share/locale/de/LC_MESSAGES/coreutils.mo", "locale", "translated messages"),
    ("/usr/share/locale/fr/LC_MESSAGES/dpkg.mo", "locale", "translated messages"),
    ("/usr/lib/locale/C.utf8/LC_CTYPE", "locale", "the compiled C.UTF-8 locale"),
    ("/usr/lib/locale/C.utf8/LC_MESSAGES/SYS_LC_MESSAGES", "locale", "compiled locale data"),
    ("/usr/lib/x86_64-linux-gnu/gconv/UTF-16.so", "locale",
     "an iconv charset module (a plugin, not a library to link against)"),
    ("/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache", "locale", "iconv's module index"),
    # shared libraries
    ("/usr/lib/x86_64-linux-gnu/libc.so.6", "shared_library", "the C library"),
    ("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "shared_library", "the dynamic loader"),
    ("/usr/lib64/ld-linux-x86-64.so.2", "shared_library", "the loader's ABI path (a link)"),
    ("/usr/lib/x86_64-linux-gnu/libapt-pkg.so.6.0", "shared_library",
     "apt's library: a library, whatever tool it serves"),
    ("/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "shared_library", "the C++ runtime"),
    ("/usr/lib/x86_64-linux-gnu/libselinux.so.1", "shared_library", "a library"),
    ("/usr/lib/x86_64-linux-gnu/security/pam_unix.so", "shared_library",
     "a PAM module in a library directory"),
    ("/usr/libexec/coreutils/libstdbuf.so", "shared_library", "a preload library of coreutils"),
    # time zones
    ("/usr/share/zoneinfo/Europe/Berlin", "timezone_data", "tzdata"),
    ("/usr/share/zoneinfo/zone.tab", "timezone_data", "tzdata's index"),
    ("/etc/localtime", "timezone_data", "the system time zone link"),
    ("/etc/timezone", "timezone_data", "the system time zone's name"),
    # configuration
    ("/etc/passwd", "configuration", "user accounts"),
    ("/etc/shadow", "configuration", "password hashes"),
    ("/etc/group", "configuration", "groups"),
    ("/etc/nsswitch.conf", "configuration", "name service switch"),
    ("/etc/pam.d/su", "configuration", "PAM policy for su (not the su command)"),
    ("/etc/login.defs", "configuration", "shadow suite settings"),
    ("/etc/ld.so.cache", "configuration", "the loader's cache, generated by ldconfig"),
    ("/etc/bash.bashrc", "configuration", "system-wide bash settings"),
    ("/etc/skel/.bashrc", "configuration", "new users' default bashrc"),
    ("/etc/dpkg/dpkg.cfg", "configuration", "dpkg's settings file"),
    ("/etc/hostname", "configuration", "the host name"),
    ("/root/.bashrc", "configuration", "root's shell settings"),
    # system
    ("/bin", "system", "usrmerge's link to /usr/bin, owned by base-files"),
    ("/lib", "system", "usrmerge's link to /usr/lib"),
    ("/lib64", "system", "usrmerge's link to /usr/lib64"),
    ("/sbin", "system", "usrmerge's link to /usr/sbin"),
    ("/usr/lib/os-release", "system", "the OS's identity"),
    ("/etc/os-release", "system", "link to the OS's identity"),
    ("/etc/debian_version", "system", "the Debian point release"),
    ("/usr/lib/systemd/system/apt-daily.service", "system", "a systemd unit (shipped by apt)"),
    ("/usr/lib/systemd/system/fstrim.timer", "system", "a systemd timer (util-linux)"),
    ("/usr/lib/lsb/init-functions", "system", "LSB init-script helpers"),
    ("/etc/init.d/hwclock.sh", "system", "a SysV init script"),
    ("/usr/sbin/service", "system", "init-system-helpers' service wrapper"),
    ("/usr/sbin/invoke-rc.d", "system", "policy-aware init-script runner"),
    ("/usr/lib/mime/packages/tar", "system", "a mime registration"),
    ("/etc/alternatives/awk", "system", "an alternatives registration link"),
    ("/var/run", "system", "base layout link to /run"),
    ("/var/lib/pam/seen", "system", "pam-auth-update's state"),
    ("/var/log/wtmp", "system", "login accounting"),
    ("/dev/null", "system", "a device node"),
    ("/usr/share/base-passwd/passwd.master", "system", "base-passwd's master user list"),
    ("/usr/share/pam/common-auth", "system", "libpam-runtime's templates for /etc/pam.d"),
]


def test_table_is_big_and_covers_the_root_categories():
    assert len(TRUTH) >= 80
    assert len({row[0] for row in TRUTH}) == len(TRUTH), "a path listed twice"
    assert {row[1] for row in TRUTH} <= set(CATEGORY_ORDER)
    assert all(row[2] for row in TRUTH)


@pytest.fixture(scope="module")
def root_categories() -> dict[str, str]:
    fs = merge([tar_directory_index(debootstrap_root())])
    return classify_image(fs, catalog_image(fs)).categories


@pytest.mark.slow
@pytest.mark.parametrize("path, expected, reason", TRUTH, ids=[row[0] for row in TRUTH])
def test_ground_truth(root_categories, path, expected, reason):
    assert path in root_categories, f"{path} is not in the debootstrap root"
    assert root_categories[path] == expected, reason
