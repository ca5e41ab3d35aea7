"""kill -9 at any point leaves a consistent index that opens, searches and resumes.

Each test runs a real writer in another process (tests/store_child.py) and SIGKILLs it, or
lets it SIGKILL itself at an exact point inside the FAISS write.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest

from clapsearch.store import Store
from tests.store_helpers import add_file, bind, unit

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_child(*args, index_kind="auto"):
    env = dict(os.environ, PYTHONPATH=REPO, STORE_CHILD_INDEX_KIND=index_kind)
    return subprocess.Popen([sys.executable, "-m", "tests.store_child", *map(str, args)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_line(child, prefix):
    for line in child.stdout:
        if line.startswith(prefix):
            return line
    raise AssertionError(f"child ended without printing {prefix!r}: {child.stderr.read()}")


def assert_consistent(db_path, rng, segments_per_file=4):
    """The reopened index agrees with SQLite exactly, searches like brute force, and resumes."""
    rows = sqlite3.connect(db_path).execute("SELECT id, vector, file_id FROM segments ORDER BY id").fetchall()
    per_file = np.bincount([r[2] for r in rows])
    assert set(per_file[per_file > 0]) <= {segments_per_file}  # no half-written file
    store = Store(db_path)
    query = unit(rng, 1)[0]
    hits = store.search(query, k=5, dedupe=False)
    assert store._vindex.live_count == len(rows)
    assert np.array_equal(np.setdiff1d(store._vindex.ids(), store._vindex.dead), [r[0] for r in rows])
    matrix = np.stack([np.frombuffer(r[1], dtype="<f4") for r in rows])
    expected = [rows[i][0] for i in np.argsort(-(matrix @ query), kind="stable")[:5]]
    assert [h.segment_id for h in hits] == expected
    with store.writer():  # resume: more writes on top, then a clean flush
        add_file(store, rng, "/resumed.wav", segments=segments_per_file)
    store.close()
    reader = Store(db_path, readonly=True)
    assert reader.search(query, k=1000, dedupe=False)[0].segment_id is not None
    assert reader.get_file("/resumed.wav") is not None
    assert reader._vindex.generation == reader._vindex.saved_generation  # the file was trusted as is
    reader.close()


@pytest.mark.slow
@pytest.mark.parametrize("index_kind", ["flat", "hnsw"])
def test_kill_at_random_moments_while_writing(tmp_path, index_kind):
    rng = np.random.default_rng(7)
    db_path = tmp_path / "index.db"
    for round_number in range(4):
        child = start_child("batches", db_path, index_kind=index_kind)
        wait_for_line(child, "committed")
        time.sleep(float(rng.uniform(0.0, 0.4)))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        child.stderr.close()
        assert_consistent(db_path, rng)


def test_kill_inside_a_batch_loses_only_that_batch(tmp_path):
    rng = np.random.default_rng(8)
    db_path = tmp_path / "index.db"
    child = start_child("in_batch", db_path)
    wait_for_line(child, "inside")
    child.send_signal(signal.SIGKILL)
    child.wait()
    store = Store(db_path, readonly=True)
    assert [r.path for r in store.iter_files()] == ["/before.wav"]
    store.close()
    assert_consistent(db_path, rng)


@pytest.mark.parametrize("mode", ["mid_faiss_write", "between_renames"])
def test_kill_while_writing_the_faiss_file(tmp_path, mode):
    rng = np.random.default_rng(9)
    db_path = tmp_path / "index.db"
    child = start_child(mode, db_path)
    _, err = child.communicate(timeout=120)
    assert child.returncode == -signal.SIGKILL, err
    if mode == "mid_faiss_write":
        assert any(".faiss.tmp." in name for name in os.listdir(tmp_path))  # the torn temp file
    store = Store(db_path, readonly=True)
    assert sorted(r.path for r in store.iter_files()) == ["/second.wav"] if mode == "between_renames" \
        else sorted(r.path for r in store.iter_files()) == ["/first.wav", "/second.wav"]
    store.close()
    assert_consistent(db_path, rng)
    assert not any(".tmp." in name for name in os.listdir(tmp_path))  # the next writer cleaned up


def test_damaged_faiss_file_is_rebuilt_from_sqlite(tmp_path):
    rng = np.random.default_rng(10)
    db_path = tmp_path / "index.db"
    store = Store(db_path)
    bind(store)
    with store.writer():
        for number in range(5):
            add_file(store, rng, f"/d/{number}.wav")
    store.close()
    with open(str(db_path) + ".faiss", "r+b") as handle:
        handle.truncate(100)
    assert_consistent(db_path, rng)


@pytest.mark.slow
def test_readers_see_consistent_results_while_a_writer_works(tmp_path):
    rng = np.random.default_rng(11)
    db_path = tmp_path / "index.db"
    child = start_child("batches", db_path)
    try:
        wait_for_line(child, "committed")
        deadline, searches = time.monotonic() + 3.0, 0
        while time.monotonic() < deadline:
            reader = Store(db_path, readonly=True)
            files = {r.path: r for r in reader.iter_files()}
            hits = reader.search(unit(rng, 1)[0], k=6)
            # Never fewer hits than committed files allow; each a committed file, no file twice.
            assert len(hits) >= min(6, len(files))
            assert all(reader.get_file(h.path).status == "indexed" for h in hits)
            assert len({h.file_id for h in hits}) == len(hits)
            reader.close()
            searches += 1
        assert searches > 3
    finally:
        child.kill()
        child.wait()
