"""``inspector fit`` end to end: the bundled samples' verdicts, the reports, and bad input
(one line on stderr, exit 1, no traceback) on images written in the test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector.cli import main
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout
from tests.fit.elfbuild import make_elf

LIBC_DIR = "usr/lib/x86_64-linux-gnu"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["fit", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> list[str]:
    """One cache for the module: the samples' layers are indexed once, not per test."""
    return ["--cache-dir", str(tmp_path_factory.mktemp("cache")), "-q"]


SAMPLES = [
    # (sample, chosen base, {candidate: verdict}, missing on the candidate that does not fit)
    ("hello-debian", "distroless-static",
     {"distroless-static": "fits", "distroless-base": "fits", "distroless-cc": "fits"}, {}),
    ("hello-c-debian", "distroless-base",
     {"distroless-static": "does not fit", "distroless-base": "fits", "distroless-cc": "fits"},
     {"distroless-static": ["loader /lib64/ld-linux-x86-64.so.2", "libc.so.6"]}),
    ("hello-cpp-debian", "distroless-cc",
     {"distroless-static": "does not fit", "distroless-base": "fits if libraries are copied",
      "distroless-cc": "fits"},
     {"distroless-base": ["libstdc++.so.6", "libgcc_s.so.1"]}),
]


@pytest.mark.parametrize(("sample", "chosen", "verdicts", "missing"), SAMPLES,
                         ids=[s[0] for s in SAMPLES])
def test_bundled_samples_fit_the_base_they_need(capsys, cache, sample, chosen, verdicts, missing):
    code, out, err = run(capsys, f"sample:{sample}", "--format", "json", *cache)
    assert code == 0, err
    r = json.loads(out)
    assert r["chosen"]["label"] == chosen
    assert {c["label"]: c["verdict"] for c in r["candidates"]} == verdicts
    for label, names in missing.items():
        cand = next(c for c in r["candidates"] if c["label"] == label)
        assert cand["missing"] == names
    s = r["savings"]
    assert s["saved_bytes"] == s["current_bytes"] - s["result_bytes"] > 0
    assert s["result_bytes"] == r["chosen"]["base_bytes"] + r["app_bytes"]
    gone = {name for name, _files, _bytes in s["categories_gone"]}
    assert {"shell", "package_manager", "core_utilities"} <= gone
    assert r["app_roots"] == ["/app"]
    assert "COPY --from=build /app /app" in r["dockerfile"]
    assert "USER nonroot" in r["dockerfile"]
    assert f'ENTRYPOINT ["/app/hello{"" if sample == "hello-debian" else sample[5:-7]}"]' \
        in r["dockerfile"]


def test_libraries_are_mapped_to_their_packages(capsys, cache):
    code, out, _ = run(capsys, "sample:hello-cpp-debian", "--format", "json", *cache)
    libs = {lib["name"]: lib for lib in json.loads(out)["libraries"]}
    assert {n: lib["package"] for n, lib in libs.items()} == {
        "ld-linux-x86-64.so.2": "libc6 (deb)", "libc.so.6": "libc6 (deb)",
        "libm.so.6": "libc6 (deb)", "libstdc++.so.6": "libstdc++6 (deb)",
        "libgcc_s.so.1": "libgcc-s1 (deb)"}
    assert libs["libstdc++.so.6"]["needed_by"] == ["/app/hello-cpp"]


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_reports_name_the_verdict_and_the_dockerfile(capsys, cache, fmt):
    code, out, _ = run(capsys, "sample:hello-c-debian", "--format", fmt, *cache)
    assert code == 0
    assert "Smallest base that fits: distroless-base" in out
    assert "FROM gcr.io/distroless/base-debian12" in out
    assert "distroless-static: does not fit (missing: loader /lib64/ld-linux-x86-64.so.2" in out
    assert ("```dockerfile" in out) is (fmt == "markdown")


def test_a_shell_entrypoint_fits_only_a_base_with_a_shell(capsys, cache):
    code, out, _ = run(capsys, "sample:hello-debian", "--entrypoint", "/bin/sh", "--base",
                       "sample:distroless-static-debug", "--format", "json", *cache)
    r = json.loads(out)
    assert {c["label"]: c["verdict"] for c in r["candidates"]} == {
        "distroless-static": "does not fit", "distroless-base": "does not fit",
        "distroless-cc": "does not fit", "distroless-static-debug": "fits"}
    assert r["language"] == "shell"
    assert any("runs a shell" in f for f in r["findings"])


