"""Applying a TUI filter on a large image, new code against a baseline checkout, in one run.
Not a test: prints figures.

Builds (once, kept in ``--workdir``) a one-layer image of ``--entries`` entries: directories
of ``PER_DIR`` small files, a 1,500-entry directory, a few programs in ``/usr/bin``, and a
dpkg database (package ``bulk`` owns ``BULK_DIRS`` directories' files, ``tiny`` three files).
Then, for each checkout (``--base``, e.g. a ``git worktree`` of ``main``, and this one), a
child process with that checkout on ``sys.path`` loads the analysis (index cached) and, for
every filter form in ``FORMS``, on a fresh tree (its totals built first, as the inspect
screen's worker does), measures the CPU time of what Enter in the filter prompt costs:
``parse_filter`` (with the screen's resolver), ``TreeRows.set_filter``, ``expand_all`` for a
set term (``FileFilter.apply_filter``), and the directory totals of the first screenful.
Children alternate base/new ``--repeat`` times (the machine is shared); within a child
each form runs ``--rounds`` times: the first round is "cold" (the analysis' lazy maps are
built by the first filter that asks), the rest warm.

Target (issue: the TUI filter on a 1M-entry image): every form ≤ 1 s CPU at 1M entries.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_filter.py --base /work/wt/filter-base \
        [--entries 150000 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PER_DIR = 500
BIG_DIR = "usr/share/big"
BIG_COUNT = 1500
BULK_DIRS = 200
#: (label, filter text as typed): every form of the filter language
FORMS = [
    ("glob name, 11 kept", "entry0000*"),
    ("glob name, most kept", "*.bin"),
    ("glob path", "/opt/d00[0-4]?/file01*"),
    ("re:, few kept", r"re:entry0000\d"),
    ("re:, most kept", r"re:\.bin$"),
    (":added (all)", ":added"),
    (":modified (none)", ":modified"),
    ("category, few", "category:shell"),
    ("category, 100k files", "category:system"),
    ("category, the rest", "category:application"),
    ("package, 100k files", "package:bulk"),
    ("package, 3 files", "package:tiny"),
    ("combined", "package:bulk :added file00*"),
    ("combined re:", "category:application re:d02[0-9]"),
]
SCREEN = 48


def build_layer(entries: int) -> bytes:
    raw = io.BytesIO()
    bulk: list[str] = []
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        def add(name: str, kind: bytes, data: bytes = b"", mode: int = 0o644) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.size = kind, len(data)
            info.mode = 0o755 if kind == tarfile.DIRTYPE else mode
            tar.addfile(info, io.BytesIO(data) if data else None)

        for d in ("usr/", "usr/bin/", "usr/share/", BIG_DIR + "/", "var/", "var/lib/",
                  "var/lib/dpkg/", "var/lib/dpkg/info/"):
            add(d, tarfile.DIRTYPE)
        for name in ("bash", "dash", "sh", "ls", "cat"):
            add(f"usr/bin/{name}", tarfile.REGTYPE, b"\x7fELF" + bytes(60), 0o755)
        for i in range(BIG_COUNT):
            add(f"{BIG_DIR}/entry{i:05d}.txt", tarfile.REGTYPE, b"x" * (i % 97))
        n, d = 13 + BIG_COUNT + 3, 0
        while n < entries:
            add(f"opt/d{d:04d}/", tarfile.DIRTYPE)
            n += 1
            for i in range(min(PER_DIR, entries - n)):
                path = f"opt/d{d:04d}/file{i:04d}.bin"
                add(path, tarfile.REGTYPE, b"y" * (i % 13))
                if d < BULK_DIRS:
                    bulk.append("/" + path)
                n += 1
            d += 1
        status = "".join(f"Package: {name}\nStatus: install ok installed\nArchitecture: amd64\n"
                         f"Version: 1.0\n\n" for name in ("bulk", "tiny", "bash"))
        add("var/lib/dpkg/status", tarfile.REGTYPE, status.encode())
        add("var/lib/dpkg/info/bulk.list", tarfile.REGTYPE, "\n".join(bulk).encode() + b"\n")
        add("var/lib/dpkg/info/tiny.list", tarfile.REGTYPE,
            b"/usr/bin/ls\n/usr/bin/cat\n/opt/d0000/file0001.bin\n")
        add("var/lib/dpkg/info/bash.list", tarfile.REGTYPE, b"/usr/bin/bash\n")
    return gzip.compress(raw.getvalue(), compresslevel=1, mtime=0)


def image(workdir: Path, entries: int) -> str:
    """The OCI layout of ``entries`` entries under ``workdir`` (built on first use)."""
    layout = workdir / f"img-{entries}"
    if not (layout / "index.json").exists():
        sys.path.insert(0, str(ROOT))
        from tests.builders import ImageSpec, write_oci_layout
        t = time.perf_counter()
        write_oci_layout(layout, [ImageSpec([build_layer(entries)], ref_name="big")])
        print(f"built {layout} in {time.perf_counter() - t:.0f} s", flush=True)
    return f"oci:{layout}:big"


def measure(reference: str, cache: str, rounds: int) -> dict[str, list[float]]:
    """In a child: CPU seconds per form and round, with whatever ``inspector`` is on
    ``sys.path`` (the checkout under test)."""
    from inspector.analysis import analyze
    from inspector.index.tree import DirTree, TreeRows, layer_marks
    from inspector.options import Options
    from inspector.sources.resolve import open_image
    from inspector.tui.paths import resolver
    from inspector.tui.widgets.file_rows import parse_filter

    options = Options(cache_dir=Path(cache))
    analysis = analyze(open_image(reference, options), options)
    resolve = resolver([analysis])
    fs = analysis.fs
    out: dict[str, list[float]] = {label: [] for label, _ in FORMS}
    kept: dict[str, int] = {}
    for _ in range(rounds):
        for label, text in FORMS:
            marks, ghosts = layer_marks(fs, len(fs.layers) - 1)  # the inspect screen's tree
            tree = DirTree(fs, ghosts=ghosts, marks=marks)
            tree.totals()
            rows = TreeRows(tree)
            start = time.process_time()
            flt = parse_filter(text, resolve)
            rows.set_filter(flt)
            if flt.only is not None:
                rows.expand_all()
            for path in rows.rows[:SCREEN]:
                rows.size(path)
            out[label].append(time.process_time() - start)
            kept[label] = len(rows.keep or ())
    out["_kept"] = [float(kept[label]) for label, _ in FORMS]
    return out


def child(tree: Path, reference: str, cache: Path, rounds: int) -> dict[str, list[float]]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    proc = subprocess.run([sys.executable, __file__, "--measure", reference, "--cache", str(cache),
                           "--rounds", str(rounds)], env=env, capture_output=True, text=True,
                          cwd=tree, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{tree}: {proc.stderr}")
    return json.loads(proc.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, nargs="+", default=[150_000, 1_000_000])
    parser.add_argument("--base", type=Path, help="the baseline checkout (built in place)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-filter"))
    parser.add_argument("--repeat", type=int, default=3, help="child processes per checkout")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of every form per child")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.cache, args.rounds)))
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    trees = ([("base", args.base.resolve())] if args.base else []) + [("new", ROOT)]
    for entries in args.entries:
        reference = image(args.workdir, entries)
        got: dict[str, dict[str, list[float]]] = {name: {} for name, _ in trees}
        kept: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            for name, tree in trees:  # alternated: a busy spell hits both
                result = child(tree, reference, args.workdir / f"cache-{name}", args.rounds)
                kept[name] = result.pop("_kept")
                for label, values in result.items():
                    got[name].setdefault(label, []).extend(values)
        print(f"\n{entries:,} entries: CPU ms per form, median over {args.repeat} × "
              f"{args.rounds} (cold: median of each child's first round)")
        head = "".join(f"{name + ' cold':>12}{name:>10}" for name, _ in trees)
        print(f"{'form':<24}{'kept':>9}{head}{'new/base':>10}")
        for i, (label, _) in enumerate(FORMS):
            cells = ""
            for name, _ in trees:
                values = got[name][label]
                cold = statistics.median(values[::args.rounds]) * 1000
                cells += f"{cold:12.0f}{statistics.median(values) * 1000:10.0f}"
            ratio = ""
            if args.base:
                ratio = f"{statistics.median(got['new'][label]) / statistics.median(got['base'][label]):10.3f}"
            same = "" if not args.base or kept["base"][i] == kept["new"][i] else "  KEPT DIFFERS"
            print(f"{label:<24}{int(kept['new'][i]):>9,}{cells}{ratio}{same}")


if __name__ == "__main__":
    main()
