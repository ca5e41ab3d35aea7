"""Model calls in the indexing pipeline: fixed rows per call, padding only where determinism needs it."""

import threading
import time

import numpy as np
import pytest
import torch

from clapsearch.audio.pipeline import FileEmbedding, embed_files
from tests.audio_gen import chirp, noise, tone, write_audio


class Recorder:
    """The tiny model with a chosen `call_rows`, recording each call's rows and torch thread count."""

    def __init__(self, model, call_rows=None):
        self.inner, self.call_rows = model, call_rows
        self.calls: list[tuple[int, int, str]] = []
        self.lock = threading.Lock()
        for key in ("name", "dim", "fingerprint", "sample_rate", "window_seconds"):
            setattr(self, key, getattr(model, key))

    def embed_audio(self, waves):
        with self.lock:
            self.calls.append((len(waves), torch.get_num_threads(), threading.current_thread().name))
        return self.inner.embed_audio(waves)


@pytest.fixture
def clips(tmp_path):
    return [str(p) for p in (
        write_audio(tmp_path / "a.wav", chirp(100, 6000, 6.0, 16000), 16000),
        write_audio(tmp_path / "b.flac", noise(4.3, 22050, seed=1), 22050),
        write_audio(tmp_path / "c.ogg", tone(440, 2.5, 32000), 32000),
        write_audio(tmp_path / "d.wav", tone(900, 0.3, 8000), 8000),
    )]


def embed(model, paths, **kwargs) -> dict[str, FileEmbedding]:
    return {r.path: r for r in embed_files(model, paths, **kwargs)}


def windows_of(results) -> int:
    return sum(len(r.starts) for r in results.values())


def test_a_model_of_one_row_calls_pads_nothing_and_runs_calls_side_by_side(tiny_model, clips):
    model = Recorder(tiny_model, call_rows=1)
    results = embed(model, clips, batch_size=8, threads=2, workers=1)
    assert sum(rows for rows, _, _ in model.calls) == windows_of(results)  # no silent rows
    assert {rows for rows, _, _ in model.calls} == {1}
    assert {threads for _, threads, _ in model.calls} == {1}  # one torch thread per call, two calls at once
    assert {name.startswith("clapsearch-model") for _, _, name in model.calls} == {True}
    assert not [t for t in threading.enumerate() if t.name.startswith("clapsearch-model")]


def test_one_row_calls_give_each_file_the_same_bits_whatever_shares_its_batches(tiny_model, clips):
    model = Recorder(tiny_model, call_rows=1)
    together = embed(model, clips, batch_size=8, threads=2, workers=2)
    for path in clips:
        for settings in (dict(batch_size=3, threads=1, workers=1), dict(batch_size=32, threads=2, workers=3)):
            alone = embed(model, [path], **settings)[path]
            np.testing.assert_array_equal(alone.vectors, together[path].vectors)
            np.testing.assert_array_equal(alone.pooled, together[path].pooled)


def test_other_models_get_whole_batches_and_only_the_last_call_is_padded(tiny_model, clips):
    model = Recorder(tiny_model)
    results = embed(model, clips, batch_size=8, threads=1, workers=1)
    assert {rows for rows, _, _ in model.calls} == {8}
    assert 0 <= 8 * len(model.calls) - windows_of(results) < 8
    # one call at a time, all from the one model thread (the caller's thread goes on decoding)
    assert {name for _, _, name in model.calls} == {"clapsearch-batch_0"}


def test_calls_of_a_few_rows_pad_the_last_call_to_that_many(tiny_model, clips):
    model = Recorder(tiny_model, call_rows=3)
    results = embed(model, clips, batch_size=8, threads=2, workers=1)
    assert {rows for rows, _, _ in model.calls} == {3}
    assert 0 <= 3 * len(model.calls) - windows_of(results) < 3


def test_threads_must_be_positive(tiny_model, clips):
    with pytest.raises(ValueError, match="at least 1"):
        embed(tiny_model, clips, threads=0)


class SlowFirstCall(Recorder):
    """The first call takes 0.3 s; every call records when it ended."""

    def __init__(self, model, call_rows):
        super().__init__(model, call_rows)
        self.first_ended, self.ended = None, []

    def embed_audio(self, waves):
        with self.lock:
            first = not self.calls
            self.calls.append((len(waves), torch.get_num_threads(), threading.current_thread().name))
        if first:
            time.sleep(0.3)
        vectors = self.inner.embed_audio(waves)
        with self.lock:
            now = time.monotonic()
            self.ended.append(now)
            if first:
                self.first_ended = now
        return vectors


def test_a_free_model_thread_takes_the_next_batchs_call_instead_of_waiting_for_the_other(tiny_model, clips):
    # Batches are one round of calls (2 threads x 1 row). With one batch at a time, the thread that
    # ends its call first idles until the slow one ends; with two in flight it runs the next batch's.
    model = SlowFirstCall(tiny_model, call_rows=1)
    embed(model, clips, batch_size=8, threads=2, workers=1)
    during_the_slow_call = [t for t in model.ended if t < model.first_ended]
    assert len(during_the_slow_call) >= 2, len(during_the_slow_call)
