"""From the image config to the program that really runs: Entrypoint + Cmd, ``PATH``,
symlinks, ``/usr/bin/env X``, shebangs, and ``sh -c "exec app …"``.

The result is a chain of steps (what was resolved, how) ending at an ELF program; scripts
record their interpreter, shells are findings (distroless has none).
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass, field

from inspector.catalog.fspath import LOOP, MAX_HOPS, Resolver
from inspector.errors import InspectorError
from inspector.fit.elf import is_elf
from inspector.fit.files import FileReader
from inspector.fit.langargs import runs_of
from inspector.index.entries import DIR
from inspector.index.merge import MergedFS

#: Docker's PATH when the config sets none
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SHELLS = {"sh", "bash", "rbash", "dash", "ash", "zsh", "ksh", "mksh", "busybox"}
#: interpreter name → language (what a distroless language image would provide)
LANGUAGES = ((re.compile(r"python(\d+(\.\d+)?)?$"), "python"), (re.compile(r"node(js)?$"), "node"),
             (re.compile(r"java$"), "java"), (re.compile(r"(ba|da|z|k|mk|a)?sh$|busybox$"), "shell"),
             (re.compile(r"perl(\d[\d.]*)?$"), "perl"), (re.compile(r"ruby[\d.]*$"), "ruby"),
             (re.compile(r"php[\d.]*$"), "php"))
#: interpreters followed at most (a script whose interpreter is a script…; ``env`` and
#: ``sh -c`` count too)
MAX_DEPTH = 4
#: bytes of a ``#!`` line the kernel reads (``BINPRM_BUF_SIZE``): a longer line is cut there
SHEBANG_MAX = 256
#: languages whose interpreter runs a script or module named on its command line
SCRIPT_LANGUAGES = ("python", "node", "java")


class FitError(InspectorError):
    """The application cannot be determined or analysed (no entrypoint, not a program…)."""


@dataclass
class Step:
    path: str
    note: str  # "Entrypoint", "PATH lookup", "symlink → …", "shebang", "env", "sh -c"


@dataclass
class Program:
    argv: list[str]  # the config's (or --entrypoint's) command line
    path: str  # real path of the ELF that runs
    data: bytes  # its content
    chain: list[Step] = field(default_factory=list)
    #: interpreters met on the way (script → interpreter), outermost first: (name, real path)
    interpreters: list[tuple[str, str]] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)  # script paths, outermost first
    findings: list[str] = field(default_factory=list)
    #: the command line the ELF itself gets (``sh -c``'s words, ``python3 script args``)
    final_argv: list[str] = field(default_factory=list)
    #: the interpreter a new base must provide (a script's, or the shell that is the program);
    #: None when an ELF runs on its own (also when ``sh -c`` only started it)
    interpreter_needed: str | None = None
    #: what a language interpreter named on the command line runs: ("script", path),
    #: ("module", name), ("jar", path), ("class", name), ("code", "-c …") or ("stdin", "")
    runs: tuple[str, str] | None = None

    @property
    def language(self) -> str | None:
        """The language of the innermost script's interpreter (None for a plain ELF)."""
        for name, _real in reversed(self.interpreters):
            lang = language_of(name)
            if lang and lang != "shell":
                return lang
        return "shell" if self.interpreters else None


def language_of(name: str) -> str | None:
    base = posixpath.basename(name)
    for pattern, lang in LANGUAGES:
        if pattern.match(base):
            return lang
    return None


def config_argv(config: dict, entrypoint: str | None) -> list[str]:
    cfg = config.get("config") or {}
    if entrypoint:
        return [entrypoint]
    return list(cfg.get("Entrypoint") or []) + list(cfg.get("Cmd") or [])


def env_of(config: dict) -> dict[str, str]:
    out = {}
    for item in (config.get("config") or {}).get("Env") or []:
        key, _, value = str(item).partition("=")
        out[key] = value
    return out