def _image(tmp_path: Path, files: dict, config: dict) -> str:
    root = tmp_path / "layout"
    write_oci_layout(root, [ImageSpec([make_layer(files)], ref_name="app",
                                      config_extra={"config": config})])
    return f"oci:{root}:app"


def _exe(data: bytes) -> Entry:
    return Entry("file", data, mode=0o755)


GOOD = make_elf(needed=["libc.so.6"])
BAD = [
    ("no Entrypoint or Cmd", {"app/x": _exe(GOOD)}, {}, "has no Entrypoint or Cmd"),
    ("entrypoint not in the image", {"app/x": _exe(GOOD)}, {"Entrypoint": ["/app/nope"]},
     "the entrypoint /app/nope does not exist in the image"),
    ("command not on PATH", {"app/x": _exe(GOOD)}, {"Cmd": ["nope"], "Env": ["PATH=/app"]},
     "the entrypoint nope does not exist in the image on PATH (/app)"),
    ("a directory", {"app/x/f": b"x"}, {"Entrypoint": ["/app/x"]}, "or a directory"),
    ("a dangling symlink", {"app/x": Entry("symlink", target="/gone")},
     {"Entrypoint": ["/app/x"]}, "dangling symlink"),
    ("not ELF, not a script", {"app/x": _exe(b"\x00\x01binary blob")}, {"Entrypoint": ["/app/x"]},
     "is neither an ELF program nor a #! script (starts with 00 01 62"),
    ("an empty file", {"app/x": _exe(b"")}, {"Entrypoint": ["/app/x"]}, "(starts with empty)"),
    ("truncated ELF", {"app/x": _exe(GOOD[:100])}, {"Entrypoint": ["/app/x"]},
     "truncated ELF: program header"),
    ("bogus program header offset", {"app/x": _exe(make_elf(phoff=1 << 40))},
     {"Entrypoint": ["/app/x"]}, "is beyond the end of the file"),
    ("bogus string table", {"app/x": _exe(make_elf(needed=["a"], strtab_addr=1 << 40))},
     {"Entrypoint": ["/app/x"]}, "DT_STRTAB address"),
    ("a script whose interpreter is missing", {"app/x": _exe(b"#!/usr/bin/nope\n")},
     {"Entrypoint": ["/app/x"]}, "the entrypoint /usr/bin/nope does not exist"),
    ("scripts that call each other", {"app/x": _exe(b"#!/app/y\n"), "app/y": _exe(b"#!/app/x\n")},
     {"Entrypoint": ["/app/x"]}, "nested interpreters"),
]


