"""The writer lock: a second writer refuses or waits; readers never block; a killed holder frees it."""

import signal
import time

import numpy as np
import pytest

from clapsearch.errors import IndexLockedError
from clapsearch.store import Store
from tests.store_helpers import add_file, bind, unit
from tests.test_store_crash import start_child, wait_for_line


@pytest.fixture
def indexed(tmp_path):
    rng = np.random.default_rng(3)
    db_path = tmp_path / "index.db"
    store = Store(db_path)
    bind(store)
    add_file(store, rng, "/one.wav")
    store.close()
    return db_path


def test_second_writer_refuses_naming_lock_and_pid(indexed):
    child = start_child("hold_lock", indexed, 30)
    try:
        wait_for_line(child, "locked")
        store = Store(indexed)
        started = time.monotonic()
        with pytest.raises(IndexLockedError) as caught:
            with store.writer(wait_seconds=0.5):
                pass
        assert time.monotonic() - started >= 0.5
        message = str(caught.value)
        assert f"pid {child.pid}" in message and f"{indexed}.lock" in message
        with pytest.raises(IndexLockedError):
            add_file(store, np.random.default_rng(0), "/two.wav")  # a one-off write also needs the lock
        # Readers never wait for the writer.
        reader = Store(indexed, readonly=True)
        assert reader.search(unit(np.random.default_rng(1), 1)[0], k=1)[0].path == "/one.wav"
        reader.close()
        store.close()
    finally:
        child.kill()
        child.wait()


def test_second_writer_waits_for_the_first(indexed):
    child = start_child("hold_lock", indexed, 1.0)
    wait_for_line(child, "locked")
    store = Store(indexed)
    started = time.monotonic()
    with store.writer(wait_seconds=60):
        assert time.monotonic() - started >= 0.5  # got the lock only once the holder let go
        add_file(store, np.random.default_rng(2), "/two.wav")
    store.close()
    child.wait()
    assert Store(indexed, readonly=True).get_file("/two.wav") is not None


def test_killed_holder_frees_the_lock(indexed):
    child = start_child("hold_lock", indexed, 60)
    wait_for_line(child, "locked")
    child.send_signal(signal.SIGKILL)
    child.wait()
    store = Store(indexed)
    with store.writer(wait_seconds=0):
        add_file(store, np.random.default_rng(4), "/after.wav")
    store.close()


def test_two_stores_in_one_process_also_exclude_each_other(indexed):
    first, second = Store(indexed), Store(indexed)
    with first.writer():
        with pytest.raises(IndexLockedError):
            with second.writer():
                pass
    with second.writer():
        pass
    first.close()
    second.close()
