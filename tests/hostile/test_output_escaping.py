"""Hostile strings × every headless output (issue 23 item 6).

An image whose file names, symlink targets, dpkg packages, ``/etc/passwd`` users, config
(``created_by``, Env, WorkingDir) and layout directory name (so its reference and label)
carry the strings of ``tests/hostile/strings.py`` goes through every command. Human-facing
outputs (text, markdown, CSV, JUnit, error and warning lines, progress) must hold nothing a
terminal obeys and show each string visibly (``\\x1b``); JSON and SARIF keep the raw string.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from inspector import cli
from inspector.check.evaluate import SHOWN
from tests.builders import Entry, ImageSpec, make_layer, write_oci_layout
from tests.fit.elfbuild import make_elf
from tests.hostile.strings import HOSTILE, Hostile, assert_inert, by_name, ids, unsafe_in

pytestmark = pytest.mark.timeout(300)

IN_PATH = [h for h in HOSTILE if h.in_path]
#: the layout directory of the hostile image: every string that fits a path component, so
#: every output that names the image (its reference, its label) carries them all
NAME = "img-" + "".join(h.raw for h in IN_PATH)
#: shown where the image is named
NAMED = [h.shown for h in IN_PATH]
#: ``/etc/passwd`` splits lines at these, so a user name cannot hold them
_LINE_BREAKS = {"newline", "cr-overwrite"}
#: the ELF builder writes names as UTF-8
_UTF8 = [h for h in IN_PATH if h.name != "invalid-utf8"]
STATIC = make_elf(interp=None, dynamic=False, e_type=2)


def _dpkg_status() -> bytes:
    """One package per hostile string: in its name (a dpkg field is one line, so a line
    break cannot be in it) and in its version."""
    stanzas = []
    for i, h in enumerate(HOSTILE):
        one_line = h.raw.replace("\n", " ").replace("\r", " ")
        stanzas.append(f"Package: pkg{i}-{one_line}\nStatus: install ok installed\n"
                       f"Version: 1.{i}-{one_line}\nArchitecture: amd64\n")
    return "\n".join(stanzas).encode("utf-8", "surrogateescape")


def _passwd() -> bytes:
    users = [f"u{i}{h.raw}:x:{1000 + i}:1000::/home/u:/bin/sh\n"
             for i, h in enumerate(IN_PATH) if h.name not in _LINE_BREAKS]
    return ("root:x:0:0:root:/root:/bin/bash\n" + "".join(users)).encode("utf-8", "surrogateescape")


def _files() -> dict[str, bytes | Entry]:
    files: dict[str, bytes | Entry] = {}
    half = len(IN_PATH) // 2
    for i, h in enumerate(IN_PATH):
        files[f"data/{i}-{h.raw}"] = b"x" * (i + 1)
        files[f"links/{i}"] = Entry("symlink", target=f"/data/{h.raw}")
        # check's offending lists show 10 paths per rule: half setuid, half world-writable
        mode = 0o4755 if i < half else 0o666
        files[f"opt/{i}-{h.raw}"] = Entry("file", b"s", mode=mode)
    files["var/lib/dpkg/status"] = _dpkg_status()
    files["etc/passwd"] = _passwd()
    files["bin/sh"] = Entry("file", STATIC, mode=0o755)
    # fit: the entrypoint runs through a hostile symlink to a hostile static program
    files["app/" + "".join(h.raw for h in _UTF8)] = Entry("file", STATIC, mode=0o755)
    files["usr/local/bin/run-" + by_name("osc-title").raw] = Entry(
        "symlink", target="/app/" + "".join(h.raw for h in _UTF8))
    return files


def _config() -> dict:
    return {
        "history": [{"created_by": "RUN " + h.raw} for h in HOSTILE[:1]],
        "config": {"Entrypoint": ["/usr/local/bin/run-" + by_name("osc-title").raw],
                   "Env": ["PATH=/usr/bin:/bin", *(f"V{i}={h.raw}" for i, h in enumerate(HOSTILE))],
                   "WorkingDir": "/w" + by_name("csi-clear").raw,
                   "Labels": {h.name: h.raw for h in HOSTILE}},
    }


@dataclass
class Images:
    hostile: str  # its reference
    plain: str
    cache: Path
    root: Path


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Images:
    root = tmp_path_factory.mktemp("escaping")
    write_oci_layout(root / NAME, [ImageSpec([make_layer(_files())], ref_name="app",
                                             config_extra=_config())])
    write_oci_layout(root / "plain", [ImageSpec([make_layer({"etc/x": b"y"})], ref_name="app")])
    return Images(f"oci:{root / NAME}:app", f"oci:{root / 'plain'}:app", root / "cache", root)


@dataclass
class Run:
    code: int
    out: str
    err: str


def run(capsys, images: Images, *argv: str) -> Run:
    """The CLI in this process; pytest's capture streams are strict UTF-8, as a terminal's."""
    capsys.readouterr()
    code = cli.main([*argv, "-q", "--cache-dir", str(images.cache)])
    out, err = capsys.readouterr()
    assert "please report this" not in err, err
    return Run(code, out, err)


# --- markdown: read back by a CommonMark + GFM tables parser ------------------------------

def markdown_texts(text: str) -> list[str]:
    """The text a reader sees of each inline run (a table cell, a heading, a list item):
    escapes undone, code spans' content kept, markup dropped."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    out = []
    for token in md.parse(text):
        if token.type == "inline":
            out.append("".join(c.content for c in token.children or ()
                               if c.type in ("text", "code_inline")))
        elif token.type in ("fence", "code_block"):
            out.append(token.content)
    return out


