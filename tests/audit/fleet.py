"""A fleet on a real loopback registry: ~20 images on two shared bases, pushed with skopeo.

Half the images stand on ``full`` (a shell, a package manager and core utilities), half on
``slim`` (no shell); every image adds one layer of its own, and two share a middle layer
too, so the audit has layers shared by 2, 10 and 1 images."""

from __future__ import annotations

import random
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout

N_IMAGES = 20


@dataclass
class Fleet:
    host: str  # registry host:port
    names: list[str]  # repository names, fleet/app00 …
    references: list[str]  # host/fleet/appNN:latest
    diff_ids: dict[str, list[str]] = field(default_factory=dict)  # reference → diff_ids
    on_full: set[str] = field(default_factory=set)  # references built on the full base

    @property
    def distinct_layers(self) -> int:
        return len({d for ids in self.diff_ids.values() for d in ids})

    @property
    def layer_references(self) -> int:
        return sum(len(ids) for ids in self.diff_ids.values())


def _noise(seed: int, n: int) -> bytes:
    return random.Random(seed).randbytes(n)


FULL = make_layer({
    "usr/bin/bash": b"\x7fELF" + _noise(1, 20_000),
    "bin": Entry("symlink", target="usr/bin"),
    "usr/bin/apt-get": b"\x7fELF" + _noise(2, 8_000),
    "usr/bin/dpkg": b"\x7fELF" + _noise(3, 8_000),
    "usr/bin/ls": b"\x7fELF" + _noise(4, 4_000),
    "usr/bin/cat": b"\x7fELF" + _noise(5, 4_000),
    "usr/bin/passwd": Entry("file", data=b"\x7fELF" + _noise(6, 3_000), mode=0o4755),
    "etc/os-release": b"ID=debian\nVERSION_ID=12\n",
})
SLIM = make_layer({
    "etc/passwd": b"root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n",
    "etc/ssl/certs/ca-certificates.crt": _noise(7, 5_000),
    "etc/os-release": b"ID=debian\nVERSION_ID=12\n",
})
MIDDLE = make_layer({"usr/lib/libshared.so.1": b"\x7fELF" + _noise(8, 30_000)})


def build_fleet(work: Path, registry_host: str, n: int = N_IMAGES) -> Fleet:
    specs = []
    for i in range(n):
        base = FULL if i < n // 2 else SLIM
        layers = [base] + ([MIDDLE] if i in (0, n - 1) else [])
        layers.append(make_layer({f"app/app{i:02d}": b"\x7fELF" + _noise(100 + i, 2_000 + i)}))
        specs.append(ImageSpec(layers, ref_name=f"app{i:02d}"))
    written = write_oci_layout(work / "fleet", specs)
    names = [f"fleet/app{i:02d}" for i in range(n)]
    fleet = Fleet(registry_host, names, [f"{registry_host}/{name}:latest" for name in names])
    for i, (built, ref) in enumerate(zip(written.images, fleet.references, strict=True)):
        subprocess.run(["skopeo", "copy", "-q", "--dest-tls-verify=false",
                        f"oci:{work / 'fleet'}:app{i:02d}", f"docker://{ref}"],
                       check=True, capture_output=True, timeout=120)
        fleet.diff_ids[ref] = built.diff_ids
        if i < n // 2:
            fleet.on_full.add(ref)
    # one extra tag, for --tags
    subprocess.run(["skopeo", "copy", "-q", "--dest-tls-verify=false",
                    f"oci:{work / 'fleet'}:app00", f"docker://{registry_host}/fleet/app00:v1"],
                   check=True, capture_output=True, timeout=120)
    return fleet
