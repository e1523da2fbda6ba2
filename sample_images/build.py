#!/usr/bin/env python3
"""Build the bundled sample images into the OCI layout sample_images/oci/.

    python sample_images/build.py                      # everything, pinned by packages.lock
    python sample_images/build.py distroless-static    # one image (+ its distroless bases)
    python sample_images/build.py --refresh            # re-resolve versions, rewrite the lock
    python sample_images/build.py --output /tmp/x distroless-static   # elsewhere, e.g. to compare

Stdlib only. debian-12-slim needs root, debootstrap and deb.debian.org; the
distroless images need only the pinned .debs (downloaded once into the cache,
sha256-verified). See README.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from samplebuild import debs, images  # noqa: E402
from samplebuild.oci import Layout  # noqa: E402

LOCK = HERE / "packages.lock"
LAYOUT = HERE / "oci"


def build(names: list[str], output: Path = LAYOUT, lock_path: Path = LOCK, cache_dir: Path = debs.DEFAULT_CACHE,
          refresh: bool = False, write_lock: bool = True, log=print) -> Layout:
    """Build `names` (layout order) into `output`; other images already there are kept."""
    lock = debs.load_lock(lock_path)
    if "SOURCE_DATE_EPOCH" in os.environ:
        epoch = int(os.environ["SOURCE_DATE_EPOCH"])
    elif refresh or "source_date_epoch" not in lock:
        epoch = images.default_epoch()
    else:
        epoch = int(lock["source_date_epoch"])
    lock["source_date_epoch"] = epoch
    layout = Layout(output)
    builder = images.Builder(layout, lock, cache_dir, epoch, refresh, log=log)
    for name in images.ORDER:
        if name in names and name not in builder.built:
            builder.build(name)
    layout.finish(images.ORDER)
    if write_lock:
        lock["comment"] = ("Pinned inputs of sample_images/build.py; rewrite with --refresh. "
                           "distroless: .debs fetched by URL and sha256-verified; "
                           "debian-12-slim: what debootstrap installed (checked after each build).")
        debs.save_lock(lock_path, lock)
    return layout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="*", metavar="IMAGE", help=f"default: all of {', '.join(images.ORDER)}")
    parser.add_argument("--output", type=Path, default=LAYOUT, help="OCI layout directory (default: %(default)s)")
    parser.add_argument("--lock", type=Path, default=LOCK, help="lock file (default: %(default)s)")
    parser.add_argument("--cache-dir", type=Path, default=debs.DEFAULT_CACHE,
                        help=".deb download cache, outside git (default: %(default)s)")
    parser.add_argument("--refresh", action="store_true",
                        help="re-resolve package versions from apt (run apt-get update first) and rewrite the lock")
    args = parser.parse_args(argv)
    unknown = set(args.images) - set(images.ORDER)
    if unknown:
        parser.error(f"unknown image(s) {sorted(unknown)}; choose from {images.ORDER}")
    names = args.images or images.ORDER
    layout = build(names, args.output, args.lock, args.cache_dir, args.refresh,
                   log=lambda msg: print(msg, file=sys.stderr))
    for name in images.ORDER:
        if name in layout.entries:
            print(f"{name}\t{layout.entries[name]['digest']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
