"""The fit verdict as plain data: what the reports, ``--format json`` and the TUI read.
Sizes are bytes of regular files (as ``compare`` counts them), files are non-directory
entries."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

FITS, COPY, NO = "fits", "fits if libraries are copied", "does not fit"


@dataclass
class LibraryRow:
    name: str  # the soname asked for
    path: str  # where the loader finds it
    real: str
    how: str  # RPATH | RUNPATH | LD_LIBRARY_PATH | ld.so.cache | default | path | loader
    package: str | None  # owning package ("name (type)"), None: the application's own file
    size: int
    needed_by: list[str]


@dataclass
class Candidate:
    label: str  # distroless-static, or the reference as given
    reference: str
    from_ref: str  # what a Dockerfile's FROM should say (the published name for samples)
    verdict: str = NO
    missing: list[str] = field(default_factory=list)  # "libstdc++.so.6", "loader …", "interpreter …"
    #: libraries to copy from the image: (path there, path in the new image)
    copy: list[tuple[str, str]] = field(default_factory=list)
    copy_bytes: int = 0
    base_files: int = 0
    base_bytes: int = 0
    result_files: int = 0
    result_bytes: int = 0
    nonroot: bool = False  # the base has a ``nonroot`` user


@dataclass
class Savings:
    base: str  # the chosen candidate's label
    current_files: int
    current_bytes: int
    result_files: int
    result_bytes: int
    #: categories the current image has and the result would not: (name, files, bytes)
    categories_gone: list[tuple[str, int, int]] = field(default_factory=list)

    @property
    def saved_bytes(self) -> int:
        return self.current_bytes - self.result_bytes

    @property
    def saved_files(self) -> int:
        return self.current_files - self.result_files


@dataclass
class FitResult:
    reference: str
    argv: list[str]
    chain: list[tuple[str, str]]  # (path, how it was reached)
    program: str  # real path of the ELF that runs
    kind: str  # static executable | dynamic executable | …
    machine: str
    interpreter: str | None  # PT_INTERP
    language: str | None  # python, node, java, shell… when a script runs
    interpreters: list[str]  # script interpreters met, outermost first
    libraries: list[LibraryRow]
    missing: list[tuple[str, list[str]]]  # unresolvable in the image: (name, needed by)
    app_files: list[str]
    app_bytes: int
    app_roots: list[str]
    candidates: list[Candidate]
    chosen: Candidate | None
    savings: Savings | None
    dockerfile: str
    findings: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    workdir: str = ""
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    final_argv: list[str] = field(default_factory=list)  # what the ELF runs with
    #: what a language interpreter on the command line runs: [kind, what] (``langargs``)
    runs: list[str] | None = None

    def as_json(self) -> dict:
        out = asdict(self)
        if self.savings:
            out["savings"]["saved_bytes"] = self.savings.saved_bytes
            out["savings"]["saved_files"] = self.savings.saved_files
        return out
