"""The sample images: name, one-line description, and how each is assembled.

Images are built base-first; a derived image reuses its base's Layer objects, so
shared layers are the same blobs in the layout.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import tarfile
import shutil
import time
import urllib.parse
from pathlib import Path

from . import debs, distroless, hello, slim
from .oci import Layer, Layout

ORDER = ["debian-12-slim", "distroless-static", "distroless-base", "distroless-cc",
         "distroless-static-debug", "hello-debian", "hello-distroless", "hello-c-debian",
         "hello-cpp-debian", "distroless-python3", "hello-python-debian"]
BASE_OF = {"hello-c-debian": "debian-12-slim", "hello-cpp-debian": "debian-12-slim",
           "distroless-python3": "distroless-cc", "hello-python-debian": "debian-12-slim",
           "distroless-base": "distroless-static", "distroless-cc": "distroless-base",
           "distroless-static-debug": "distroless-static", "hello-debian": "debian-12-slim",
           "hello-distroless": "distroless-static"}
DESCRIPTIONS = {
    "debian-12-slim": "debian:12-slim rebuilt: debootstrap minbase bookworm + debuerreotype's slim rules; "
                      "bash, apt, dpkg, coreutils, perl-base; one layer",
    "distroless-static": "gcr.io/distroless/static-debian12 rebuilt: base-files, netbase, tzdata, media-types "
                         "+ hand-made passwd/group/tmp/CA bundle; no shell, no package manager, no libc",
    "distroless-base": "gcr.io/distroless/base-debian12 rebuilt: static + libc6 + libssl3; "
                       "dynamic binaries run, still no shell",
    "distroless-cc": "gcr.io/distroless/cc-debian12 rebuilt: base + libgomp1, libstdc++6, libgcc-s1, gcc-12-base "
                     "for C++/Rust binaries",
    "distroless-static-debug": "gcr.io/distroless/static-debian12:debug rebuilt: static + busybox at /busybox; "
                               "the only shell is /busybox/sh",
    "hello-debian": "multi-stage demo: a static Go HTTP server (/app/hello) on debian-12-slim",
    "hello-distroless": "multi-stage demo: the same /app/hello layer on distroless-static, USER nonroot",
    "hello-c-debian": "fit demo: /app/hello-c, a glibc-dynamic C server on debian-12-slim "
                      "(fits distroless-base, not static)",
    "hello-cpp-debian": "fit demo: /app/hello-cpp, a C++ server on debian-12-slim (needs distroless-cc)",
    "distroless-python3": "gcr.io/distroless/python3-debian12 rebuilt (minimal): cc + Debian's "
                          "python3.11-minimal interpreter and minimal standard library; no shell, no pip",
    "hello-python-debian": "fit demo: /app/main.py, a Python HTTP server on debian-12-slim + "
                           "python3.11-minimal, started as python3 /app/main.py",
}
#: what ``apt-get install --no-install-recommends python3.11-minimal`` adds to debian-12-slim
PYTHON_DEBIAN_PACKAGES = ["libexpat1", "libssl3", "libpython3.11-minimal", "python3.11-minimal"]
DISTROLESS_DEBS = (distroless.STATIC_PACKAGES + distroless.DERIVED_PACKAGES + distroless.BASE_PACKAGES
                   + distroless.CC_PACKAGES + distroless.DEBUG_PACKAGES + distroless.PYTHON_PACKAGES)
ANN = "io.inspector.sample."


@dataclasses.dataclass
class Built:
    layers: list[Layer]
    config: dict
    annotations: dict[str, str]


def _deb_ann(deb: debs.Deb) -> dict[str, str]:
    return {f"{ANN}deb.{deb.name}": f"{deb.version} sha256:{deb.sha256}"}


class Builder:
    def __init__(self, layout: Layout, lock: dict, cache_dir: Path, epoch: int, refresh: bool, log=print) -> None:
        self.layout, self.lock, self.cache_dir = layout, lock, cache_dir
        self.epoch, self.refresh, self.log = epoch, refresh, log
        self.built: dict[str, Built] = {}
        self._debs: dict[str, debs.Deb] = {}
        self._hello: tuple[Layer, str] | None = None
        self._resolved = False  # --refresh resolves every distroless package once

    # -- inputs -------------------------------------------------------------
    def deb(self, name: str) -> debs.Deb:
        if name not in self._debs:
            pins = self.lock.setdefault("distroless", {})
            if (self.refresh and not self._resolved) or name not in pins:
                pins.update(debs.resolve([n for n in DISTROLESS_DEBS if self.refresh or n not in pins]))
                self._resolved = True
            path = debs.fetch(name, pins[name], self.cache_dir, self.epoch)
            self._debs[name] = debs.Deb.open(path)
        return self._debs[name]

    def base(self, name: str) -> Built:
        if name not in self.built:
            if name in self.layout.entries and name == "debian-12-slim":
                self.log(f"reusing {name} from {self.layout.root}")
                self.built[name] = Built(*self.layout.load_image(name))
            else:
                self.build(name)
        return self.built[name]

    # -- images ---------------------------------------------------------------
    def build(self, name: str) -> None:
        self.log(f"building {name}")
        built = getattr(self, "_" + name.replace("-", "_"))()
        ann = {"org.opencontainers.image.title": name, f"{ANN}source-date-epoch": str(self.epoch)}
        ann.update(built.annotations)
        if name in BASE_OF:
            base = BASE_OF[name]
            ann["org.opencontainers.image.base.name"] = base
            ann["org.opencontainers.image.base.digest"] = self.layout.entries[base]["digest"]
        self.layout.add_image(name, DESCRIPTIONS[name], built.layers, built.config, ann)
        built.annotations = {k: v for k, v in ann.items() if k.startswith(ANN + "deb.")}
        self.built[name] = built

    def _packages(self, base: Built, names: list[str], extra_config: dict | None = None) -> Built:
        layers, ann = list(base.layers), dict(base.annotations)
        for pkg in names:
            deb = self.deb(pkg)
            layers.append(self.layout.write_layer(
                distroless.deb_layer(deb), f"distroless deb {deb.name}={deb.version} "
                                           f"(whole data.tar + /var/lib/dpkg/status.d/{deb.name})"))
            ann.update(_deb_ann(deb))
        return Built(layers, dict(extra_config or base.config), ann)

    def _distroless_static(self) -> Built:
        built = self._packages(Built([], distroless.STATIC_CONFIG, {}), distroless.STATIC_PACKAGES)
        for _, make, created_by in distroless.HANDMADE:
            built.layers.append(self.layout.write_layer(make(), created_by))
        ca = self.deb("ca-certificates")
        built.layers.append(self.layout.write_layer(
            distroless.cacerts_layer(ca), f"distroless //common:cacerts_debian12  /etc/ssl/certs/ca-certificates.crt "
                                          f"generated from ca-certificates={ca.version}"))
        built.annotations.update(_deb_ann(ca))
        return built

    def _distroless_base(self) -> Built:
        return self._packages(self.base("distroless-static"), distroless.BASE_PACKAGES)

    def _distroless_cc(self) -> Built:
        return self._packages(self.base("distroless-base"), distroless.CC_PACKAGES)

    def _distroless_static_debug(self) -> Built:
        base = self.base("distroless-static")
        bb = self.deb("busybox-static")
        layer = self.layout.write_layer(distroless.busybox_layer(bb), f"distroless busybox layer: /busybox/busybox "
                                        f"from Debian busybox-static={bb.version} + applet symlinks")
        return Built(base.layers + [layer], dict(distroless.DEBUG_CONFIG), {**base.annotations, **_deb_ann(bb)})

    def _hello_layer(self) -> tuple[Layer, str]:
        if self._hello is None:
            binary, toolchain = hello.build_binary()
            layer = self.layout.write_layer(hello.app_layer(binary, self.epoch),
                                            "COPY --from=build /out/hello /app/hello  # static Go HTTP server")
            self._hello = (layer, toolchain)
        return self._hello

    def _hello_debian(self) -> Built:
        base = self.base("debian-12-slim")
        layer, toolchain = self._hello_layer()
        config = {"Env": base.config.get("Env", []), "Entrypoint": ["/app/hello"], "ExposedPorts": {"8080/tcp": {}}}
        return Built(base.layers + [layer], config, {**base.annotations, f"{ANN}toolchain": toolchain})

    def _hello_distroless(self) -> Built:
        base = self.base("distroless-static")
        layer, toolchain = self._hello_layer()
        config = {"Env": base.config["Env"], "Entrypoint": ["/app/hello"], "ExposedPorts": {"8080/tcp": {}},
                  "User": "nonroot", "WorkingDir": "/home/nonroot"}
        return Built(base.layers + [layer], config, {**base.annotations, f"{ANN}toolchain": toolchain})

    def _native(self, lang: str) -> Built:
        base = self.base("debian-12-slim")
        binary, toolchain = hello.build_native(lang)
        path = hello.NATIVE[lang][2]
        layer = self.layout.write_layer(hello.native_layer(lang, binary, self.epoch),
                                        f"COPY --from=build /out/{path.rsplit('/', 1)[1]} /{path}  "
                                        f"# dynamically linked ({toolchain})")
        config = {"Env": base.config.get("Env", []), "Entrypoint": ["/" + path],
                  "ExposedPorts": {"8080/tcp": {}}}
        return Built(base.layers + [layer], config, {**base.annotations, f"{ANN}toolchain": toolchain})

    def _hello_c_debian(self) -> Built:
        return self._native("c")

    def _hello_cpp_debian(self) -> Built:
        return self._native("cpp")

    def _distroless_python3(self) -> Built:
        built = self._packages(self.base("distroless-cc"), distroless.PYTHON_PACKAGES,
                               distroless.PYTHON_CONFIG)
        built.layers.append(self.layout.write_layer(
            distroless.python_links_layer(),
            "distroless python3 symlinks: /usr/bin/python, /usr/bin/python3 -> /usr/bin/python3.11"))
        return built

    def _hello_python_debian(self) -> Built:
        base = self.base("debian-12-slim")
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(self.layout.blob(base.layers[0].digest)))) as tar:
            status = tar.extractfile("var/lib/dpkg/status").read()
        pkgs = [self.deb(n) for n in PYTHON_DEBIAN_PACKAGES]
        runtime = self.layout.write_layer(
            hello.python_runtime_layer(status, pkgs, self.epoch),
            "RUN apt-get install --no-install-recommends python3.11-minimal  # emulated from the pinned "
            ".debs: " + ", ".join(f"{d.name}={d.version}" for d in pkgs))
        app = self.layout.write_layer(hello.python_app_layer(self.epoch), "COPY main.py /app/main.py")
        config = {"Env": base.config.get("Env", []), "Entrypoint": ["python3"], "Cmd": ["/app/main.py"],
                  "ExposedPorts": {"8080/tcp": {}}}
        ann = dict(base.annotations)
        for deb in pkgs:
            ann.update(_deb_ann(deb))
        return Built(base.layers + [runtime, app], config, ann)

    def _debian_12_slim(self) -> Built:
        work = self.cache_dir / "work"
        rootfs = work / "debian-12-slim-rootfs"
        archives = self.cache_dir / "debootstrap"
        slim.bootstrap(rootfs, self.epoch, archives)
        pins = self._slim_pins(rootfs)
        slim.init(rootfs, self.epoch)
        slim.minimizing_config(rootfs)
        slim.slimify(rootfs)
        slim.fixup(rootfs)
        layer = self.layout.write_layer(
            slim.layer(rootfs, self.epoch),
            f"debootstrap --variant=minbase --merged-usr bookworm {slim.MIRROR} + debuerreotype 0.15 "
            f"minimizing-config, slimify, fixup, tar (epoch @{self.epoch})")
        shutil.rmtree(rootfs)
        ann = {f"{ANN}deb.{name}": f"{pin['version']} sha256:{pin['sha256']}" for name, pin in sorted(pins.items())}
        return Built([layer], dict(slim.CONFIG), ann)

    def _slim_pins(self, rootfs: Path) -> dict[str, dict]:
        """Versions + sha256 of what debootstrap installed; checked against the lock unless --refresh."""
        hashes = {}
        for path in (rootfs / "var/cache/apt/archives").glob("*.deb"):
            name, version, _ = urllib.parse.unquote(path.name[:-4]).split("_")
            hashes[name] = (version, hashlib.sha256(path.read_bytes()).hexdigest())
        pins = {}
        for name, version in slim.installed(rootfs).items():
            deb_version, sha = hashes.get(name, (version, ""))
            pins[name] = {"version": version, "sha256": sha}
        section = self.lock.get("debian-12-slim", {}).get("packages")
        if section and not self.refresh and section != pins:
            changed = sorted(n for n in set(section) | set(pins) if section.get(n) != pins.get(n))
            raise SystemExit(f"debian-12-slim: the mirror no longer gives the locked packages ({', '.join(changed)}); "
                             "rebuild with --refresh to accept the new versions")
        self.lock["debian-12-slim"] = {"mirror": slim.MIRROR, "suite": slim.SUITE, "variant": "minbase",
                                       "packages": pins}
        return pins


def default_epoch() -> int:
    """Today at 00:00 UTC: the epoch a --refresh records (debuerreotype uses a daily timestamp)."""
    now = int(time.time())
    return now - now % 86400
