"""Only ``inspector/tui/`` may import textual or rich: the headless core stays headless.

Each module is imported in a fresh interpreter, then ``sys.modules`` is checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "inspector"
FORBIDDEN = ("textual", "rich")


def modules() -> list[str]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[:2] == ["inspector", "tui"] or parts[-1] == "__main__":
            continue  # __main__ runs the program when imported (it only calls cli.main)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append(".".join(parts))
    return out


CHECK = f"""
FORBIDDEN = {FORBIDDEN!r}
import importlib, sys
bad = {{}}
for name in sys.argv[1:]:
    importlib.import_module(name)
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in FORBIDDEN)
    if loaded:
        bad[name] = loaded
        for m in loaded:
            del sys.modules[m]
print(bad)
"""


def test_module_list_is_not_empty():
    names = modules()
    assert "inspector.cli" in names and "inspector.index.tarwalk" in names


@pytest.mark.parametrize("name", modules())
def test_no_textual_or_rich_outside_tui(name):
    proc = subprocess.run([sys.executable, "-c", CHECK, name], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "{}", f"{name} imports {proc.stdout.strip()}"