def assert_markdown_shows(text: str, shown: list[str]) -> None:
    assert_inert(text)
    texts = markdown_texts(text)
    for form in shown:
        assert any(form in t for t in texts), f"{form!r} not read back from the markdown:\n{text}"


# --- compare -------------------------------------------------------------------------------

@pytest.mark.parametrize("files", [False, True], ids=["summary", "files"])
def test_compare_text(capsys, images, files):
    r = run(capsys, images, "compare", images.hostile, images.plain, *(["--files"] if files else []))
    assert r.code == 0, r.err
    shown = [*NAMED, *(f"pkg{i}-" + visible_one_line(h) for i, h in enumerate(HOSTILE))]
    if files:
        shown += [f"/data/{i}-{h.shown}" for i, h in enumerate(IN_PATH)]
        shown += [f"/data/{h.shown}" for h in IN_PATH]  # link targets
    assert_inert(r.out, *shown)


@pytest.mark.parametrize("files", [False, True], ids=["summary", "files"])
def test_compare_markdown(capsys, images, files):
    r = run(capsys, images, "compare", images.hostile, images.plain, "--format", "markdown",
            *(["--files"] if files else []))
    assert r.code == 0, r.err
    shown = [*NAMED, *(f"pkg{i}-" + visible_one_line(h) for i, h in enumerate(HOSTILE))]
    if files:
        shown += [f"/data/{i}-{h.shown}" for i, h in enumerate(IN_PATH)]
    assert_markdown_shows(r.out, shown)


def visible_one_line(h: Hostile) -> str:
    """The visible form of ``h`` where a line-based database held it (line breaks → space)."""
    from inspector.visible import visible

    return visible(h.raw.replace("\n", " ").replace("\r", " "))


def test_compare_json_keeps_the_raw_strings(capsys, images):
    r = run(capsys, images, "compare", images.hostile, images.plain, "--format", "json", "--files")
    assert r.code == 0, r.err
    text = json.dumps(json.loads(r.out), ensure_ascii=False)
    for i, h in enumerate(IN_PATH):
        assert json.dumps(f"/data/{i}-{h.raw}", ensure_ascii=False) in text, h.name


# --- export (JSON: unchanged) --------------------------------------------------------------

def test_export_json_round_trips_the_raw_strings(capsys, images):
    r = run(capsys, images, "export", images.hostile)
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    paths = {row["path"] for row in doc["files"]}
    for i, h in enumerate(IN_PATH):
        assert f"/data/{i}-{h.raw}" in paths, h.name
    assert {p["name"] for p in doc["packages"]} >= {
        f"pkg{i}-" + h.raw.replace("\n", " ").replace("\r", " ") for i, h in enumerate(HOSTILE)
        if h.name != "nul"}


# --- check ---------------------------------------------------------------------------------

