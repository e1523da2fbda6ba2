"""SBOMs of an analysed image: ``inspector export IMAGE --format cyclonedx|spdx-json``.

``describe(analysis)`` gathers what both formats say — the image (reference, manifest
digest, platform), the OS (``/etc/os-release``), and per package its purl, the files it owns
and the layer that introduced it (digest and diff_id); ``cyclonedx.py`` writes CycloneDX 1.6
JSON with cyclonedx-python-lib, ``spdx.py`` SPDX 2.3 JSON.

purls follow the purl spec and match syft's (the tests compare them); each cataloger
spells its own (``purl(p, os)`` in ``catalog/<module>.py``, found through
``catalog.builder.purl``):
``pkg:deb/debian/NAME@VERSION?arch=ARCH&distro=debian-12&upstream=SOURCE[@SRCVERSION]``,
``pkg:apk/alpine/…?arch=…&distro=alpine-3.20.1&upstream=ORIGIN``,
``pkg:rpm/ID/NAME@VERSION-RELEASE?arch=…&epoch=E&distro=…``, ``pkg:pypi/NAME`` (PEP 503
normalised), ``pkg:npm/%40scope/name``, ``pkg:golang/MODULE`` (``stdlib`` without the
``go`` prefix; a main module without a version ``@(devel)``, parentheses unescaped as
syft writes them: ``SyftPurl``), ``pkg:generic/busybox`` for binaries found from their bytes; no purl
when the fields make none (an empty name).

Every SBOM is valid whatever the image's strings (``tests/sbom/test_sbom_strings.py``):

* A UTF-8 JSON document cannot carry a lone surrogate, so a byte that was not UTF-8 (the
  catalogers keep it as a ``surrogateescape`` surrogate) is written as the four characters
  ``\\xNN`` and any other lone surrogate as ``\\uNNNN`` — the forms ``inspector.visible``
  shows (``text``). This is applied to every package field and owned path before anything
  else, so a purl's version is its component's version (``\\`` percent-encoded there).
  Everything else (controls, bidi marks, any printable text) is kept: JSON escapes it.
* A licence string from an image is an SPDX id, an SPDX expression or neither
  (``license_form``): only a known id goes in as an id and only an expression whose every
  licence is a known id as an expression; anything else is a ``name`` (CycloneDX) or a
  ``LicenseRef-`` with its text (SPDX), so a hostile string never makes a document invalid.
* CycloneDX 1.6 caps a ``version`` at 1,024 characters: a longer one (which no package
  manager writes) is cut, marked with its full length, and kept whole in the property
  ``inspector:package:version`` (``cyclonedx.py``). SPDX 2.3 and purls have no cap.
"""

from __future__ import annotations

import dataclasses
import re

from packageurl import PackageURL

from inspector.analysis import Analysis
from inspector.catalog.builder import OSInfo, Package
from inspector.catalog.builder import purl as purl_fields
from inspector.catalog.cpe import cpes as cpe_list
from inspector.sbom.licenses import license_form
from inspector.sbom.model import TOOL_NAME, Description, SbomPackage

__all__ = ["FORMATS", "OS_RELEASE", "TOOL_NAME", "Description", "OSInfo", "SbomPackage",
           "describe", "image_platform", "license_form", "image_os", "parse_os_release", "purl", "render", "text"]
from inspector.visible import visible

OS_RELEASE = ("/etc/os-release", "/usr/lib/os-release")
_SURROGATE = re.compile("[\ud800-\udfff]")
_OS_RELEASE_LINE = re.compile("[\r\n]")


def text(value: str) -> str:
    """``value`` as a UTF-8 document can carry it: lone surrogates (bytes that were not
    UTF-8, or a ``\\ud800`` from JSON) as ``inspector.visible`` shows them, ``\\xNN`` or
    ``\\uNNNN``; everything else unchanged."""
    if _SURROGATE.search(value) is None:
        return value
    return _SURROGATE.sub(lambda m: visible(m.group()), value)


