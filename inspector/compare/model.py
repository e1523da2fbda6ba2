"""The side-by-side result of comparing N images: plain dataclasses, no rendering.

``CompareResult`` is what the headless reports (``inspector.report.compare``) and the
TUI's compare screen read. Everything is per image in the order the images were given
(index ``i`` of every ``per_image``/``only_in`` list is image ``i``). Sizes are bytes;
totals follow the hardlink rule of ``inspector.index.hardlinks`` (a hardlink group's bytes
count once, at its regular file). Layer ``index`` fields are 0-based positions (base
first); reports print them 1-based ("layer 1..N").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from inspector.index.efficiency import Efficiency
from inspector.report.sizes import count, human

if TYPE_CHECKING:
    from inspector.provenance import Split
    from inspector.vulns import Overlay, PairVulns


@dataclass
class LayerSummary:
    index: int  # base first
    digest: str  # blob as stored
    diff_id: str  # uncompressed tar
    compressed_size: int
    uncompressed_size: int
    created_by: str = ""
    #: other images (indexes) that have this same diff_id
    shared_with: list[int] = field(default_factory=list)


@dataclass
class ImageSummary:
    reference: str  # as given
    label: str  # short and unique among the compared images (``debian-12-slim``)
    source: str
    manifest_digest: str
    platform: str
    compressed_size: int  # blobs
    uncompressed_size: int  # layer tars
    files: int  # non-directory entries of the merged filesystem
    file_bytes: int  # bytes of its regular files
    packages: int
    layers: list[LayerSummary] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: dive's score and wasted bytes, the reclaimable bytes, the inefficient files
    efficiency: Efficiency | None = None
    #: its base (given, or the longest diff_id prefix shared with another image compared,
    #: or a bundled sample) and every figure split into base and own (``provenance``)
    base: Split | None = None


@dataclass
class CategoryCell:
    files: int = 0
    bytes: int = 0
    paths: list[str] = field(default_factory=list)


@dataclass
class CategoryRow:
    name: str
    per_image: list[CategoryCell]
    #: "shell: debian-12-slim 6 files 1.4 MB — distroless-static none"
    verdict: str = ""

    @property
    def differs(self) -> bool:
        """Worth a verdict line: the images differ here (one image alone: it has files)."""
        if len(self.per_image) == 1:
            return self.per_image[0].files > 0
        return len({(c.files, c.bytes) for c in self.per_image}) > 1


@dataclass(frozen=True)
class PackageRef:
    type: str  # deb|apk|rpm|python|npm|go
    name: str
    version: str
    size: int | None  # bytes of its files present in the image


@dataclass
class VersionChange:
    type: str
    name: str
    versions: list[str | None]  # per image; None where the image lacks it
    sizes: list[int | None]  # per image


@dataclass
class PackageDiff:
    #: per image, packages no other image has (largest first)
    only_in: list[list[PackageRef]]
    #: packages in two or more images whose versions differ
    version_changed: list[VersionChange]
    #: packages every image has, with the same version (sorted by name)
    common: list[PackageRef]

    @property
    def common_count(self) -> int:
        return len(self.common)


class FileRef(NamedTuple):
    """One path in one image (a named tuple: thousands are built per compare)."""

    path: str
    type: str  # file|hardlink|symlink|char|block|fifo (dir only in a type change)
    size: int  # bytes (a hardlink: the linked file's)
    mode: int  # permission bits with setuid/setgid/sticky
    target: str | None = None


@dataclass
class FileChange:
    path: str
    per_image: list[FileRef | None]  # None where the image lacks the path
    #: what differs, in this order: type, size, mode, target
    reasons: tuple[str, ...]

    @property
    def size(self) -> int:
        return max((f.size for f in self.per_image if f is not None), default=0)


#: the attributes a file change is judged on, in report order
CHANGE_REASONS = ("type", "size", "mode", "target")


@dataclass
class FileDiff:
    """Non-directory paths of the merged filesystems (a path that is a directory in one
    image and something else in another counts as a type change)."""

    #: per image, paths no other image has
    only_in: list[list[FileRef]]
    #: paths in two or more images whose type, size, mode or target differ
    changed: list[FileChange]
    #: paths every image has, identical
    common: int
    #: paths in more than one but not all images, identical where present (3+ images)
    partial: int = 0

    @property
    def only_in_counts(self) -> list[int]:
        return [len(x) for x in self.only_in]

    def changed_by(self) -> dict[str, int]:
        out = dict.fromkeys(CHANGE_REASONS, 0)
        for change in self.changed:
            for reason in change.reasons:
                out[reason] += 1
        return out


@dataclass
class SharedLayer:
    diff_id: str
    images: list[int]  # indexes of the images that contain it
    compressed_size: int
    uncompressed_size: int


@dataclass
class PairVerdict:
    """Image ``image`` against the first image, from those two images alone (so a pair's
    figures never change with the other images compared). Files are non-directory paths;
    bytes follow the hardlink rule."""

    image: int  # index of the image (1..N-1); the first image is the base
    left_out_files: int  # paths of the first image this one lacks
    left_out_bytes: int
    added_files: int  # paths this image has and the first lacks
    added_bytes: int
    changed: int  # paths both have, differing in type, size, mode or target
    identical: int  # paths both have, the same

    def sentence(self, labels: list[str]) -> str:
        """``distroless-static leaves out 2,464 files (73.3 MB) of debian-12-slim and adds
        3 files (1.2 kB) of its own; 40 identical, 12 differ.``"""
        return (f"{labels[self.image]} leaves out {count(self.left_out_files, 'file')} "
                f"({human(self.left_out_bytes)}) of {labels[0]} and adds "
                f"{count(self.added_files, 'file')} ({human(self.added_bytes)}) of its own; "
                f"{self.identical:,} identical, {self.changed:,} differ.")


@dataclass
class RunsAs:
    """The user an image's processes start as (its config's ``User``)."""

    user: str  # as configured; "" when unset (which is root)
    root: bool  # it means uid 0

    def describe(self) -> str:
        """``root (User unset)``, ``nonroot``, ``0 (root)``."""
        if not self.user:
            return "root (User unset)"
        return f"{self.user} (root)" if self.root else self.user


@dataclass
class Security:
    """What a reviewer asks beside the findings, per image in image order (the findings
    themselves are ``CompareResult.findings``; shared layers ``shared_layers``)."""

    runs_as: list[RunsAs]
    #: regular files (and hardlinks) with an execute bit, sorted
    executables: list[list[str]]
    #: the executables in the interpreter category (python, perl, node …)
    interpreters: list[list[str]]


@dataclass
class CompareResult:
    images: list[ImageSummary]
    categories: list[CategoryRow]
    packages: PackageDiff
    files: FileDiff
    #: finding name → per image, its list (paths, or ``user:shell`` for login_users)
    findings: dict[str, list[list[str]]]
    shared_layers: list[SharedLayer]
    #: image i (1..N-1) against the first image, in image order (none for one image)
    pairs: list[PairVerdict] = field(default_factory=list)
    #: who each image runs as, its executables and interpreters
    security: Security | None = None
    #: the scanner reports laid over each image (``--vulns``; ``inspector.vulns``), and
    #: per pair (as ``pairs``) what image i drops and adds against the first; None without
    vulns: list[Overlay] | None = None
    vuln_pairs: list[PairVulns | None] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        return [image.label for image in self.images]

    @property
    def verdicts(self) -> list[str]:
        """One line per category that differs between the images (CATEGORY_ORDER)."""
        return [row.verdict for row in self.categories if row.differs]
