"""clapsearch.threads: thread counts from the allowed cores less the busy ones."""

import os

import pytest
import torch

from clapsearch import threads


@pytest.fixture
def machine(monkeypatch):
    """Set the allowed cores and the load average the module sees."""
    monkeypatch.delenv("CLAPSEARCH_THREADS", raising=False)

    def set_machine(cores: int, load: float):
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)))
        monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
        monkeypatch.setattr(threads, "runnable_now", lambda: 99)  # the average alone decides here

    return set_machine


@pytest.mark.parametrize("cores, load, free, workers", [
    (2, 0.2, 2, 1),   # a quiet two-core machine: both cores compute, one thread decodes
    (2, 1.1, 1, 1),   # another process keeps a core busy
    (2, 9.0, 1, 1),   # never fewer than one
    (8, 0.0, 8, 4),
    (8, 5.6, 2, 1),
    (16, 0.0, 16, 4),  # decoding past 4 threads outruns any CPU model
])
def test_free_cores_and_decode_workers(machine, cores, load, free, workers):
    machine(cores, load)
    assert threads.free_cores() == free
    assert threads.decode_workers() == workers


def test_the_environment_sets_the_count(machine, monkeypatch):
    machine(2, 0.0)
    monkeypatch.setenv("CLAPSEARCH_THREADS", "3")
    assert threads.free_cores() == 3
    monkeypatch.setenv("CLAPSEARCH_THREADS", "zero")
    assert threads.free_cores() == 2


def test_onnx_sessions_take_the_same_count(machine):
    from clapsearch.models.runtime.session import threads_from_env

    machine(4, 1.0)
    assert threads_from_env() == 3


def test_torch_threads_are_restored(machine):
    before = torch.get_num_threads()
    with threads.torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_an_explicit_workers_count_wins(machine, monkeypatch, tiny_model, tmp_path):
    from clapsearch.api import Library
    from clapsearch.audio import pipeline
    from tests.audio_gen import tone, write_audio

    machine(2, 0.0)
    (tmp_path / "lib").mkdir()
    write_audio(tmp_path / "lib" / "a.wav", tone(440, 1.5, 16000), 16000)
    seen, original = [], pipeline._Decoders.__init__

    def spy(self, *args):
        seen.append(args[-1])  # the workers count
        original(self, *args)

    monkeypatch.setattr(pipeline._Decoders, "__init__", spy)
    Library(db=tmp_path / "a.db", model=tiny_model).index([tmp_path / "lib"])
    Library(db=tmp_path / "b.db", model=tiny_model).index([tmp_path / "lib"], workers=3)
    assert seen == [1, 3]


def test_a_lingering_average_does_not_take_cores(machine, monkeypatch):
    machine(2, 1.4)  # the average still counts work that has ended
    monkeypatch.setattr(threads, "runnable_now", lambda: 0)
    assert threads.free_cores() == 2
    monkeypatch.setattr(threads, "runnable_now", lambda: 1)  # another task runs now
    assert threads.free_cores() == 1


def test_our_own_busy_threads_are_not_counted_as_other_work():
    import sys
    import threading

    import numpy as np

    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc")
    stop = threading.Event()
    matrix = np.random.default_rng(0).random((300, 300))

    def spin():
        while not stop.is_set():
            matrix @ matrix  # BLAS releases the GIL: this thread runs beside the main one

    spinner = threading.Thread(target=spin, daemon=True)
    spinner.start()
    try:
        seen = []
        for _ in range(200):
            own = threads.own_running_threads()
            with open("/proc/loadavg") as f:
                total = int(f.read().split()[3].split("/")[0])
            seen.append((own, total))
        assert max(own for own, _ in seen) >= 2, seen[:10]  # the spinner is seen as ours
    finally:
        stop.set()
        spinner.join()