def _clean(p: Package) -> Package:
    """``p`` with every string field through ``text``."""
    return dataclasses.replace(
        p, name=text(p.name), version=text(p.version), arch=p.arch and text(p.arch),
        source_path=text(p.source_path), upstream=p.upstream and text(p.upstream),
        licenses=[text(v) for v in p.licenses])


def parse_os_release(data: bytes | None) -> OSInfo:
    """``KEY=value`` lines (values optionally quoted; os-release(5)). A line ends at "\\n" or
    "\\r", as systemd's ``parse_env_file`` and Python's ``platform.freedesktop_os_release``
    read it — not at "\\x0b", "\\x1c", U+0085, U+2028 … as ``str.splitlines()`` would (a
    ``PRETTY_NAME`` with U+2028 then ``ID=`` must not set the ID)."""
    fields: dict[str, str] = {}
    for line in _OS_RELEASE_LINE.split((data or b"").decode("utf-8", "replace")):
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            fields[key] = value
    return OSInfo(fields.get("ID", ""), fields.get("VERSION_ID", ""), fields.get("PRETTY_NAME", ""))


def image_os(analysis: Analysis) -> OSInfo:
    for path in OS_RELEASE:
        data = analysis.fs.captured(path)
        if data:
            return parse_os_release(data)
    return OSInfo()


class SyftPurl(PackageURL):
    """A ``PackageURL`` written as syft (packageurl-go) writes it: ``(`` and ``)`` kept,
    so a Go main module without a version is ``@(devel)``, not ``@%28devel%29`` (both
    parse to the same purl)."""

    def to_string(self, encode: bool | None = True) -> str:
        return super().to_string(encode).replace("%28", "(").replace("%29", ")")

    def __str__(self) -> str:
        return self.to_string()


def purl(p: Package, os: OSInfo) -> PackageURL | None:
    """The package URL of ``p`` in an image whose OS is ``os``; None when its fields make
    no valid purl (packageurl refuses an empty name)."""
    try:
        return SyftPurl(*purl_fields(p, os))
    except ValueError:
        return None


def image_platform(config: dict, platform: str | None) -> str:
    """``os/arch[/variant]`` as the image config says it, the variant kept (``linux/arm64/v8``;
    the source's platform is normalised, which drops arm64's ``v8``); ``platform`` when the
    config names no architecture."""
    arch = config.get("architecture")
    if not isinstance(arch, str) or not arch:
        return platform or ""
    os_name = config.get("os") if isinstance(config.get("os"), str) else "linux"
    variant = config.get("variant") if isinstance(config.get("variant"), str) else ""
    return "/".join(x for x in (os_name or "linux", arch, variant) if x)


def describe(analysis: Analysis) -> Description:
    image = analysis.image
    os = image_os(analysis)
    owned: dict[int, list[str]] = {}
    for path, index in analysis.catalog.owners.items():
        owned.setdefault(index, []).append(text(path))
    packages = []
    seen: dict[str, int] = {}
    from inspector.provenance import package_provenance

    provenance = package_provenance(analysis)
    for i, found in enumerate(analysis.catalog.packages):
        p = _clean(found)
        url = purl(p, os)
        ref = url.to_string() if url is not None else f"{p.type}:{p.name}"
        n = seen[ref] = seen.get(ref, 0) + 1
        layer = image.layers[p.layer] if p.layer is not None and p.layer < len(image.layers) else None
        packages.append(SbomPackage(
            p, url, ref if n == 1 else f"{ref}#{n}", sorted(owned.get(i, [])),
            layer.digest if layer else None, layer.diff_id if layer else None,
            cpe_list(p), provenance[i]))
    return Description(text(image.reference), text(image.manifest_digest or ""),
                       text(image.config_digest), text(image_platform(image.config, image.platform)), os, packages)


#: ``inspector export --format`` values this package writes
FORMATS = ("cyclonedx", "spdx-json")


def render(analysis: Analysis, fmt: str) -> str:
    """The SBOM of ``analysis`` in ``fmt`` (one of ``FORMATS``)."""
    d = describe(analysis)
    if fmt == "cyclonedx":
        from inspector.sbom import cyclonedx

        return cyclonedx.render(d)
    from inspector.sbom import spdx

    return spdx.render(d)
