# Types of the C accelerator (_tarscan.c); see inspector/index/tarscan.py.
from array import array

from inspector.classify.rows import Columns, RowRules, Tally

ABI: int
#: the packed entry this build decodes (``inspector/index/packed.py``)
SHIFT: int
MASK: int

class Scanner:
    why: str
    def __init__(self, paths: list[str], kinds: bytearray, sizes: array, modes: array,
                 uids: array, gids: array, targets: dict[int, str],
                 capture_bases: tuple[bytes, ...], /) -> None: ...
    def scan(self, buf: bytes, pos: int, /) -> int: ...

def prefix_sums(packed: array, kinds: list, sizes: list, is_file: bytes, not_dir: bytes,
                out_bytes: array | None, out_counts: array | None, /) -> tuple[int, int]: ...
def render_rows(paths: list[str], packed: array, columns: list, targets: list, link_sizes: dict,
                layer_tails: list[str], owners: list[str], cats: list[str],
                kind_texts: tuple[str, ...], implied_mode: int, /) -> str: ...
def json_strings(strings: list[str], start: int, end: int, /) -> str: ...
def parents(paths: list[str], /) -> set[str]: ...
def classify_rows(columns: Columns, rules: RowRules, tally: Tally, /) -> bool: ...
