"""Image → Analysis: index every layer (cached by diff_id, in parallel), merge, catalog
packages, classify files, measure efficiency. The one entry point the CLI, reports,
compare and the TUI use; progress arrives through a callback, cancellation through
``options.cancel``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from inspector.cache import usable_dir
from inspector.catalog.builder import Catalog, catalog_image
from inspector.classify import Classification, classify_image
from inspector.errors import Cancelled, FormatError, IntegrityError, LayerError
from inspector.index.cache import IndexCache
from inspector.index.efficiency import Efficiency, efficiency
from inspector.index.entries import LayerIndex
from inspector.index.merge import MergedFS, merge
from inspector.options import Options
from inspector.sources import resolve
from inspector.sources.base import Image
from inspector.sources.waits import event_wait

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from inspector.index.progress import LayerProgress

# The walker (inspector.index.indexer) and the thread pool are imported when a layer is
# indexed or several are at once: a warm export of a one-layer image needs neither
# (together with logging, ~5 ms of its start-up; ``python -X importtime``).

#: layers indexed at once (downloads overlap; the walkers share the GIL)
LAYER_WORKERS = 4
#: GIL switch interval while indexing: short, so the inflate/hash thread gets the GIL back
#: quickly from the walker thread (the default 5 ms starves it)
INDEX_SWITCH_INTERVAL = 0.0005

ProgressCallback = Callable[["LayerProgress"], None]

_switch_lock = threading.Lock()
_switch_users = 0
_switch_saved = 0.005


def open_image(reference: str, options: Options | None = None, *, listing: bool = False,
               memo: LayerMemo | None = None) -> Image:
    """``sources.resolve.open_image`` as the pipeline opens an image: a source that can skip
    work when every layer's index is cached (the daemon source: no ``docker save``) is
    told which are, by a predicate over diff_ids (sources never import the index).
    ``listing``: ``analyze`` (with ``memo``) follows, so the registry source fetches the
    tables of contents it will list layers from while it reads the config."""
    options = options or Options()

    def indexed(diff_id: str) -> bool:  # the cache is looked at only when a source asks
        root = usable_dir(options)
        return root is not None and IndexCache(root).has(diff_id)

    return resolve.open_image(reference, options, indexed=indexed,
                              toc_wanted=_toc_wanted(options, memo) if listing else None)


def _toc_wanted(options: Options, memo: LayerMemo | None) -> Callable[[str], bool]:
    """Whether ``index_layers`` will read the TOC of this digest: not ``--full``, its
    index neither in ``memo``, nor cached, nor its entries kept (``toc_files``)."""
    from inspector.index import toc_files

    def wanted(toc_digest: str) -> bool:
        key = f"toc:{toc_digest}"
        if options.full or not toc_digest or toc_files.kept(toc_digest) or (
                memo is not None and memo.knows(key)):
            return False
        root = usable_dir(options)
        return root is None or not IndexCache(root).has(key)
    return wanted


@contextmanager
def workers(n: int, name: str, cancel: threading.Event) -> Iterator[ThreadPoolExecutor]:
    """A ``ThreadPoolExecutor`` of ``n`` threads that Ctrl-C does not wait for: on
    ``KeyboardInterrupt`` ``cancel`` is set and the pool shut down without joining its
    threads — one may wait on a silent registry until the network timeout (the layer's
    prefetched TOC, a ranged or a whole read); the program then exits without joining
    them either (``cli._exit_now``). Otherwise as ``with ThreadPoolExecutor(…)``."""
    from concurrent.futures import ThreadPoolExecutor  # not at start-up

    pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix=name)
    try:
        yield pool
    except KeyboardInterrupt:
        cancel.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    except BaseException:
        pool.shutdown(wait=True)
        raise
    pool.shutdown(wait=True)


def index_layer(layer, **kwargs) -> LayerIndex:
    """``inspector.index.indexer.index_layer``, imported on the first cold layer."""
    from inspector.index.indexer import index_layer as walk

    return walk(layer, **kwargs)


class _ShortSwitchInterval:
    """Shorten the GIL switch interval while any image is being indexed (reference
    counted: images indexed concurrently must not restore each other's value)."""

    def __enter__(self) -> None:
        global _switch_users, _switch_saved
        with _switch_lock:
            if _switch_users == 0:
                _switch_saved = sys.getswitchinterval()
                sys.setswitchinterval(INDEX_SWITCH_INTERVAL)
            _switch_users += 1

    def __exit__(self, *exc: object) -> None:
        global _switch_users
        with _switch_lock:
            _switch_users -= 1
            if _switch_users == 0:
                sys.setswitchinterval(_switch_saved)


class LayerMemo:
    """Layer indexes shared between the images of one run (compare): each diff_id is
    indexed once even when several images are analysed concurrently."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, LayerIndex] = {}
        self._pending: dict[str, threading.Event] = {}

    def knows(self, key: str) -> bool:
        """Whether the index under ``key`` is here or being built."""
        with self._lock:
            return key in self._entries or key in self._pending

    def get_or_build(self, diff_id: str, build: Callable[[], LayerIndex]) -> LayerIndex:
        while True:
            with self._lock:
                if diff_id in self._entries:
                    return self._entries[diff_id]
                event = self._pending.get(diff_id)
                if event is None:
                    event = self._pending[diff_id] = threading.Event()
                    owner = True
                else:
                    owner = False
            if not owner:
                event_wait(event)
                continue
            try:
                index = build()
                with self._lock:
                    self._entries[diff_id] = index
                return index
            finally:
                with self._lock:
                    self._pending.pop(diff_id, None)
                event.set()


@dataclass
class Analysis:
    image: Image
    layers: list[LayerIndex]
    fs: MergedFS
    efficiency: Efficiency
    catalog: Catalog
    classification: Classification
    created_by: list[str]
    cached_layers: int = 0
    #: what the catalogers could not read (one line each)
    warnings: list[str] = field(default_factory=list)
    #: tar members that were flagged and not followed (``..``, whiteouts of ``.``/``..``),
    #: as ``layer N: 'name' (reason)``; kept here only (``notices`` shows both lists)
    unsafe: list[str] = field(default_factory=list)

    @property
    def notices(self) -> list[str]:
        """Everything a reader of this image should be told: the warnings, then each
        skipped member."""
        return [*self.warnings, *(f"skipped member {u}" for u in self.unsafe)]

    @property
    def reference(self) -> str:
        return self.image.reference

    @property
    def config(self) -> dict:
        return self.image.config

    @property
    def compressed_size(self) -> int:
        return sum(layer.compressed_size for layer in self.image.layers)

    @property
    def uncompressed_size(self) -> int:
        return sum(index.uncompressed_size for index in self.layers)

    def fs_at(self, layer: int) -> MergedFS:
        """The filesystem as of ``layer`` (base-first index)."""
        if layer >= len(self.layers) - 1:
            return self.fs
        return merge(self.layers[: layer + 1])


def index_layers(image: Image, options: Options, *, progress: ProgressCallback | None = None,
                 memo: LayerMemo | None = None,
                 notices: list[str] | None = None) -> tuple[list[LayerIndex], int]:
    """Index every layer of ``image`` (base first), using the on-disk cache unless
    ``options.no_cache``. Returns the indexes and how many came from the cache. A layer
    with a table of contents (``Layer.toc``) is indexed from it unless ``options.full``;
    when the TOC cannot be used, one line goes to ``notices`` and the layer is pulled."""
    root = usable_dir(options)
    cache = None if root is None else IndexCache(root)
    cancel = options.cancel
    hits = [0]

    def one(position: int) -> LayerIndex:
        layer = image.layers[position]

        toc = None if options.full else layer.toc
        key = f"toc:{toc.digest}" if toc is not None and toc.digest else layer.diff_id

        def build() -> LayerIndex:
            if cancel.is_set():
                raise Cancelled()
            cached = cache.get(key) if cache else None
            if cached is not None:
                hits[0] += 1
                if progress:
                    from inspector.index.progress import LayerProgress

                    p = LayerProgress(position, layer.digest, layer.compressed_size,
                                      compressed_done=layer.compressed_size,
                                      uncompressed_done=cached.uncompressed_size, state="cached")
                    progress(p)
                return cached
            what = f"{image.reference}: layer {position + 1} ({layer.digest[:19]})"
            built = _from_toc(layer, toc, position, what, progress, notices) if toc else None
            if built is not None:
                if cache:
                    cache.put(built)
                return built
            try:
                built = index_layer(layer, position=position, on_progress=progress, cancel=cancel,
                                    what=what)
            except (LayerError, IntegrityError):
                if layer.recheck is None or not layer.recheck():
                    raise
                # its cached blob was damaged and is evicted: once more, from the source
                built = index_layer(layer, position=position, on_progress=progress, cancel=cancel,
                                    what=what)
            if cache:
                cache.put(built)
            return built

        if memo is not None and key:
            return memo.get_or_build(key, build)
        return build()

    n = len(image.layers)
    if n == 0:
        return [], 0
    with _ShortSwitchInterval():
        if n == 1:
            return [one(0)], hits[0]
        from concurrent.futures import FIRST_EXCEPTION

        from inspector.sources.waits import wait_for

        with workers(min(LAYER_WORKERS, n), "index", cancel) as pool:
            futures = [pool.submit(one, i) for i in range(n)]
            wait_for(futures, FIRST_EXCEPTION)
            failed = [f for f in futures if f.done() and f.exception() is not None]
            if failed:
                cancel.set()
                for f in futures:
                    f.cancel()
                wait_for(futures)
                # report the first real failure, not the cancellations it caused
                errors = [e for f in futures if f.done() and not f.cancelled()
                          and (e := f.exception()) is not None]
                real = [e for e in errors if not isinstance(e, Cancelled)]
                raise (real or errors)[0]
            return [f.result() for f in futures], hits[0]


def _from_toc(layer, toc, position: int, what: str, progress: ProgressCallback | None,
              notices: list[str] | None) -> LayerIndex | None:
    """``layer``'s index from its table of contents; None (and a notice) when the TOC
    cannot be used: the caller pulls the layer whole."""
    from inspector.classify import default_rules
    from inspector.index.from_toc import index_from_toc
    from inspector.index.progress import LayerProgress

    def fetched(done: int, uncompressed: int = 0, state: str = "reading") -> None:
        if progress:
            progress(LayerProgress(position, layer.digest, layer.compressed_size, done,
                                   uncompressed, state, toc=True))

    fetched(0)
    toc.on_fetch = fetched  # each ranged request: the loading screen's "fetched N of M"
    try:
        # bin_dirs: whose executables' first bytes classification does not need
        built = index_from_toc(layer, toc, what=what, bin_dirs=default_rules().bin_dirs)
    except FormatError as exc:  # TocError: malformed, failed digest, Range refused
        if notices is not None:
            notices.append(f"{exc}; reading the whole layer instead")
        return None
    finally:
        toc.on_fetch = None
    fetched(toc.fetched, built.uncompressed_size, "done")
    return built


def _link_heads(image: Image, options: Options, layers: list[LayerIndex], fs: MergedFS,
                notices: list[str]) -> tuple[list[LayerIndex], MergedFS]:
    """``index.linkheads.complete``: the heads a later layer's hardlinks need from a
    TOC-listed layer (its listing fetched only what its own rows needed)."""
    from inspector.index.linkheads import complete

    root = usable_dir(options)
    cache = None if root is None else IndexCache(root)

    def pull(position: int) -> LayerIndex:
        what = f"{image.reference}: layer {position + 1} ({image.layers[position].digest[:19]})"
        return index_layer(image.layers[position], position=position, cancel=options.cancel,
                           what=what)

    return complete(image.layers, layers, fs, pull=pull, keep=cache.put if cache else None,
                    notices=notices)


def analyze(image: Image, options: Options | None = None, *,
            progress: ProgressCallback | None = None, memo: LayerMemo | None = None) -> Analysis:
    """Everything the reports and the TUI show about ``image``."""
    options = options or Options()
    notices: list[str] = []
    layers, hits = index_layers(image, options, progress=progress, memo=memo, notices=notices)
    fs = merge(layers)
    if fs.inodes and any(index.toc_digest for index in layers):
        layers, fs = _link_heads(image, options, layers, fs, notices)
    diff_ids = [index.cache_key for index in layers]  # toc:… for TOC-built layers
    store = None
    root = usable_dir(options)
    if root is not None and all(diff_ids):
        from inspector.analysis_cache import AnalysisCache

        store = AnalysisCache(root)
    cached = store.get(diff_ids, fs) if store else None
    if cached is not None:
        catalog, classification, eff = cached
    else:
        catalog = catalog_image(fs)
        classification = classify_image(fs, catalog)
        eff = efficiency(fs)
        if store:
            store.put(diff_ids, fs, catalog, classification, eff)
    warnings = [*notices, *catalog.warnings]
    unsafe = [f"layer {i + 1}: {name!r} ({reason})"
              for i, index in enumerate(layers) for name, reason in index.flagged]
    return Analysis(
        image=image, layers=layers, fs=fs, efficiency=eff, catalog=catalog,
        classification=classification, created_by=image.created_by(), cached_layers=hits,
        warnings=warnings, unsafe=unsafe,
    )
