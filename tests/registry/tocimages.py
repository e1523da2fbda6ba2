"""Images with a table of contents on the loopback registry, shared by the TOC tests
(``toc_images`` in ``conftest.py``): each pushed gzip and zstd:chunked, and the helpers
that compare what a command makes of both."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

from inspector.analysis import analyze
from inspector.options import Options
from inspector.report.export import write_export
from inspector.sources.registry import open_registry
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_images" / "oci"
DPKG_STATUS = (b"Package: hello\nStatus: install ok installed\nArchitecture: amd64\n"
               b"Version: 2.10-3\n\n")
ELF = b"\x7fELF\x02\x01\x01" + bytes(57) + bytes(range(256)) * 40
LAYERS = [
    make_layer({
        "etc/": Entry("dir"), "etc/os-release": b"ID=debian\nVERSION_ID=12\n",
        "var/lib/dpkg/status": DPKG_STATUS,
        "usr/bin/hello": Entry("file", ELF, mode=0o755),
        "usr/bin/run": Entry("file", b"#!/bin/sh\necho hi\n" * 300, mode=0o4750, uid=7, gid=9),
        "usr/bin/hi": Entry("hardlink", target="usr/bin/hello"),
        "usr/bin/sh": Entry("symlink", target="dash"),
        "opt/old/a": b"a" * 1000, "opt/keep/b": b"b" * 2000,
        "data/big.bin": bytes(range(256)) * 4000,
        "empty": b"",
    }),
    make_layer({"opt/new": b"new\n", "usr/bin/hello2": Entry("hardlink", target="usr/bin/hello")},
               whiteouts=["opt/old"], opaque=["opt/keep"]),
]
#: name → the OCI layout image it is pushed from (``mixed``: ``LAYERS``, written first)
SOURCES = {"mixed": None, "debian": "debian-12-slim", "cpp": "hello-cpp-debian"}


def copy_image(source: str, dest: str, *flags: str) -> None:
    subprocess.run(["skopeo", "copy", "-q", "--dest-tls-verify=false", *flags, source, dest],
                   check=True, capture_output=True, timeout=300)


def push_toc_images(host: str, work: Path) -> dict[str, str]:
    """``NAME:gzip`` and ``NAME:zc`` (zstd:chunked, converted into an OCI layout first,
    then pushed to its own repository: skopeo's blob-info cache would otherwise reuse the
    gzip blob of the same diff_id) for each of ``SOURCES``."""
    write_oci_layout(work / "mixed", [ImageSpec(LAYERS, ref_name="v1")])
    out = {}
    for name, sample in SOURCES.items():
        source = f"oci:{SAMPLES}:{sample}" if sample else f"oci:{work}/mixed:v1"
        copy_image(source, f"oci:{work}/{name}-zc:v1", "--dest-compress-format", "zstd:chunked")
        copy_image(source, f"docker://{host}/toc/{name}-gzip:v1")
        copy_image(f"oci:{work}/{name}-zc:v1", f"docker://{host}/toc/{name}-zc:v1")
        out[f"{name}:gzip"] = f"{host}/toc/{name}-gzip:v1"
        out[f"{name}:zc"] = f"{host}/toc/{name}-zc:v1"
        for kind, has_toc in (("zc", True), ("gzip", False)):
            image = open_registry(out[f"{name}:{kind}"], Options(no_cache=True),
                                  reference=out[f"{name}:{kind}"])
            assert all((layer.toc is not None) == has_toc for layer in image.layers), \
                f"skopeo reused a blob of {name}:{kind}"
    return out


def export(ref: str, options: Options) -> tuple[dict, list[str]]:
    image = open_registry(ref, options, reference=ref)
    analysis = analyze(image, options)
    out = io.StringIO()
    write_export(analysis, out)
    return json.loads(out.getvalue()), analysis.notices


def comparable(doc: dict) -> dict:
    """What must not depend on how the layers were read."""
    layers = [{k: v for k, v in la.items() if k not in (
        "digest", "media_type", "compressed_size", "uncompressed_size", "verified")}
        for la in doc["layers"]]
    return {"files": doc["files"], "packages": doc["packages"], "layers": layers,
            "categories": doc["categories"], "findings": doc["findings"],
            "files_bytes": doc["size"]["files"]}
