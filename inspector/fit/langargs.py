"""What a language interpreter named in Entrypoint/Cmd runs, read from its own options:
``python3 [-u -X opt …] x.py`` / ``-m pkg`` / ``-c CODE``, ``node [--require m …] app.js`` /
``-e CODE``, ``java [-cp DIR …] -jar app.jar`` / ``Main`` / ``-m mod/Main``.

The answer is ``(kind, what)``: kind is ``script``, ``module``, ``jar``, ``class``, ``code``
or ``repl`` (no program named: the interpreter reads its input).
"""

from __future__ import annotations

from collections.abc import Callable

#: python options that take a value (``-W arg``, ``-X opt``), as ``python3 --help`` lists them
PYTHON_VALUED = "WX"
#: python options that end the options and name what runs
PYTHON_RUNS = {"c": "code", "m": "module"}
NODE_VALUED = frozenset(("-r", "--require", "--loader", "--experimental-loader", "--import",
                         "--input-type", "--title", "--env-file", "-C", "--conditions"))
NODE_CODE = frozenset(("-e", "--eval", "-p", "--print"))
#: node options that end the options and name what runs (``--``: the next word, a script)
NODE_RUNS = {"--": "script", **dict.fromkeys(NODE_CODE, "code")}
JAVA_VALUED = frozenset(("-cp", "-classpath", "--class-path", "-p", "--module-path",
                         "--add-modules", "--add-opens", "--add-exports", "--add-reads",
                         "--upgrade-module-path", "--limit-modules", "--enable-native-access"))
#: java options that name what runs
JAVA_RUNS = {"-jar": "jar", "-m": "module", "--module": "module"}


def runs_of(language: str, args: list[str]) -> tuple[str, str]:
    if language == "python":
        return _python(args)
    if language == "node":
        return _node(args)
    return _java(args)


def _python(args: list[str]) -> tuple[str, str]:
    i = 0
    while i < len(args):
        word = args[i]
        if word == "--":
            return ("script", args[i + 1]) if i + 1 < len(args) else ("repl", "")
        if word == "-":
            return "repl", ""
        if not word.startswith("-"):
            return "script", word
        if word.startswith("--"):  # --version, --help, --check-hash-based-pycs MODE
            i += 2 if word == "--check-hash-based-pycs" else 1
            continue
        for j, ch in enumerate(word[1:], start=2):
            if ch in PYTHON_RUNS or ch in PYTHON_VALUED:
                value = word[j:] or (args[i + 1] if i + 1 < len(args) else "")
                if ch in PYTHON_RUNS:
                    return PYTHON_RUNS[ch], value
                i += 0 if word[j:] else 1
                break
        i += 1
    return "repl", ""


def _launcher(args: list[str], valued: frozenset[str], runs: dict[str, str],
              operand: Callable[[str], str]) -> tuple[str, str]:
    """node's and java's command lines: an option of ``runs`` names what runs with the word
    after it, else the first word that is no option does (``operand`` gives its kind);
    the options of ``valued`` take the word after them. Nothing named: ``repl``."""
    i = 0
    while i < len(args):
        word = args[i]
        if word in runs:
            if i + 1 < len(args):
                return runs[word], args[i + 1]
            return ("repl", "") if runs[word] == "script" else (runs[word], "")
        if not word.startswith("-"):
            return operand(word), word
        i += 2 if word in valued else 1
    return "repl", ""


def _node(args: list[str]) -> tuple[str, str]:
    return _launcher(args, NODE_VALUED, NODE_RUNS, lambda word: "script")


def _java(args: list[str]) -> tuple[str, str]:
    return _launcher(args, JAVA_VALUED, JAVA_RUNS,
                     lambda word: "script" if word.endswith(".java") else "class")
