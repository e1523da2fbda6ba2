"""What the entrypoint runs is the application: an OS-owned program with its package's run-time
files, a language interpreter's script or module read from Entrypoint + Cmd, cc chosen over
base + copied C++ runtimes, and hostile entrypoints (a symlink loop, a 400 kB ``#!`` line,
nesting) answered with one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector.cli import main
from inspector.fit.langargs import runs_of
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout
from tests.fit.elfbuild import make_elf

LIBS = "usr/lib/x86_64-linux-gnu"
LD = "lib64/ld-linux-x86-64.so.2"
STATIC = make_elf(interp=None, dynamic=False, e_type=2)


def _exe(data: bytes) -> Entry:
    return Entry("file", data, mode=0o755)


def _dpkg(packages: dict[str, list[str]]) -> dict:
    """A dpkg database: package → the files it owns."""
    status = b"".join(f"Package: {n}\nStatus: install ok installed\nVersion: 1.0\n"
                      f"Architecture: amd64\n\n".encode() for n in packages)
    out: dict = {"var/lib/dpkg/status": status}
    for name, files in packages.items():
        out[f"var/lib/dpkg/info/{name}.list"] = "".join(f"/{f}\n" for f in files).encode()
    return out


def _image(tmp_path: Path, files: dict, config: dict, name: str = "app") -> str:
    root = tmp_path / name
    write_oci_layout(root, [ImageSpec([make_layer(files)], ref_name=name,
                                      config_extra={"config": config})])
    return f"oci:{root}:{name}"


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> list[str]:
    return ["--cache-dir", str(tmp_path_factory.mktemp("cache")), "-q"]


def fit_json(capsys, cache, ref: str, *extra: str) -> dict:
    code = main(["fit", ref, "--format", "json", *extra, *cache])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def _glibc() -> dict:
    return {LD: _exe(make_elf(interp=None, soname="ld-linux-x86-64.so.2")),
            f"{LIBS}/libc.so.6": make_elf(interp=None, soname="libc.so.6")}


def test_an_os_owned_entrypoint_is_the_application_with_its_runtime_files(capsys, cache,
                                                                          tmp_path):
    """Issue 25 defect 1: ``ENTRYPOINT ["/usr/bin/curl"]`` on a Debian image: curl and its
    package's data are copied, its docs and man pages are not; libcurl is a library to copy."""
    curl = make_elf(needed=["libcurl.so.4", "libc.so.6"])
    files = {**_glibc(),
             "usr/bin/curl": _exe(curl),
             "usr/share/curl/curl-ca-bundle.crt": b"certs",
             "usr/share/doc/curl/copyright": b"c",
             "usr/share/man/man1/curl.1.gz": b"m",
             f"{LIBS}/libcurl.so.4": make_elf(interp=None, needed=["libc.so.6"],
                                              soname="libcurl.so.4"),
             "usr/bin/other": _exe(STATIC),
             **_dpkg({"libc6": [LD, f"{LIBS}/libc.so.6"],
                      "curl": ["usr/bin/curl", "usr/share/curl/curl-ca-bundle.crt",
                               "usr/share/doc/curl/copyright", "usr/share/man/man1/curl.1.gz"],
                      "libcurl4": [f"{LIBS}/libcurl.so.4"], "other": ["usr/bin/other"]})}
    r = fit_json(capsys, cache, _image(tmp_path, files, {"Entrypoint": ["/usr/bin/curl"]}))
    assert r["app_files"] == ["/usr/bin/curl", "/usr/share/curl/curl-ca-bundle.crt"]
    assert r["app_bytes"] == len(curl) + len(b"certs")
    chosen = r["chosen"]
    assert (chosen["label"], chosen["copy"]) == ("distroless-base",
                                                 [[f"/{LIBS}/libcurl.so.4"] * 2])
    assert "COPY --from=build /usr/bin/curl /usr/bin/curl\n" in r["dockerfile"]
    assert "/usr/share/doc" not in r["dockerfile"]


def test_an_os_owned_entrypoint_through_alternatives_keeps_its_links(capsys, cache, tmp_path):
    files = {"usr/bin/mawk": _exe(STATIC), "usr/share/mawk/data": b"d",
             "etc/alternatives/awk": Entry("symlink", target="/usr/bin/mawk"),
             "usr/bin/awk": Entry("symlink", target="/etc/alternatives/awk"),
             "usr/lib/mawk/x": b"x",
             # merged /usr: the package lists /lib, which is the image's link to usr/lib
             "lib": Entry("symlink", target="usr/lib"),
             **_dpkg({"mawk": ["usr/bin/mawk", "usr/share/mawk/data", "lib"]})}
    r = fit_json(capsys, cache, _image(tmp_path, files, {"Entrypoint": ["awk"],
                                                         "Env": ["PATH=/usr/bin"]}))
    assert r["app_files"] == ["/etc/alternatives/awk", "/usr/bin/awk", "/usr/bin/mawk",
                              "/usr/share/mawk/data"]
    assert r["chosen"]["label"] == "distroless-static"