def _listed(items: list[tuple[str, str]]) -> list[str]:
    """The shown forms of the ``(raw, shown)`` items a check verdict lists: the first
    ``SHOWN`` in the order of the raw strings (the image's reference, also in the output,
    carries every string whatever the table's size)."""
    return [shown for _raw, shown in sorted(items)[:SHOWN]]


def _opt_listed() -> list[str]:
    """The ``/opt`` paths of the setuid and the world-writable verdicts (a half each)."""
    opt = [(f"/opt/{i}-{h.raw}", f"/opt/{i}-{h.shown}") for i, h in enumerate(IN_PATH)]
    half = len(IN_PATH) // 2
    return _listed(opt[:half]) + _listed(opt[half:])


def test_check_text(capsys, images):
    r = run(capsys, images, "check", images.hostile)
    assert r.code == 1, r.err  # setuid, world-writable, login users fail
    users = [(f"u{i}{h.raw}", f"u{i}{h.shown}") for i, h in enumerate(IN_PATH)
             if h.name not in _LINE_BREAKS]
    assert_inert(r.out, *NAMED, *_opt_listed(), *_listed(users))


def test_check_junit_is_well_formed_and_inert(capsys, images, tmp_path):
    junit = tmp_path / "junit.xml"
    r = run(capsys, images, "check", images.hostile, "--junit", str(junit))
    assert r.code == 1, r.err
    data = junit.read_bytes()
    root = ET.fromstring(data)  # well-formed XML 1.0 (no control characters)
    text = " ".join([*(v for e in root.iter() for v in e.attrib.values()),
                     *(e.text or "" for e in root.iter())])
    assert_inert(text, *NAMED, *_opt_listed())
    assert not unsafe_in(data)


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_check_json_and_sarif_keep_the_raw_strings(capsys, images, fmt):
    r = run(capsys, images, "check", images.hostile, "--format", fmt)
    assert r.code == 1, r.err
    doc = json.loads(r.out)
    text = json.dumps(doc, ensure_ascii=False)
    for i, h in enumerate(IN_PATH):
        if fmt == "json":
            assert json.dumps(f"/opt/{i}-{h.raw}", ensure_ascii=False)[1:-1] in text, h.name
        else:  # SARIF: a location per offending path, relative to the image's root
            assert json.dumps(f"opt/{i}-{h.raw}", ensure_ascii=False)[1:-1] in text, h.name
    assert images.hostile in (doc["images"][0]["reference"] if fmt == "json"
                              else doc["runs"][0]["results"][0]["properties"]["image"])


# --- fit -----------------------------------------------------------------------------------

PROGRAM = "/app/" + "".join(h.shown for h in _UTF8)


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_fit(capsys, images, fmt):
    r = run(capsys, images, "fit", images.hostile, "--format", fmt)
    assert r.code == 0, r.err
    shown = [*NAMED, PROGRAM, "/usr/local/bin/run-" + by_name("osc-title").shown,
             "/w" + by_name("csi-clear").shown, *(f"V{i}={h.shown}" for i, h in enumerate(HOSTILE))]
    if fmt == "text":
        assert_inert(r.out, *shown)
    else:
        assert_markdown_shows(r.out, shown)
    assert_inert(r.err)


