"""The options every command takes (README "Common options"), defined once, and the
``Options`` they make; ``--vulns`` for the commands that overlay a scanner report."""

from __future__ import annotations

import argparse
from pathlib import Path

from inspector import config
from inspector.oci.platform import Platform
from inspector.options import Options


def add_common(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("image access")
    g.add_argument("--platform", metavar="OS/ARCH[/VARIANT]",
                   help="platform to choose from a multi-platform image (default linux/amd64); "
                        "given, an image for another platform is an error")
    g.add_argument("--tls-verify", dest="tls_verify", action="store_true", default=True,
                   help="verify registry TLS certificates (default)")
    g.add_argument("--no-tls-verify", dest="tls_verify", action="store_false",
                   help="do not verify TLS certificates; allow plain HTTP to any registry")
    g.add_argument("--ca-cert", type=Path, metavar="FILE", help="extra CA bundle for registries")
    g.add_argument("--anonymous", action="store_true",
                   help="ignore stored registry credentials (~/.docker/config.json)")
    g.add_argument("--cache-dir", type=Path, metavar="DIR", help="cache directory")
    g.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    g.add_argument("--cache-max", type=config.size_arg, metavar="SIZE",
                   help="cache size cap, e.g. 10G (default 5G; INSPECTOR_CACHE_MAX, config.toml)")
    g.add_argument("--source", choices=("docker", "podman", "docker-archive"),
                   help="dive's spelling: where a bare NAME[:TAG] comes from")
    g.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    g.add_argument("--timeout", type=_seconds, default=30.0, metavar="SECONDS",
                   help="registry connect and idle-read timeout (default 30)")
    g.add_argument("--full", action="store_true",
                   help="pull every layer whole and verify its diff_id, even when a table of "
                        "contents (zstd:chunked) could list it with a few Range requests")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < 1e6:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def options_of(args: argparse.Namespace) -> Options:
    """The common options of parsed ``args``: flag > ``INSPECTOR_*`` > config.toml > default."""
    config.apply(args)
    if not args.tls_verify:  # the user chose it; one warning per request is noise
        import warnings

        warnings.filterwarnings("ignore", message="Unverified HTTPS request")
    return Options(
        platform=Platform.parse(args.platform or "linux/amd64"), tls_verify=args.tls_verify,
        ca_cert=args.ca_cert, anonymous=args.anonymous, cache_dir=args.cache_dir,
        no_cache=args.no_cache, quiet=args.quiet, engine=args.source, cache_max=args.cache_max,
        platform_required=args.platform is not None, timeout=args.timeout,
        full=getattr(args, "full", False),
    )


def add_vulns(p: argparse.ArgumentParser) -> None:
    p.add_argument("--vulns", action="append", metavar="FILE",
                   help="a grype, trivy or CycloneDX JSON report of the image (one per "
                        "image, in image order): counts by severity beside the contents")
    p.add_argument("--vulns-any-image", action="store_true",
                   help="overlay a --vulns report even when it names another image")


def add_base(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base-image", metavar="REF",
                   help="the image this one was built FROM (its layers must be the first "
                        "ones): every figure is split into base and own; default: detected "
                        "from the images compared or the bundled samples")
