"""The one cache module: the frame, the key check, the atomic write, locks, the sweep of
leftovers and the size cap's eviction order."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

import pytest

from inspector import cache, cache_admin
from inspector.cache import CacheDir, atomic_write, frame, unframe

MAGIC = b"TESTMAG1"


def _entry(header: dict, *sections: bytes) -> bytes:
    return b"".join(frame(MAGIC, header, list(sections)))


def test_frame_round_trip():
    data = _entry({"key": "k", "n": 1}, b"abc", b"", b"\0\xff")
    header, body = unframe(MAGIC, data)
    assert header == {"key": "k", "n": 1}
    assert bytes(body) == b"abc\0\xff"


GOOD = _entry({"key": "k"}, b"x" * 100)
DAMAGE = [
    ("flipped body byte", GOOD[:-10] + bytes([GOOD[-10] ^ 1]) + GOOD[-9:]),
    ("flipped header byte", GOOD[:30] + bytes([GOOD[30] ^ 1]) + GOOD[31:]),
    ("flipped length", GOOD[:12] + bytes([GOOD[12] ^ 1]) + GOOD[13:]),
    ("truncated", GOOD[:-1]),
    ("appended", GOOD + b"\0"),
    ("empty", b""),
    ("prefix only", GOOD[:24]),
    ("other magic", b"OTHERMAG" + GOOD[8:]),
    ("header not an object", _entry([1, 2], b"x")),  # type: ignore[arg-type]
]


@pytest.mark.parametrize("name,data", DAMAGE, ids=[d[0] for d in DAMAGE])
def test_unframe_rejects_damage(name, data):
    assert unframe(MAGIC, data) is None


def _store(root: Path, code=("cache.py",)) -> CacheDir:
    return CacheDir(root, "test", 1, MAGIC, code, ".bin")


def test_read_checks_the_full_key_inside_the_entry(tmp_path):
    store = _store(tmp_path)
    store.write("sha256:" + "a" * 64, {"what": "A"}, [b"A"])
    store.write("sha256:" + "b" * 64, {"what": "B"}, [b"B"])
    a, b = store.path("sha256:" + "a" * 64), store.path("sha256:" + "b" * 64)
    assert a.name == "sha256-" + "a" * 64 + ".bin"
    b.write_bytes(a.read_bytes())  # A's entry copied over B's
    assert store.read("sha256:" + "b" * 64) is None
    assert not b.exists()  # rejected entries are removed
    assert store.read("sha256:" + "a" * 64)[0]["what"] == "A"


def test_read_checks_the_code_digest_inside_the_entry(tmp_path, monkeypatch):
    import inspector.codehash as codehash

    old = _store(tmp_path)
    old.write("key", {}, [b"x"])
    data = old.path("key").read_bytes()
    monkeypatch.setattr(codehash, "source_digest", lambda parts: "f" * 16)
    new = _store(tmp_path)
    assert new.dir != old.dir
    new.path("key").parent.mkdir(parents=True)
    new.path("key").write_bytes(data)  # an old entry moved under the new code's directory
    assert new.read("key") is None


def test_long_keys_are_hashed_into_names(tmp_path):
    store = _store(tmp_path)
    key = "layers:" + ",".join(f"sha256:{i:064x}" for i in range(50))
    store.write(key, {}, [b"x"])
    assert len(store.path(key).name) == 64 + len(".bin")
    assert store.read(key) is not None


def test_atomic_write_leaves_no_temp_file_on_failure(tmp_path):
    class Boom(Exception):
        pass

    def chunks():
        yield b"partial"
        raise Boom

    with pytest.raises(Boom):
        atomic_write(tmp_path / "x", chunks())  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def _age(path: Path, seconds: float) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_sweep_removes_stale_unlocked_temp_files_only(tmp_path):
    blobs = tmp_path / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    spool = tmp_path / "tmp"
    spool.mkdir()
    stale = [blobs / ".tmp-0123-abc", spool / "archive-x.tar", spool / "daemon-save-y.tar"]
    fresh = blobs / ".tmp-fresh"
    locked = spool / "archive-in-use.tar"
    entry = blobs / ("a" * 64)
    for p in (*stale, fresh, locked, entry):
        p.write_bytes(b"x" * 1000)
    for p in (*stale, locked, entry):
        _age(p, 3600)
    holder = open(locked, "rb")  # another open file description: as another process would
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        cache_admin.sweep(tmp_path)
    finally:
        holder.close()
    assert [p for p in stale if p.exists()] == []
    assert fresh.exists() and locked.exists() and entry.exists()


def _fill(root: Path, kind: str, name: str, size: int, age: float, *, current: bool = True) -> Path:
    """An entry of ``kind``, in the directory the current code reads unless not ``current``."""
    where = {d.parent.name: d for d in cache_admin.current_dirs(root)}
    if kind == "blobs":
        path = root / "blobs" / "sha256" / name
    elif current:
        path = where[kind] / name
    else:
        path = root / kind / "v1-0123456789abcdef" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(size))
    _age(path, age)
    return path


def test_eviction_takes_big_kinds_first_and_least_recently_used_first(tmp_path):
    old_index = _fill(tmp_path, "index", "i1", 4096, 10_000)
    new_blob = _fill(tmp_path, "blobs", "b1", 40_960, 10)
    old_blob = _fill(tmp_path, "blobs", "b2", 40_960, 5000)
    export = _fill(tmp_path, "export", "e1", 8192, 9000)
    cache_admin.evict(tmp_path, 4096 + 40_960 + 8192)
    assert not old_blob.exists()  # least recently used of the biggest kind
    assert new_blob.exists() and export.exists() and old_index.exists()
    cache_admin.evict(tmp_path, 4096 + 8192)
    assert not new_blob.exists() and export.exists() and old_index.exists()
    cache_admin.evict(tmp_path, 4096)
    assert not export.exists() and old_index.exists()  # indexes last
    cache_admin.evict(tmp_path, 0)
    assert not old_index.exists()


def test_eviction_never_removes_an_entry_being_read(tmp_path):
    blob = _fill(tmp_path, "blobs", "b", 40_960, 5000)
    reader = open(blob, "rb")
    cache.lock_shared(reader)
    try:
        cache_admin.evict(tmp_path, 0)
        assert blob.exists()
        assert cache_admin.clear(tmp_path) == 0
        assert blob.exists()
    finally:
        reader.close()
    cache_admin.evict(tmp_path, 0)
    assert not blob.exists()


def test_older_than_drops_unused_entries_of_every_kind(tmp_path):
    old = _fill(tmp_path, "index", "i1", 100, 40 * 86400)
    new = _fill(tmp_path, "index", "i2", 100, 10)
    cache_admin.evict(tmp_path, 1 << 40, older_than=30 * 86400)
    assert not old.exists() and new.exists()


def _fresh_state(monkeypatch):
    monkeypatch.setattr(cache, "_disabled", set())
    monkeypatch.setattr(cache, "_started", set())
    monkeypatch.setattr(cache, "_warned", set())


def test_a_file_where_the_cache_dir_should_be_degrades_with_one_warning(tmp_path, capsys, monkeypatch):
    _fresh_state(monkeypatch)
    root = tmp_path / "file"
    root.write_bytes(b"not a directory")
    store = _store(root)
    store.write("a", {}, [b"x"])
    store.write("b", {}, [b"y"])
    assert store.read("a") is None
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "Not a directory" in err[0] and str(root) in err[0], err


def _mount_tmpfs(path: Path, *options: str) -> None:
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(("size=1m", *options)), "tmpfs",
                           str(path)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")


@pytest.fixture
def small_fs(tmp_path):
    import subprocess

    mounts: list[Path] = []

    def make(name: str, *options: str) -> Path:
        path = tmp_path / name
        _mount_tmpfs(path, *options)
        mounts.append(path)
        return path

    yield make
    for path in mounts:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_read_only_cache_dir_degrades_with_one_warning(small_fs, capsys, monkeypatch):
    _fresh_state(monkeypatch)
    root = small_fs("ro", "ro")
    store = _store(root / "cache")
    store.write("a", {}, [b"x"])
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "Read-only" in err[0], err


def test_a_full_cache_dir_degrades_with_one_warning_and_no_temp_left(small_fs, capsys, monkeypatch):
    _fresh_state(monkeypatch)
    root = small_fs("full")
    store = _store(root)
    store.write("a", {}, [os.urandom(2 << 20)])  # 2 MiB into 1 MiB
    store.write("b", {}, [b"small"])  # nothing more is tried after the first failure
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "No space left" in err[0], err
    assert [p for p in root.rglob("*") if p.is_file() and p.name != cache_admin.STAMP] == []
    assert store.read("a") is None


def test_warning_goes_to_stderr_as_one_line(tmp_path, capsys, monkeypatch):
    _fresh_state(monkeypatch)
    cache.warn(tmp_path, "Read-only file system")
    cache.warn(tmp_path, "Read-only file system")
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err == (f"inspector: warning: cache {tmp_path}: Read-only file system; "
                       "continuing without the cache\n")


def test_entries_of_other_versions_go_first(tmp_path):
    """Entries in directories no current code reads (an older format or code digest) are
    dropped by prune, and first when over the cap, before any current entry."""
    from inspector.index.cache import IndexCache

    current = IndexCache(tmp_path).dir / "sha256-aa.idx"
    current.parent.mkdir(parents=True)
    current.write_bytes(b"x" * 4096)
    _age(current, 90_000)  # older than the stale one: LRU alone would pick it
    stale = _fill(tmp_path, "index", "sha256-aa.idx", 4096, 10, current=False)
    blob = _fill(tmp_path, "blobs", "b", 4096, 10)
    cache_admin.evict(tmp_path, 1 << 40, stale=True)
    assert not stale.exists() and current.exists() and blob.exists()
    stale = _fill(tmp_path, "analysis", "old.bin", 4096, 10, current=False)
    cache_admin.evict(tmp_path, 2 * 4096 + 100)  # over the cap by the stale entry alone
    assert not stale.exists() and current.exists() and blob.exists()


def test_every_single_byte_change_of_an_entry_is_detected():
    data = _entry({"key": "k", "code": "c"}, b"section-one", b"two")
    for i in range(len(data)):
        for flip in (0x01, 0x80, 0xFF):
            damaged = data[:i] + bytes([data[i] ^ flip]) + data[i + 1:]
            assert unframe(MAGIC, damaged) is None, (i, flip)


def test_concurrent_evictions_never_take_an_index_for_a_blob_another_one_freed(tmp_path):
    """Threads committing blobs together each trigger an eviction: a victim already
    removed by one counts as freed for the others, so none of them goes on to indexes."""
    import threading

    blobs = [_fill(tmp_path, "blobs", f"b{i}", 40_960, 1000 + i) for i in range(6)]
    indexes = [_fill(tmp_path, "index", f"sha256-{i:02x}.idx", 4096, 5000) for i in range(3)]
    snapshot = cache_admin.entries(tmp_path)  # all threads start from the same listing
    threads = [threading.Thread(target=cache_admin.evict, args=(tmp_path, 3 * 4096 + 40_960),
                                kwargs={"found": [cache_admin.Entry(**vars(e)) for e in snapshot]})
               for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(p.exists() for p in indexes)
    assert sum(p.exists() for p in blobs) == 1


def test_a_cache_that_fills_mid_stream_costs_the_entry_not_the_caller(small_fs, capsys, monkeypatch):
    for name in ("_disabled", "_started", "_warned"):
        monkeypatch.setattr(cache, name, set())
    root = small_fs("full")
    store = _store(root)
    key = "k"
    produced = 0
    with store.writer(key) as entry:
        for _ in range(32):  # 2 MiB into a 1 MiB file system
            entry.write(os.urandom(65536))
            produced += 1
        entry.header.update({"n": produced})
    assert produced == 32  # the caller's block ran to its end
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "No space left" in err[0], err
    assert [p for p in root.rglob("*") if p.is_file() and p.name != cache_admin.STAMP] == []
    assert store.read(key) is None


#: (name, stamp age in seconds, bytes it recorded, cap it recorded, whether start checks)
STAMPS = [
    ("no stamp", None, 0, cache_admin.DEFAULT_MAX, True),
    ("fresh stamp, same cap, small cache", 10, 1000, cache_admin.DEFAULT_MAX, False),
    ("old stamp", cache_admin.CHECK_INTERVAL + 60, 1000, cache_admin.DEFAULT_MAX, True),
    ("stamp from the future", -3600, 1000, cache_admin.DEFAULT_MAX, True),
    ("another cap", 10, 1000, 1 << 20, True),
    ("cache over half the cap", 10, cache_admin.DEFAULT_MAX // 2 + 1, cache_admin.DEFAULT_MAX, True),
    ("garbled stamp", 10, "x", "y", True),
]


@pytest.mark.parametrize("name,age,total,capped,checks", STAMPS, ids=[s[0] for s in STAMPS])
def test_the_start_up_check_runs_unless_another_process_just_did(tmp_path, name, age, total, capped, checks):
    leftover = tmp_path / "blobs" / "sha256" / ".tmp-leftover"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"x" * 100)
    _age(leftover, cache_admin.STALE_AGE + 60)
    stamp = tmp_path / cache_admin.STAMP
    if age is not None:
        stamp.write_text(f"{total} {capped}\n")
        _age(stamp, age)
    cache_admin.start(tmp_path)
    assert leftover.exists() != checks
    if checks:  # the check leaves a fresh stamp for the next processes
        assert stamp.read_text().split()[1] == str(cache_admin.cap(tmp_path))
        assert time.time() - stamp.stat().st_mtime < 60


def test_prune_and_clear_drop_the_stamp(tmp_path):
    cache_admin.start(tmp_path)
    assert (tmp_path / cache_admin.STAMP).exists()
    cache_admin.evict(tmp_path, 1 << 40, stale=True)
    assert not (tmp_path / cache_admin.STAMP).exists()
    cache_admin.start(tmp_path)
    cache_admin.clear(tmp_path)
    assert not (tmp_path / cache_admin.STAMP).exists()


def test_the_registry_names_the_directory_each_cache_writes(tmp_path):
    """``cache_admin`` keeps what the registry says this code reads: that must be where
    each framed kind's own module writes (a kind module that built its directory itself
    would have its entries pruned as another version's)."""
    from inspector.analysis_cache import AnalysisCache
    from inspector.index.cache import IndexCache
    from inspector.options import Options
    from inspector.report.export_cache import _store
    from inspector.sources.engine_record import records

    engine = records(Options(cache_dir=tmp_path))
    assert engine is not None
    written = {IndexCache(tmp_path).dir, AnalysisCache(tmp_path).store.dir, _store(tmp_path).dir, engine.dir}
    assert written == cache_admin.current_dirs(tmp_path)
    assert sorted(d.parent.name for d in written) == sorted(cache_admin.FRAMED)