def test_fit_json_keeps_the_raw_strings(capsys, images):
    r = run(capsys, images, "fit", images.hostile, "--format", "json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["program"] == "/app/" + "".join(h.raw for h in _UTF8)
    assert doc["reference"] == images.hostile


def test_fit_warning_lines(capsys, images, tmp_path):
    """A library that cannot be read is a ``warning:`` line naming it."""
    lib = "usr/lib/x86_64-linux-gnu/lib" + by_name("osc-title").raw + ".so"
    files = {"lib64/ld-linux-x86-64.so.2": Entry("file", make_elf(interp=None), mode=0o755),
             lib: make_elf(interp=None, needed=["x"])[:90],
             "app/x": Entry("file", make_elf(needed=["lib" + by_name("osc-title").raw + ".so"]),
                            mode=0o755)}
    write_oci_layout(tmp_path / "w", [ImageSpec([make_layer(files)], ref_name="app",
                                                config_extra={"config": {"Entrypoint": ["/app/x"]}})])
    r = run(capsys, images, "fit", f"oci:{tmp_path / 'w'}:app")
    assert r.code == 0, r.err
    assert r.err.startswith("inspector: warning: ")
    assert_inert(r.err, by_name("osc-title").shown)
    assert_inert(r.out, by_name("osc-title").shown)


# --- audit ---------------------------------------------------------------------------------

#: references a list file may hold (text: one per line, UTF-8): each fails (no such image)
#: and its row says why
FROM_REFS = [f"oci:/nonexistent/{h.raw}:x" for h in IN_PATH
             if h.name not in _LINE_BREAKS and h.name != "invalid-utf8"]
FORMULAS = ["=HYPERLINK(\"x\",\"y\")", "+1+2", "-1+2", "@SUM(1)"]


@pytest.fixture
def from_file(tmp_path) -> Path:
    path = tmp_path / "refs.txt"
    path.write_bytes("\n".join([*FROM_REFS, *FORMULAS, ""]).encode("utf-8", "surrogateescape"))
    return path


def _audit(capsys, images, from_file, fmt) -> Run:
    r = run(capsys, images, "audit", images.hostile, "--from", str(from_file), "--workers", "1",
            "--format", fmt)
    assert r.code == 1 and r.out, r.err  # the listed references fail
    return r


def test_audit_text(capsys, images, from_file):
    from inspector.visible import visible

    r = _audit(capsys, images, from_file, "text")
    assert_inert(r.out, *NAMED, *(visible(ref) for ref in FROM_REFS))


def test_audit_markdown(capsys, images, from_file):
    from inspector.visible import visible

    r = _audit(capsys, images, from_file, "markdown")
    assert_markdown_shows(r.out, [*NAMED, *(visible(ref) for ref in FROM_REFS), *FORMULAS])


def test_audit_csv(capsys, images, from_file):
    from inspector.visible import visible

    r = _audit(capsys, images, from_file, "csv")
    assert_inert(r.out)
    rows = list(csv.DictReader(io.StringIO(r.out)))
    refs = {row["reference"] for row in rows}
    assert visible(images.hostile) in refs
    assert {visible(ref) for ref in FROM_REFS} <= refs
    # a cell a spreadsheet would run as a formula is prefixed with ' (OWASP's advice)
    assert {"'" + f for f in FORMULAS} <= refs
    assert not any(cell[:1] in ("=", "+", "-", "@") for row in rows for cell in row.values())


def test_audit_json_keeps_the_raw_strings(capsys, images, from_file):
    r = _audit(capsys, images, from_file, "json")
    refs = {row["reference"] for row in json.loads(r.out)["images"]}
    assert {images.hostile, *FROM_REFS, *FORMULAS} <= refs


# --- error and warning lines ---------------------------------------------------------------

ERRORS = [  # (name, the reference, relative to the test's directory)
    ("missing layout", f"oci:{{root}}/missing-{NAME}:app"),
    ("missing tag", f"oci:{{root}}/{NAME}:" + by_name("osc-title").raw),
    ("missing archive", "docker-archive:{root}/" + by_name("csi-clear").raw + ".tar"),
]


@pytest.mark.parametrize(("name", "reference"), ERRORS, ids=[e[0] for e in ERRORS])
@pytest.mark.parametrize("command", ["export", "compare", "check", "fit"])
def test_error_lines(capsys, images, name, reference, command):
    ref = reference.format(root=images.root)
    argv = [command, ref] + ([images.plain] if command == "compare" else [])
    r = run(capsys, images, *argv)
    assert r.code == 1
    assert r.out == ""
    lines = r.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("inspector: "), r.err
    assert_inert(r.err)


IMAGE_STRINGS = [  # (name, what the image carries, the error line's command line)
    ("media type", {"layer_media_types": ["application/x" + by_name("osc-title").raw
                                          + by_name("c1-csi").raw]}, []),
    ("platform", {"platform": "li" + by_name("csi-clear").raw + "nux/amd64"},
     ["--platform", "linux/arm64"]),
]


@pytest.mark.parametrize(("name", "spec", "argv"), IMAGE_STRINGS, ids=[i[0] for i in IMAGE_STRINGS])
def test_image_strings_in_error_lines(capsys, images, tmp_path, name, spec, argv):
    write_oci_layout(tmp_path / "m", [ImageSpec([make_layer({"a": b"b"})], ref_name="app", **spec)])
    r = run(capsys, images, "export", f"oci:{tmp_path / 'm'}:app", *argv)
    assert r.code == 1
    assert len(r.err.splitlines()) == 1
    assert_inert(r.err, "\\x1b")


def test_export_warning_lines(capsys, images, tmp_path):
    """A catalog warning (a package.json that is not JSON) and a flagged member name."""
    files = {f"app/node_modules/{h.raw}/package.json": b"{" for h in IN_PATH}
    files[f"../{by_name('osc-title').raw}"] = b"x"
    write_oci_layout(tmp_path / "w", [ImageSpec([make_layer(files)], ref_name="app")])
    r = run(capsys, images, "export", f"oci:{tmp_path / 'w'}:app")
    assert r.code == 1  # the flagged member
    assert json.loads(r.out)
    assert_inert(r.err, *(f"/app/node_modules/{h.shown}/package.json" for h in IN_PATH))
    assert len(r.err.splitlines()) == len(IN_PATH) + 1
    assert all(line.startswith("inspector: ") for line in r.err.splitlines())


# --- progress lines ------------------------------------------------------------------------

class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


#: what the progress lines themselves write: carriage return, erase to the end of line
_OWN = ("\r", "\x1b[K")


def _strip_own(text: str) -> str:
    for code in _OWN:
        text = text.replace(code, "")
    return text


@pytest.mark.parametrize("hostile", HOSTILE, ids=ids())
def test_progress_labels(hostile):
    from inspector.index.progress import LayerProgress
    from inspector.report.progress import StderrProgress
    from inspector.sources.daemon import _SpoolProgress

    stream = _Tty()
    bar = StderrProgress(hostile.raw, 1, stream=stream)
    bar(LayerProgress(0, "sha256:0", 10, 10, 10, "done"))
    spool = _SpoolProgress(hostile.raw, 100, enabled=True, stream=stream)
    spool.add(50)
    assert_inert(_strip_own(stream.getvalue()), hostile.shown)


@pytest.fixture
def hostile_samples(tmp_path, monkeypatch):
    """A samples layout whose names and descriptions carry hostile strings."""
    from tests.builders import REF_NAME

    layout = tmp_path / "samples"
    images = [ImageSpec([make_layer({"a": bytes([i])})], ref_name=f"s{i}")
              for i in range(len(HOSTILE) + 1)]
    index = write_oci_layout(layout, images).index_json
    for i, (entry, h) in enumerate(zip(index["manifests"], HOSTILE, strict=False)):
        entry["annotations"] = {REF_NAME: f"s{i}{h.raw}", DESCRIPTION: f"d{i}{h.raw}"}
    index["manifests"][-1]["annotations"] = {REF_NAME: "plain-1.0"}  # kept
    (layout / "index.json").write_text(json.dumps(index))
    monkeypatch.setenv("INSPECTOR_SAMPLES", str(layout))


DESCRIPTION = "org.opencontainers.image.description"


def test_samples_list(capsys, hostile_samples):
    """``inspector samples`` shows names and descriptions from the samples' index.json."""
    capsys.readouterr()
    assert cli.main(["samples"]) == 0
    out, _ = capsys.readouterr()
    assert_inert(out, *(f"sample:s{i}{h.shown}" for i, h in enumerate(HOSTILE)),
                 *(f"d{i}{h.shown}" for i, h in enumerate(HOSTILE)))


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_leave_out_unsafe_sample_names(capsys, hostile_samples, shell):
    """The names go into shell code: a name that is not plain is left out, not quoted."""
    pytest.importorskip("shtab")
    capsys.readouterr()
    assert cli.main(["completion", shell]) == 0
    out, _ = capsys.readouterr()
    assert_inert(out, tabs=True)
    assert "sample:plain-1.0" in out
    for i, h in enumerate(HOSTILE):
        assert f"sample:s{i}" not in out, h.name


def test_usage_error_line(capsys):
    """argparse's error quotes what was typed (here, as from a file name in a script)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        cli.main(["compare", "a", "b", "--x" + by_name("osc-title").raw])
    assert exc.value.code == 2
    _, err = capsys.readouterr()
    assert_inert(err, "--x" + by_name("osc-title").shown)
