"""The C accelerator's API contract (``_tarscan.c``): misuse raises, it never crashes.

Each case runs in a child interpreter under ``-X dev`` (the debug allocator fills freed
memory, so a use after free faults): a segfault fails the case instead of killing pytest.
The cases are what the code review reproduced — a ``Scanner`` without its columns, Python
callbacks that change the lists ``classify_rows``/``render_rows`` are reading, errors from a
table's truth or a rule name's ``==`` — each with the outcome it must have now: the
exception's name, or ``True`` (the loop completes)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from inspector.index import tarscan

pytestmark = pytest.mark.skipif(
    not tarscan.available() and os.environ.get("CI") != "true",
    reason="the C accelerator was not built (no compiler); under CI=true this fails")

ROOT = Path(__file__).resolve().parents[2]

#: what every child runs first: argument builders for the loops, with ``A`` holding the
#: arguments of the call under way (so that a callback can reach them)
PRELUDE = '''
import tarfile
from array import array
from inspector.index import _tarscan as T
from inspector.report import export
from inspector.index.merge import IMPLIED_MODE

class Boom(Exception):
    pass

class Codes(dict):
    def __missing__(self, key):
        self[key] = value = len(self)
        return value

A = {}
N = 64

def fresh(text):  # a str of its own (not interned): freed when its list lets it go
    return "".join(list(text))

def classify(**change):
    A.clear()
    A.update(paths=[fresh(f"/d{i // 8}/f{i}") for i in range(N)], packed=array("Q", range(N)),
             kinds=[bytearray(N)], sizes=[array("q", [1] * N)], modes=[array("I", [0o644] * N)],
             targets=[{}], heads=[{}], inodes={}, dir_rule=lambda parent: 1, bin_dirs=set(),
             exact={}, by_name={}, names_match=lambda base: 1, by_command={},
             commands_match=lambda base: 1, rule_names=(fresh("application"), fresh("docs")),
             content_end=0, no_rule=99, owners={}, owned=(), busybox=fresh("busybox"),
             shell=fresh("shell"), fallback=fresh("application"), owned_fallback=fresh("system"),
             code_of=Codes(), codes=bytearray(b"\\xff" * N), files=array("q", bytes(2048)),
             bytes=array("q", bytes(2048)), per_code=[[] for _ in range(256)], pending=[])
    A.update(change)
    v = list(A.values())  # classify.rows' Columns, RowRules and Tally, as plain tuples
    return T.classify_rows(tuple(v[:8]), tuple(v[8:24]), tuple(v[24:]))

def owned_by(table):  # every path owned by package 0, whose category table is ``table``
    return {"owners": {p: 0 for p in (f"/d{i // 8}/f{i}" for i in range(N))}, "owned": (table,)}

def render(**change):
    A.clear()
    A.update(paths=[fresh(f"/l{i}") for i in range(N)], packed=array("Q", range(N)),
             columns=[(bytearray([1] * N), array("q", [0] * N), array("I", [0o644] * N),
                       array("I", [0] * N), array("I", [0] * N))],
             targets=[{i: "/t" for i in range(N)}], link_sizes={},
             tails=[', "layer": 0, "package": '], owners=["null"] * N, cats=["null"] * N,
             kinds=export._KIND_TEXTS, implied=IMPLIED_MODE)
    A.update(change)
    return T.render_rows(*A.values())

def header():  # one plain, empty file member, as a tar writes it
    return tarfile.TarInfo("a").tobuf(format=tarfile.USTAR_FORMAT) + bytes(1024)
'''


#: (name, the statement whose value or exception is the outcome, the outcome)
CASES = [
    ("Scanner without __init__", "T.Scanner.__new__(T.Scanner).scan(header(), 0)", "TypeError"),
    ("Scanner with its columns", "T.Scanner([], bytearray(), array('q'), array('I'), "
     "array('I'), array('I'), {}, ()).scan(header(), 0)", "512"),
    ("dir_rule empties paths", "classify(dir_rule=lambda p: A['paths'].clear() or 1)",
     "RuntimeError"),
    ("dir_rule grows codes", "classify(dir_rule=lambda p: A['codes'].extend(bytes(1 << 16)) or 1)",
     "BufferError"),
    ("names_match empties the layers' columns",
     "classify(names_match=lambda b: [A[k].clear() for k in ('kinds', 'sizes', 'heads')] and 1)",
     "True"),
    ("a list where the rule names' tuple goes", "classify(rule_names=['application', 'docs'])",
     "TypeError"),
    ("the old 26 arguments", "T.classify_rows(*range(26))", "TypeError"),
    ("a hardlink's inode past the layers", "classify(kinds=[bytearray([1] * N)], "
     "modes=[array('I', [0o755] * N)], inodes={f'/d{i // 8}/f{i}': 5 << 32 for i in range(N)})",
     "IndexError"),
    ("a hardlink's inode that is not an int", "classify(kinds=[bytearray([1] * N)], "
     "modes=[array('I', [0o755] * N)], inodes={f'/d{i // 8}/f{i}': 'x' for i in range(N)})",
     "TypeError"),
    ("code_of empties per_code", "classify(code_of=type('C', (Codes,), {'__missing__': "
     "lambda s, k: A['per_code'].clear() or Codes.__missing__(s, k)})())", "True"),
    ("a rule name that is not a str", "classify(rule_names=('application', 7), **owned_by(''))",
     "True"),
    ("a rule name whose == raises",
     "classify(rule_names=('application', type('E', (), {'__eq__': lambda s, o: (_ for _ in ())"
     ".throw(Boom()), '__hash__': lambda s: 1})()), **owned_by(''))", "Boom"),
    ("a table whose truth raises",
     "classify(**owned_by(type('B', (), {'__bool__': lambda s: (_ for _ in ()).throw(Boom())})()))",
     "Boom"),
    ("a link size whose __index__ empties paths",
     "render(link_sizes={p: type('I', (), {'__index__': lambda s: A['paths'].clear() or 0})() "
     "for p in [f'/l{i}' for i in range(64)]})", "TypeError"),
    ("a link size that is an int", "len(render(link_sizes={'/l0': 5})) > 0", "True"),
]


def _outcome(statement: str) -> subprocess.CompletedProcess:
    code = PRELUDE + textwrap.dedent(f'''
        try:
            result = {statement}
        except Exception as exc:
            print(type(exc).__name__)
        else:
            print(result)
        ''')
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("INSPECTOR_PURE", None)
    return subprocess.run([sys.executable, "-X", "dev", "-c", code], capture_output=True, text=True,
                          env=env, timeout=120)


@pytest.mark.parametrize(("name", "statement", "outcome"), CASES, ids=[c[0] for c in CASES])
def test_misuse_raises_and_never_crashes(name, statement, outcome):
    proc = _outcome(statement)
    assert proc.returncode == 0, f"the child died ({proc.returncode}): {proc.stderr[-2000:]}"
    assert proc.stdout.strip() == outcome, proc.stderr[-2000:]
    assert proc.stderr == ""