INTERPRETERS = [
    # (name, Entrypoint, Cmd, files, language, what it runs, interpreter needed)
    ("python3 + script in Cmd", ["python3"], ["/app/main.py"], {"app/main.py": b"print(1)\n"},
     "python", ["script", "/app/main.py"], "python3"),
    ("python3 -u script relative to WorkingDir", ["python3", "-u"], ["main.py"],
     {"app/main.py": b"print(1)\n"}, "python", ["script", "main.py"], "python3"),
    ("python3 -m package", ["/usr/bin/python3"], ["-m", "app.server"],
     {"app/app/__init__.py": b""}, "python", ["module", "app.server"], "/usr/bin/python3"),
    ("node app.js", ["node"], ["app.js"], {"app/app.js": b"1\n"}, "node",
     ["script", "app.js"], "node"),
    ("java -jar", ["java", "-Xmx1g", "-jar", "/app/app.jar"], [], {"app/app.jar": b"PK"},
     "java", ["jar", "/app/app.jar"], "java"),
]


@pytest.mark.parametrize(("name", "entry", "cmd", "files", "lang", "runs", "needs"),
                         INTERPRETERS, ids=[i[0] for i in INTERPRETERS])
def test_a_language_interpreter_in_entrypoint_and_cmd(capsys, cache, tmp_path, name, entry, cmd,
                                                      files, lang, runs, needs):
    """Issue 25 defect 2: ``ENTRYPOINT ["python3"] CMD ["/app/main.py"]`` is a Python app:
    no base without python3 fits (distroless-base + libz used to be chosen)."""
    exe = posixpath_of(entry[0])
    image = {"usr/bin/" + exe: _exe(STATIC), **files}
    ref = _image(tmp_path, image, {"Entrypoint": entry, "Cmd": cmd, "WorkingDir": "/app",
                                   "Env": ["PATH=/usr/bin"]})
    r = fit_json(capsys, cache, ref)
    assert r["language"] == lang
    assert r["runs"] == runs
    static = next(c for c in r["candidates"] if c["label"] == "distroless-static")
    assert static["missing"] == [f"interpreter {needs}"]
    if lang != "python":  # python has a bundled base; java and node are named
        assert r["chosen"] is None
    assert any(f"gcr.io/distroless/{'java17' if lang == 'java' else 'nodejs'}" in f
               or lang == "python" for f in r["findings"])


