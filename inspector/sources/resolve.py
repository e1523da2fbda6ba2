"""Reference → ``Image``: choose the source by transport; each source picks the platform
from an index with ``oci.platform.choose_manifest``."""

from __future__ import annotations

from collections.abc import Callable

from inspector.errors import InvalidReference, PlatformNotFound
from inspector.oci.platform import Platform, compatible
from inspector.options import Options
from inspector.reference import split_path_tag, split_transport
from inspector.sources.base import Image


def open_image(reference: str, options: Options | None = None, *,
               indexed: Callable[[str], bool] | None = None,
               toc_wanted: Callable[[str], bool] | None = None) -> Image:
    """Open ``reference`` (any form in ``inspector.reference``) as a single-platform image.

    Nothing is read beyond manifests and config here: layers are opened lazily. With
    ``options.platform_required`` (``--platform`` given), an image for another platform is
    ``PlatformNotFound`` even when the reference names a single-platform image (skopeo).
    ``indexed(diff_id)`` says whether a layer's index is cached (``analysis.open_image``
    passes it): the daemon source then skips ``docker save`` when every layer is.
    ``toc_wanted(toc_digest)``: whether the caller will list that layer from its table of
    contents (the registry source fetches those TOCs while it reads the config)."""
    options = options or Options()
    image = _open(reference, options, indexed, toc_wanted)
    if options.platform_required:
        try:
            _check_platform(image, options.platform)
        except BaseException:
            image.close()
            raise
    return image


def _check_platform(image: Image, wanted: Platform) -> None:
    try:
        got = Platform.parse(image.platform)
    except InvalidReference:
        got = None
    if got is None or got not in compatible(wanted):
        raise PlatformNotFound(
            f"{image.reference}: the image is for {image.platform}, not {wanted}",
            hint="it has no other platform; drop --platform to inspect it anyway",
            where=image.reference)


def _open(reference: str, options: Options, indexed: Callable[[str], bool] | None,
          toc_wanted: Callable[[str], bool] | None = None) -> Image:
    t = split_transport(reference)
    if t.transport == "oci":
        from inspector.sources.oci_layout import open_oci

        path, tag = split_path_tag(t.rest)
        return open_oci(path, tag, options, reference=reference)
    if t.transport == "oci-archive":
        from inspector.sources.oci_layout import open_oci_archive

        path, tag = split_path_tag(t.rest)
        return open_oci_archive(path, tag, options, reference=reference)
    if t.transport == "docker-archive":
        from inspector.sources.docker_archive import open_docker_archive

        path, tag = split_path_tag(t.rest)
        return open_docker_archive(path, tag, options, reference=reference)
    if t.transport == "path":
        from inspector.sources.detect import open_path

        return open_path(t.rest, options, reference=reference)
    if t.transport == "sample":
        from inspector.sources.samples import open_sample

        return open_sample(t.rest, options, reference=reference)
    if t.transport == "docker-daemon":
        from inspector.sources.daemon import open_daemon

        return open_daemon(t.rest, options, reference=reference, indexed=indexed)
    if t.transport == "registry":
        from inspector.sources.registry import open_registry

        return open_registry(t.rest, options, reference=reference, toc_wanted=toc_wanted)
    raise InvalidReference(f"unknown transport in {reference!r}")