class EntryResolver:
    def __init__(self, fs: MergedFS, reader: FileReader, env: dict[str, str], cwd: str,
                 what: str) -> None:
        self.fs, self.reader, self.env, self.cwd, self.what = fs, reader, env, cwd or "/", what
        self.resolver = Resolver(fs)

    def lookup(self, name: str) -> tuple[str, str] | None:
        """(path, how) of a command name: a path as is, else the first executable on PATH."""
        if "/" in name:
            return posixpath.normpath(posixpath.join(self.cwd, name)), "path"
        for d in (self.env.get("PATH") or DEFAULT_PATH).split(":"):
            if not d.startswith("/"):
                continue
            path = posixpath.join(d, name)
            real = self.resolver.resolve(path)
            if real and self.fs.kind(real) != DIR and self.fs.mode(real) & 0o111:
                return path, f"PATH lookup in {d}"
        return None

    def resolve(self, argv: list[str]) -> Program:
        if not argv:
            raise FitError(f"{self.what}: the image has no Entrypoint or Cmd",
                           hint="name the program with --entrypoint PATH")
        program = Program(argv=list(argv), path="", data=b"")
        self._follow(argv, program, "Entrypoint/Cmd", 0)
        return program

    def _follow(self, argv: list[str], program: Program, note: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise FitError(f"{self.what}: {argv[0]}: more than {MAX_DEPTH} nested interpreters "
                           "(#!, env or sh -c)", hint="give the real program with --entrypoint")
        name = argv[0]
        hit = self.lookup(name)
        if hit is None:
            where = "" if "/" in name else f" on PATH ({self.env.get('PATH') or DEFAULT_PATH})"
            raise FitError(f"{self.what}: the entrypoint {name} does not exist in the image{where}",
                           hint="check Entrypoint/Cmd or give --entrypoint PATH")
        path, how = hit
        program.chain.append(Step(path, f"{note} ({how})" if how != "path" else note))
        found = self.resolver.lookup(path)
        real = found.path
        if found.error == LOOP:
            raise FitError(f"{self.what}: the entrypoint {path}: symlink loop (more than "
                           f"{MAX_HOPS} links followed)", hint="check Entrypoint/Cmd or give "
                           "--entrypoint PATH")
        if real is None or self.fs.kind(real) == DIR:
            raise FitError(f"{self.what}: the entrypoint {path} does not exist in the image "
                           "(or is a dangling symlink or a directory)",
                           hint="check Entrypoint/Cmd or give --entrypoint PATH")
        if real != path:
            program.chain.append(Step(real, f"symlink {path} → {real}"))
        data = self.reader.read_many([real]).get(real)
        if data is None:
            raise FitError(f"{self.what}: {real} cannot be read (not a regular file, or too large)")
        base = posixpath.basename(real)
        if is_elf(data):
            if language_of(base) == "shell" or language_of(path) == "shell":
                self._shell(argv, program, path, real, depth)
                if program.path:
                    return
            if base == "env" and len(argv) > 1:
                rest = _env_args(argv[1:])
                if rest:
                    program.chain.append(Step(real, "env runs the next word"))
                    program.interpreters.append(("env", real))
                    return self._follow(rest, program, "env", depth + 1)
            program.path, program.data = real, data
            program.final_argv = [path, *argv[1:]]
            lang = language_of(path) or language_of(real)
            if lang in SCRIPT_LANGUAGES and not program.scripts:
                self._language(lang, argv, program, path, real)
            if program.scripts or program.runs or lang == "shell":
                program.interpreter_needed = name
            return
        if data.startswith(b"#!"):
            if depth >= MAX_DEPTH:
                raise FitError(f"{self.what}: {real}: more than {MAX_DEPTH} nested interpreters")
            line = _shebang(data, f"{self.what}: {real}")
            words = line.split()
            if not words:
                raise FitError(f"{self.what}: {real}: empty #! line")
            program.scripts.append(real)
            interp = words[0]
            if posixpath.basename(interp) == "env":
                rest = _env_args(words[1:] if len(words) > 1 and words[1] != "-S" else
                                 shlex.split(" ".join(words[2:])))
                if not rest:
                    raise FitError(f"{self.what}: {real}: #!{line} names no program")
                program.interpreters.append(("env", interp))
                program.interpreters.append((rest[0], ""))
                program.findings.append(f"{real} starts with #!{line}: it needs {interp}, "
                                        "which no distroless image has; run the interpreter "
                                        "directly in ENTRYPOINT")
                return self._follow(rest + [real, *argv[1:]], program, f"#! of {real}", depth + 1)
            program.interpreters.append((interp, ""))
            return self._follow([interp, *words[1:2], real, *argv[1:]], program, f"#! of {real}",
                                depth + 1)
        shown = data[:16].hex(" ") if data[:16] else "empty"
        raise FitError(f"{self.what}: {real} is neither an ELF program nor a #! script "
                       f"(starts with {shown})", hint="give the real program with --entrypoint")

    def _language(self, lang: str, argv: list[str], program: Program, path: str,
                  real: str) -> None:
        """``python3 x.py``, ``python3 -m pkg``, ``node app.js``, ``java -jar app.jar``: the
        interpreter is the program, what it runs is the application's."""
        program.interpreters.append((path, real))
        runs = program.runs = runs_of(lang, argv[1:])
        kind, what = runs
        if kind in ("script", "jar"):
            script = posixpath.normpath(posixpath.join(self.cwd, what))
            found = self.resolver.resolve(script)
            if found is not None and self.fs.kind(found) != DIR:
                program.scripts.append(found)
                program.chain.append(Step(found, f"{posixpath.basename(path)} runs the {kind}"))
            else:
                program.findings.append(f"{posixpath.basename(path)} runs {script}, which is "
                                        "not in the image")
        elif kind in ("module", "class"):
            program.chain.append(Step(what, f"{posixpath.basename(path)} runs the {kind}"))

    def _shell(self, argv: list[str], program: Program, path: str, real: str, depth: int) -> None:
        if not program.interpreters or program.interpreters[-1][0] != path:
            program.interpreters.append((path, real))
        program.findings.append(f"the entrypoint runs a shell ({path}): distroless images have "
                                "no shell, so the command must run without one")
        if len(argv) >= 3 and argv[1] == "-c":
            words = _command_words(argv[2])
            if words:
                program.chain.append(Step(real, f"sh -c runs {words[0]}"))
                try:
                    self._follow(words, program, "sh -c", depth + 1)
                except FitError as exc:
                    program.findings.append(f"the shell command's program: {exc.message}")


def _shebang(data: bytes, what: str) -> str:
    """The ``#!`` line as the kernel reads it: the first ``SHEBANG_MAX`` bytes; a longer line
    is cut there, unless the interpreter's name itself is cut (then it does not run)."""
    head = data[2:SHEBANG_MAX]
    end = head.find(b"\n")
    if end >= 0:
        head = head[:end]
    elif len(data) > SHEBANG_MAX:
        rest = head.lstrip(b" \t")
        if not any(c in rest for c in b" \t"):
            raise FitError(f"{what}: the #! line is longer than {SHEBANG_MAX} bytes and its "
                           "interpreter name is cut there: the kernel does not run it",
                           hint="give the real program with --entrypoint")
    return head.decode("utf-8", "replace").strip()


def _env_args(words: list[str]) -> list[str]:
    """``env [-i] [-u NAME] [NAME=VALUE]… PROGRAM ARGS`` → PROGRAM ARGS."""
    out = list(words)
    while out:
        w = out[0]
        if w in ("-u", "--unset", "-C", "--chdir"):
            out = out[2:]
        elif w.startswith("-") or ("=" in w and not w.startswith("/")):
            out = out[1:]
        else:
            return out
    return []


def _command_words(command: str) -> list[str]:
    """The program a simple ``sh -c`` command runs (``exec``/``VAR=x`` skipped); nothing
    when the command needs the shell itself (a pipeline, a list, a redirection, a
    substitution or a variable: no exec-form ENTRYPOINT can say it)."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        words = list(lexer)
    except ValueError:
        return []
    if any((w and not w.strip("();<>|&")) or "$" in w or "`" in w for w in words):
        return []
    while words and (words[0] == "exec" or ("=" in words[0] and not words[0].startswith("/"))):
        words = words[1:]
    return words