@pytest.mark.parametrize(("name", "files", "config", "expected"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_clear_line(capsys, cache, tmp_path, name, files, config, expected):
    code, out, err = run(capsys, _image(tmp_path, files, config), *cache)
    assert code == 1
    assert out == ""
    assert expected in err
    assert err.startswith("inspector: ") and err.count("\n") == 1
    assert "Traceback" not in err


def test_a_dt_needed_loop_and_a_hostile_library_still_give_a_verdict(capsys, cache, tmp_path):
    files = {
        "lib64/ld-linux-x86-64.so.2": _exe(make_elf(interp=None, soname="ld-linux-x86-64.so.2")),
        f"{LIBC_DIR}/libc.so.6": make_elf(interp=None, needed=["liba.so"], soname="libc.so.6"),
        f"{LIBC_DIR}/liba.so": make_elf(interp=None, needed=["libc.so.6", "libbad.so"]),
        f"{LIBC_DIR}/libbad.so": make_elf(interp=None, needed=["x"])[:90],
        "app/x": _exe(GOOD),
    }
    code, out, err = run(capsys, _image(tmp_path, files, {"Entrypoint": ["/app/x"]}),
                         "--format", "json", *cache)
    assert code == 0
    r = json.loads(out)
    assert sorted(lib["name"] for lib in r["libraries"]) == [
        "ld-linux-x86-64.so.2", "liba.so", "libbad.so", "libc.so.6"]
    assert len(r["warnings"]) == 1 and "truncated ELF" in r["warnings"][0]
    assert err.count("\n") == 1 and "warning:" in err


STATIC = make_elf(interp=None, dynamic=False, e_type=2)
SHELL = make_elf(interp=None, dynamic=False, e_type=2)  # a static "dash"
ENTRIES = [
    # (name, files, config, program, needs, dockerfile ENTRYPOINT)
    ("sh -c runs the real program: the shell is a finding, not a need",
     {"bin/sh": _exe(SHELL), "app/x": _exe(STATIC)},
     {"Entrypoint": ["/bin/sh", "-c", "exec /app/x --port 80"]},
     "/app/x", None, ["/app/x", "--port", "80"]),
    ("env VAR=1 program",
     {"usr/bin/env": _exe(STATIC), "app/x": _exe(STATIC)},
     {"Entrypoint": ["/usr/bin/env", "A=1", "/app/x"], "Cmd": ["serve"]},
     "/app/x", None, ["/app/x", "serve"]),
    ("a #! script through env keeps its arguments",
     {"usr/bin/env": _exe(STATIC), "usr/bin/python3": _exe(STATIC),
      "app/main.py": _exe(b"#!/usr/bin/env python3\nprint(1)\n")},
     {"Entrypoint": ["/app/main.py"], "Cmd": ["--debug"]},
     "/usr/bin/python3", "python3", ["/usr/bin/python3", "/app/main.py", "--debug"]),
    ("a #! shell script needs its shell", {"bin/sh": _exe(SHELL),
                                          "app/run": _exe(b"#!/bin/sh\nexec /app/x\n")},
     {"Cmd": ["/app/run"]}, "/bin/sh", "/bin/sh", None),
]


@pytest.mark.parametrize(("name", "files", "config", "program", "needs", "entry"), ENTRIES,
                         ids=[e[0] for e in ENTRIES])
def test_entrypoint_forms(capsys, cache, tmp_path, name, files, config, program, needs, entry):
    ref = _image(tmp_path, files, {"Env": ["PATH=/usr/bin:/bin"], **config})
    extra = ["--base", "sample:distroless-static-debug"]
    code, out, err = run(capsys, ref, "--format", "json", *extra, *cache)
    assert code == 0, err
    r = json.loads(out)
    assert r["program"] == program
    if entry is not None:
        assert r["final_argv"] == entry
    verdicts = {c["label"]: c["verdict"] for c in r["candidates"]}
    if needs is None:  # a static program: every base fits, the smallest wins
        assert r["chosen"]["label"] == "distroless-static"
        assert f"ENTRYPOINT {json.dumps(entry)}" in r["dockerfile"]
        # an image in a layout has no name FROM understands: a placeholder, explained
        assert "FROM current-image AS build\n" in r["dockerfile"]
        assert f"# current-image: {ref} " in r["dockerfile"]
    else:
        missing = next(c for c in r["candidates"] if c["label"] == "distroless-static")["missing"]
        assert missing == [f"{'shell' if 'sh' in needs else 'interpreter'} {needs}"]
        assert verdicts["distroless-static"] == "does not fit"


def test_a_program_built_for_a_newer_glibc_does_not_fit_debian12_bases(capsys, cache, tmp_path):
    from tests.fit.elfbuild import with_verneed

    ld = "lib64/ld-linux-x86-64.so.2"
    files = {ld: _exe(make_elf(interp=None, soname="ld-linux-x86-64.so.2")),
             f"{LIBC_DIR}/libc.so.6": make_elf(interp=None, soname="libc.so.6"),
             # owned by the OS (not the application's to copy): a dpkg database says so
             "var/lib/dpkg/status": b"Package: libc6\nStatus: install ok installed\n"
                                    b"Version: 2.36-9\nArchitecture: amd64\n\n",
             "var/lib/dpkg/info/libc6.list": f"/{ld}\n/{LIBC_DIR}/libc.so.6\n".encode(),
             "app/new": _exe(with_verneed(GOOD, "libc.so.6", ["GLIBC_2.2.5", "GLIBC_2.41"])),
             "app/old": _exe(with_verneed(GOOD, "libc.so.6", ["GLIBC_2.2.5", "GLIBC_2.34"]))}
    ref = _image(tmp_path, files, {"Entrypoint": ["/app/new"]})
    code, out, _ = run(capsys, ref, "--format", "json", *cache)
    base = {c["label"]: c for c in json.loads(out)["candidates"]}["distroless-base"]
    assert (base["verdict"], base["missing"]) == (
        "does not fit", ["libc.so.6 GLIBC_2.41 (the base's has up to GLIBC_2.36)"])
    code, out, _ = run(capsys, ref, "--entrypoint", "/app/old", "--format", "json", *cache)
    assert json.loads(out)["chosen"]["label"] == "distroless-base"


def test_os_libraries_the_base_lacks_are_copied(capsys, cache, tmp_path):
    ld = "lib64/ld-linux-x86-64.so.2"
    libfoo = make_elf(interp=None, needed=["libc.so.6"], soname="libfoo.so.1")
    files = {ld: _exe(make_elf(interp=None, soname="ld-linux-x86-64.so.2")),
             f"{LIBC_DIR}/libc.so.6": make_elf(interp=None, soname="libc.so.6"),
             f"{LIBC_DIR}/libfoo.so.1": Entry("symlink", target="libfoo.so.1.2"),
             f"{LIBC_DIR}/libfoo.so.1.2": libfoo,
             "var/lib/dpkg/status": b"Package: libc6\nStatus: install ok installed\n"
                                    b"Version: 2.36-9\nArchitecture: amd64\n\n"
                                    b"Package: libfoo1\nStatus: install ok installed\n"
                                    b"Version: 1.2\nArchitecture: amd64\n\n",
             "var/lib/dpkg/info/libc6.list": f"/{ld}\n/{LIBC_DIR}/libc.so.6\n".encode(),
             "var/lib/dpkg/info/libfoo1.list": f"/{LIBC_DIR}/libfoo.so.1.2\n".encode(),
             "app/x": _exe(make_elf(needed=["libfoo.so.1", "libc.so.6"]))}
    code, out, err = run(capsys, _image(tmp_path, files, {"Entrypoint": ["/app/x"]}),
                         "--format", "json", *cache)
    assert code == 0, err
    r = json.loads(out)
    chosen = r["chosen"]
    assert (chosen["label"], chosen["verdict"]) == ("distroless-base", "fits if libraries are copied")
    assert chosen["missing"] == ["libfoo.so.1"]
    path = f"/{LIBC_DIR}/libfoo.so.1"
    assert chosen["copy"] == [[path, path]] and chosen["copy_bytes"] == len(libfoo)
    assert f"COPY --from=build {path} {path}\n" in r["dockerfile"]
    assert r["libraries"][1]["package"] == "libfoo1 (deb)"
    assert r["app_files"] == ["/app/x"]


def test_without_version_definitions_the_glibc_package_version_decides(capsys, cache, tmp_path):
    from tests.fit.elfbuild import with_verneed

    ld = "lib64/ld-linux-x86-64.so.2"
    base_files = {ld: _exe(make_elf(interp=None, soname="ld-linux-x86-64.so.2")),
                  f"{LIBC_DIR}/libc.so.6": make_elf(interp=None, soname="libc.so.6"),
                  "var/lib/dpkg/status": b"Package: libc6\nStatus: install ok installed\n"
                                         b"Version: 2.30-1\nArchitecture: amd64\n\n",
                  "var/lib/dpkg/info/libc6.list": f"/{ld}\n/{LIBC_DIR}/libc.so.6\n".encode()}
    write_oci_layout(tmp_path / "base", [ImageSpec([make_layer(base_files)], ref_name="old")])
    app = {**base_files, "app/x": _exe(with_verneed(GOOD, "libc.so.6", ["GLIBC_2.34"]))}
    ref = _image(tmp_path, app, {"Entrypoint": ["/app/x"]})
    code, out, err = run(capsys, ref, "--base", f"oci:{tmp_path / 'base'}:old", "--format",
                         "json", *cache)
    assert code == 0, err
    old = json.loads(out)["candidates"][-1]
    assert (old["verdict"], old["missing"]) == ("does not fit", ["glibc 2.34 (the base has 2.30)"])