def posixpath_of(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def test_sh_c_with_a_pipeline_needs_a_shell(capsys, cache, tmp_path):
    files = {"bin/sh": _exe(STATIC), "app/x": _exe(STATIC)}
    r = fit_json(capsys, cache, _image(tmp_path, files, {
        "Entrypoint": ["/bin/sh", "-c", "/app/x | tee /tmp/log"]}))
    assert r["program"] == "/bin/sh" and r["language"] == "shell"
    assert any("runs a shell" in f for f in r["findings"])
    assert all(c["verdict"] == "does not fit" for c in r["candidates"])


RUNS = [
    ("python script after options", "python", ["-u", "-X", "dev", "app.py", "-x"],
     ("script", "app.py")),
    ("python -m", "python", ["-m", "http.server", "80"], ("module", "http.server")),
    ("python -mmod", "python", ["-OOmpkg"], ("module", "pkg")),
    ("python -c", "python", ["-c", "print(1)"], ("code", "print(1)")),
    ("python -W value is not the script", "python", ["-W", "ignore", "s.py"], ("script", "s.py")),
    ("python alone", "python", [], ("repl", "")),
    ("node with --require", "node", ["--require", "dotenv/config", "srv.js"], ("script", "srv.js")),
    ("node -e", "node", ["-e", "1"], ("code", "1")),
    ("java -cp then main class", "java", ["-cp", "/app/lib", "com.x.Main"], ("class", "com.x.Main")),
    ("java -jar after flags", "java", ["-Xmx1g", "-jar", "a.jar", "x"], ("jar", "a.jar")),
    ("java module", "java", ["--module", "m/com.x.Main"], ("module", "m/com.x.Main")),
    ("node -- then a dashed script", "node", ["--", "-x.js"], ("script", "-x.js")),
    ("node -- alone", "node", ["--"], ("repl", "")),
    ("node -e without code", "node", ["-e"], ("code", "")),
    ("node nothing", "node", ["-r", "x"], ("repl", "")),
    ("java source file", "java", ["App.java"], ("script", "App.java")),
    ("java -jar without a jar", "java", ["-jar"], ("jar", "")),
    ("java -m", "java", ["-p", "mods", "-m", "m/Main"], ("module", "m/Main")),
]


@pytest.mark.parametrize(("name", "lang", "args", "expected"), RUNS, ids=[r[0] for r in RUNS])
def test_what_an_interpreter_runs(name, lang, args, expected):
    assert runs_of(lang, args) == expected


def test_with_copies_either_way_cc_is_chosen_over_base_plus_libstdcxx(capsys, cache, tmp_path):
    """Issue 25 defect 3: a C++ program that also needs an OS library no base has."""
    lib = lambda soname, *needed: make_elf(interp=None, needed=list(needed), soname=soname)  # noqa: E731
    files = {**_glibc(),
             f"{LIBS}/libstdc++.so.6": lib("libstdc++.so.6", "libc.so.6"),
             f"{LIBS}/libgcc_s.so.1": lib("libgcc_s.so.1", "libc.so.6"),
             f"{LIBS}/libfoo.so.1": lib("libfoo.so.1", "libc.so.6"),
             "app/x": _exe(make_elf(needed=["libfoo.so.1", "libstdc++.so.6", "libgcc_s.so.1",
                                            "libc.so.6"])),
             **_dpkg({"libc6": [LD, f"{LIBS}/libc.so.6"],
                      "libstdc++6": [f"{LIBS}/libstdc++.so.6"],
                      "libgcc-s1": [f"{LIBS}/libgcc_s.so.1"], "libfoo1": [f"{LIBS}/libfoo.so.1"]})}
    r = fit_json(capsys, cache, _image(tmp_path, files, {"Entrypoint": ["/app/x"]}))
    verdicts = {c["label"]: c["verdict"] for c in r["candidates"]}
    assert verdicts["distroless-base"] == verdicts["distroless-cc"] == "fits if libraries are copied"
    assert r["chosen"]["label"] == "distroless-cc"
    assert r["chosen"]["copy"] == [[f"/{LIBS}/libfoo.so.1"] * 2]


HOSTILE = [
    ("a symlink loop on the entrypoint", {"app/x": Entry("symlink", target="x/x")},
     {"Entrypoint": ["/app/x"]}, "symlink loop"),
    ("two links pointing at each other", {"app/a": Entry("symlink", target="b"),
                                          "app/b": Entry("symlink", target="a")},
     {"Entrypoint": ["/app/a"]}, "symlink loop"),
    ("a loop in a directory of the path", {"d": Entry("symlink", target="d/d")},
     {"Entrypoint": ["/d/x"]}, "symlink loop"),
    ("a 400 kB #! line", {"app/x": _exe(b"#!/" + b"a/" * 200_000 + b"\n")},
     {"Entrypoint": ["/app/x"]}, "#! line is longer than 256 bytes"),
    ("a 400 kB #! line without a newline", {"app/x": _exe(b"#!/usr/bin/" + b"x" * 400_000)},
     {"Entrypoint": ["/app/x"]}, "#! line is longer than 256 bytes"),
    ("env nested a thousand times", {"usr/bin/env": _exe(STATIC)},
     {"Entrypoint": ["/usr/bin/env"] * 1000 + ["/usr/bin/env"]}, "nested interpreters"),
]


@pytest.mark.parametrize(("name", "files", "config", "expected"), HOSTILE,
                         ids=[h[0] for h in HOSTILE])
def test_hostile_entrypoints_are_one_line(capsys, cache, tmp_path, name, files, config, expected):
    code = main(["fit", _image(tmp_path, files, config), *cache])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert expected in err
    assert err.startswith("inspector: ") and err.count("\n") == 1


def test_a_long_shebang_is_cut_where_the_kernel_cuts_it(capsys, cache, tmp_path):
    """The interpreter's name ends within 256 bytes: it runs, with its argument cut."""
    files = {"bin/tool": _exe(STATIC), "app/x": _exe(b"#!/bin/tool " + b"a" * 400_000)}
    r = fit_json(capsys, cache, _image(tmp_path, files, {"Entrypoint": ["/app/x"]}))
    assert r["program"] == "/bin/tool"
    assert len(r["final_argv"][1]) == 256 - len("#!/bin/tool ")
