"""The tar walker's optional C accelerator (``_tarscan.c``, built by ``setup.py``).

``scanner(index)`` returns a ``scan(buf, pos) -> pos`` function that records the plain
members at ``buf[pos:]`` into ``index`` exactly as the walker's Python loop would and
stops at the first member it leaves to Python; or None when the extension was not built
or ``INSPECTOR_PURE=1`` asks for the pure-Python loop (tests and benchmarks compare both).
``prefix_sums`` is the TUI tree's directory totals in one C pass (``subtrees.Sums``);
``render_rows`` writes the export's files array and ``json_strings`` its long lists of
paths (``report.export``); ``parents`` is the merge's set of parent directories;
``classify_rows`` is the classifier's per-entry loop (``classify.rows``).
"""

from __future__ import annotations

import importlib
import os
from array import array
from collections.abc import Callable, Iterable
from functools import lru_cache
from types import ModuleType

from inspector.index import capture, packed
from inspector.index.entries import LayerIndex

#: the interface this module was written for (``ABI`` in ``_tarscan.c``): a build that says
#: otherwise is a stale one (an editable install whose ``.so`` predates the source) and is
#: not used
ABI = 4


def _load() -> tuple[ModuleType | None, str | None]:
    """``(module, None)``, or ``(None, why)`` when the accelerator cannot be used: not built
    (no C compiler at install time), failing to load, built for another ``ABI`` or another
    packed entry (``packed.SHIFT``/``MASK``). The pure-Python loops then do it all,
    silently (``inspector --version`` says why)."""
    try:
        module = importlib.import_module("inspector.index._tarscan")
    except ImportError as exc:
        if isinstance(exc, ModuleNotFoundError) and exc.name == "inspector.index._tarscan":
            return None, "not built (no C compiler or Python headers at install time)"
        return None, f"could not be loaded ({exc}): rebuild it (make venv)"
    built = getattr(module, "ABI", None)
    if built != ABI:
        return None, f"a stale build (ABI {built}, this code needs {ABI}): rebuild it (make venv)"
    why = _packing(module)
    return (None, why) if why else (module, None)


def _packing(module: ModuleType) -> str | None:
    """Why ``module`` cannot decode ``MergedFS``'s packed entries, or None: the ``SHIFT``
    and ``MASK`` it was compiled with must be ``packed``'s."""
    ours = (packed.SHIFT, packed.MASK)
    built = (getattr(module, "SHIFT", None), getattr(module, "MASK", None))
    if built != ours:
        return (f"built for another packed entry (SHIFT, MASK {built}, packed.py says {ours}): "
                "rebuild it (make venv)")
    return None


_tarscan, UNAVAILABLE = _load()


@lru_cache(maxsize=1)
def _bases() -> tuple[bytes, ...]:
    """The capture pre-filter (``capture.candidate``) as the C side reads it, one tuple of
    name bytes computed on first use: a whole basename; ``*`` and a basename's ending;
    a path prefix (it starts with ``/``)."""
    def raw(text: str) -> bytes:
        return text.encode("utf-8", "surrogateescape")

    assert not any(b.startswith("*") for b in capture.BASENAMES), "a basename the C reads as an ending"
    return (*sorted(map(raw, capture.BASENAMES)), *(b"*" + raw(e) for e in capture.BASE_ENDINGS),
            *map(raw, capture.PATH_PREFIXES))


def _loop(name: str):
    """``_tarscan.<name>``, or None when the extension was not built or ``INSPECTOR_PURE=1``
    asks for the Python references (tests and benchmarks compare both)."""
    if _tarscan is None or os.environ.get("INSPECTOR_PURE") == "1":
        return None
    return getattr(_tarscan, name, None)


#: ``prefix_sums(packed, kinds, sizes, is_file, not_dir, out_bytes, out_counts)`` in C, or
#: None (then ``subtrees.Sums`` runs its ``map``/``accumulate`` passes); with both outputs
#: None it only returns the totals (``MergedFS.file_bytes``)
prefix_sums: Callable[..., tuple[int, int]] | None = _loop("prefix_sums")
#: the export's rows in C (``report.export._c_rows``), or None (``export._batch`` does it)
render_rows: Callable[..., str] | None = _loop("render_rows")
#: ``", ".join(map(encode_basestring_ascii, strings[start:end]))`` in C, or None
json_strings: Callable[[list[str], int, int], str] | None = _loop("json_strings")
#: ``{p.rpartition("/")[0] for p in paths}`` in C (the merge's parent set), or None
parents: Callable[[list[str]], set[str]] | None = _loop("parents")
#: the classifier's per-entry loop in C (``classify.rows``), or None
#: (typed where it is called: ``classify.rows.tally_rows_c``, as ``_tarscan.pyi`` says)
classify_rows: Callable[..., bool] | None = _loop("classify_rows")


def native(layers: Iterable[LayerIndex]) -> bool:
    """Whether every layer's columns are the native arrays the C loops read (``kinds``
    bytes, ``sizes`` int64, ``modes``/``uids``/``gids`` uint32), as the walker and the cache
    make them; other shapes (hand-built indexes) take the Python paths."""
    return all(isinstance(ix.kinds, (bytes, bytearray)) and all(
        isinstance(col, array) and (col.typecode, col.itemsize) == shape
        for col, shape in ((ix.sizes, ("q", 8)), (ix.modes, ("I", 4)), (ix.uids, ("I", 4)),
                           (ix.gids, ("I", 4))))
        for ix in layers)


def available() -> bool:
    return _tarscan is not None


def status() -> str:
    """``on`` or ``off (why)``: what ``inspector --version`` says of the accelerator."""
    if _tarscan is None:
        return f"off ({UNAVAILABLE})"
    if os.environ.get("INSPECTOR_PURE") == "1":
        return "off (INSPECTOR_PURE=1)"
    return "on"


def scanner(index: LayerIndex) -> Callable[[bytes, int], int] | None:
    """(``INSPECTOR_PURE`` is read on each call here: a walk is set up once per layer.)"""
    scanner_type = _loop("Scanner")
    if scanner_type is None or not native([index]) or type(index.paths) is not list \
            or type(index.kinds) is not bytearray:
        return None  # the C side appends raw 64/32-bit values: other column shapes stay pure
    return scanner_type(index.paths, index.kinds, index.sizes, index.modes, index.uids,
                        index.gids, index.targets, _bases()).scan
