"""The one error tree. Every expected failure is an ``InspectorError``; the CLI prints
``str(error)`` as one line and exits 1, the TUI shows it in a notification.

    InspectorError
    ├── InvalidReference         the image reference cannot be parsed or resolved
    ├── SourceError              the image cannot be found or opened
    │   ├── ImageNotFound        missing path, unknown tag, unknown image
    │   ├── PlatformNotFound     the index has no manifest for the requested platform
    │   ├── UnsupportedMediaType unknown/unsupported manifest, config or layer media type
    │   ├── FormatError          malformed JSON, layout, archive, manifest
    │   └── EngineError          the Docker/podman engine is not reachable or refused
    ├── RegistryError            HTTP-level failure talking to a registry
    │   ├── AuthError            401/403, bad credentials, token server trouble
    │   ├── RateLimited          429 after retries
    │   └── TransportError       DNS/TLS/connection failures, 5xx after retries
    ├── IntegrityError           bytes do not match what was promised
    │   ├── DigestMismatch       a blob's digest or a layer's diff_id differs
    │   └── SizeMismatch         a blob is shorter or longer than its descriptor says
    ├── LayerError               a layer's content cannot be read
    │   ├── CompressionError     corrupt or truncated gzip/zstd stream
    │   └── TarError             malformed tar (bad checksum, truncated, oversized header)
    ├── CacheError               the on-disk cache cannot be used (never raised for corrupt
    │                            entries: those are discarded and rebuilt)
    ├── OutputError              the report cannot be written (``-o``)
    ├── InputError               a file or value the user gave cannot be used (exit 2)
    │   ├── RulesError           a ``check`` rules file is unreadable or wrong
    │   ├── ConfigError          ``config.toml`` or an ``INSPECTOR_*`` variable (config.py)
    │   └── ReportError          a scanner report (``--vulns``) is unreadable, malformed or
    │                            about another image
    └── Cancelled                the user cancelled a long operation

Messages say what failed, where (image, layer, URL, path) and what to do. Errors also
carry that context as data, so callers and tests need not parse the wording: ``where``
(the reference, layer, file or URL the error is about), ``field`` (the JSON field of a
malformed document, ``FormatError``) and ``status`` (the HTTP status, ``RegistryError``).
"""

from __future__ import annotations


class InspectorError(Exception):
    """Base of every expected failure. ``str()`` is a one-line, user-facing message."""

    #: the CLI's exit status for this error (2: the user's own input, as a usage error)
    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, where: str | None = None,
                 field: str | None = None, status: int | None = None) -> None:
        self.message = message
        self.hint = hint
        #: what the error is about: a reference, layer digest, file path or URL
        self.where = where
        #: the offending field of a document (``FormatError``), as a dotted path
        self.field = field
        #: the HTTP status a registry answered (``RegistryError``), when there was one
        self.status = status
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InvalidReference(InspectorError):
    """The image reference (or platform) cannot be parsed."""


class SourceError(InspectorError):
    """The image cannot be found or opened."""


class ImageNotFound(SourceError):
    pass


class PlatformNotFound(SourceError):
    pass


class UnsupportedMediaType(SourceError):
    pass


class FormatError(SourceError):
    pass


class EngineError(SourceError):
    pass


class RegistryError(InspectorError):
    pass


class AuthError(RegistryError):
    pass


class RateLimited(RegistryError):
    pass


class TransportError(RegistryError):
    pass


class IntegrityError(InspectorError):
    pass


class DigestMismatch(IntegrityError):
    pass


class SizeMismatch(IntegrityError):
    pass


class LayerError(InspectorError):
    pass


class CompressionError(LayerError):
    pass


class TarError(LayerError):
    pass


class CacheError(InspectorError):
    pass


class OutputError(InspectorError):
    pass


class InputError(InspectorError):
    """A file or value the user gave (rules file, ``config.toml``, ``audit --from`` list, a
    glob) cannot be used; the message names the file, line and key. Exit 2, as for a
    usage error."""

    exit_code = 2


class RulesError(InputError):
    """A ``check`` rules file cannot be read or has a wrong key or value (names the file,
    line and key); ``inspector check`` exits 2, as for a usage error."""


class ReportError(InputError):
    """A scanner report given with ``--vulns`` cannot be read, is not a grype, trivy or
    CycloneDX document, has a field of the wrong shape (``field``) or describes another
    image than the one analysed."""


class Cancelled(InspectorError):
    def __init__(self, message: str = "cancelled") -> None:
        super().__init__(message)


def print_line(text: str) -> None:
    """``inspector: TEXT`` as one line on stderr (an error, a warning, a notice).

    Such a line often carries a string from an image or a list file (a path, a reference,
    a media type, a member name), so ``TEXT`` goes through :func:`inspector.visible.visible`
    here, where every diagnostic line is printed: a control character or a byte that was
    not UTF-8 is shown as ``\\xNN`` and can neither drive the terminal nor break the line.
    """
    import sys

    from inspector.visible import visible

    print("inspector: " + visible(text), file=sys.stderr)
