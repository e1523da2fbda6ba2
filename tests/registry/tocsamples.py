"""The bundled samples (``sample_images/oci``) as zstd:chunked images, for the TOC tests.

``skopeo copy --dest-compress-format zstd:chunked`` of one sample takes seconds to a minute
(every layer recompressed); the converted OCI layout is kept between runs under
``~/.cache/inspector-tests/toc-samples`` (``INSPECTOR_TEST_TOC_SAMPLES`` moves it), named by
what it is made from (the sample's manifest digest, skopeo's version, ``RECIPE``). The suite
runs under pytest-xdist: a lock per sample (``tests.locks.file_lock``) lets one process
convert while the others wait and find it converted; a half-written layout is never seen
(converted beside it, renamed into place).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from tests.catalog.fsbuild import TEST_ROOTS, root_key
from tests.locks import file_lock
from tests.registry.tocimages import SAMPLES, copy_image

#: bump when the conversion below changes: every cached layout is converted again
RECIPE = 1
CACHE = Path(os.environ.get("INSPECTOR_TEST_TOC_SAMPLES") or TEST_ROOTS.parent / "toc-samples")
REF_NAME = "org.opencontainers.image.ref.name"


def sample_names() -> list[str]:
    """Every image ``sample_images/oci`` holds (its ``sample:`` names), in its order."""
    index = json.loads((SAMPLES / "index.json").read_text())
    return [m["annotations"][REF_NAME] for m in index["manifests"]]


def _manifest_digest(name: str) -> str:
    index = json.loads((SAMPLES / "index.json").read_text())
    return next(m["digest"] for m in index["manifests"] if m["annotations"][REF_NAME] == name)


def _skopeo_version() -> str:
    done = subprocess.run(["skopeo", "--version"], capture_output=True, text=True, timeout=60)
    return done.stdout.strip()


def zstd_chunked_layout(name: str) -> Path:
    """An OCI layout holding sample ``name`` converted to zstd:chunked, tagged ``v1``."""
    inputs = {"recipe": RECIPE, "sample": _manifest_digest(name), "skopeo": _skopeo_version()}
    out = CACHE / f"{name}-{root_key(inputs)}"
    if (out / "index.json").is_file():
        return out
    CACHE.mkdir(parents=True, exist_ok=True)
    with file_lock(CACHE / f".{name}.lock"):
        if not (out / "index.json").is_file():
            tmp = CACHE / f".{out.name}.tmp-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            copy_image(f"oci:{SAMPLES}:{name}", f"oci:{tmp}:v1",
                       "--dest-compress-format", "zstd:chunked")
            tmp.rename(out)
            for stale in CACHE.glob(f"{name}-*"):  # layouts made from other inputs
                if stale != out and stale.name.rsplit("-", 1)[0] == name:
                    shutil.rmtree(stale, ignore_errors=True)
    return out


def push_sample(host: str, name: str) -> tuple[str, str]:
    """Sample ``name`` on the registry at ``host`` as pushed (gzip) and as zstd:chunked,
    each in its own repository (the gzip one first: skopeo's blob-info cache would otherwise
    offer the zstd:chunked blob of the same diff_id for the gzip push)."""
    layout = zstd_chunked_layout(name)
    gzip_ref, zc_ref = f"{host}/toc/sample-{name}-gzip:v1", f"{host}/toc/sample-{name}-zc:v1"
    copy_image(f"oci:{SAMPLES}:{name}", f"docker://{gzip_ref}")
    copy_image(f"oci:{layout}:v1", f"docker://{zc_ref}")
    return gzip_ref, zc_ref
