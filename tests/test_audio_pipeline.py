"""clapsearch.audio.pipeline.embed_files with the tiny test model (16 kHz, 1 s windows)."""

import threading

import numpy as np
import pytest
import soundfile
import torch

from clapsearch.audio import pipeline
from clapsearch.audio.decode import read_blocks
from clapsearch.audio.pipeline import FileEmbedding, FileFailure, Progress, embed_files
from clapsearch.audio.windows import iter_windows
from tests.audio_gen import chirp, noise, tone, write_audio


@pytest.fixture
def library(tmp_path):
    """Mixed formats, rates, channel counts and lengths, a short clip and three bad files."""
    good = [
        write_audio(tmp_path / "noise.flac", noise(4.3, 22050, channels=2, seed=1), 22050),
        write_audio(tmp_path / "chirp.wav", chirp(100, 6000, 6.0, 44100), 44100),
        write_audio(tmp_path / "tone.ogg", tone(440, 2.5, 32000, channels=3), 32000),
        write_audio(tmp_path / "sweep.mp3", chirp(300, 900, 3.0, 44100, channels=2), 44100),
        write_audio(tmp_path / "blip.wav", tone(900, 0.3, 8000), 8000),
        write_audio(tmp_path / "hiss.aiff", noise(1.7, 48000, seed=2), 48000),
    ]
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "notes.wav").write_text("not audio\n" * 50)
    bad = [tmp_path / "empty.wav", tmp_path / "notes.wav", tmp_path / "missing.flac"]
    return [str(p) for p in good], [str(p) for p in bad]


def run(model, paths, **kwargs) -> dict:
    results = {}
    for result in embed_files(model, paths, **kwargs):
        assert result.path not in results
        results[result.path] = result
    return results


def no_decoder_threads() -> bool:
    return not [t for t in threading.enumerate() if t.name.startswith("clapsearch-decode")]


def test_every_file_gives_one_result_and_bad_files_fail_plainly(tiny_model, library):
    good, bad = library
    results = run(tiny_model, good + bad, batch_size=8)
    assert set(results) == set(good + bad)
    for path in bad:
        assert isinstance(results[path], FileFailure)
        assert results[path].error and "\n" not in results[path].error
    assert results[bad[0]].error == "the file is empty"
    assert results[bad[1]].error.startswith("not an audio file soundfile can read")
    for path in good:
        result = results[path]
        assert isinstance(result, FileEmbedding)
        n = len(result.starts)
        assert result.vectors.shape == (n, tiny_model.dim) and result.vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(result.vectors, axis=1), 1, atol=1e-5)
        assert result.pooled.shape == (tiny_model.dim,) and result.pooled.dtype == np.float32
        expected_pooled = result.vectors.mean(axis=0) / np.linalg.norm(result.vectors.mean(axis=0))
        np.testing.assert_allclose(result.pooled, expected_pooled, atol=1e-6)
        assert result.ends[-1] == pytest.approx(result.info.duration, abs=0.06)
    assert torch.is_grad_enabled()


def test_segment_times_and_vectors_match_a_direct_computation(tiny_model, library):
    path = library[0][0]  # 4.3 s at 22.05 kHz
    [result] = run(tiny_model, [path], batch_size=4).values()
    windows = list(iter_windows(read_blocks(path, 16000), 16000, 8000))
    np.testing.assert_allclose(result.starts, [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.3], atol=1e-9)
    np.testing.assert_allclose(result.ends, result.starts + 1.0, atol=1e-9)
    direct = tiny_model.embed_audio(torch.from_numpy(np.stack([w for _, w in windows]))).numpy()
    np.testing.assert_allclose(result.vectors, direct, atol=1e-5)


def test_short_clip_is_one_padded_window_ending_at_its_duration(tiny_model, library):
    blip = next(p for p in library[0] if p.endswith("blip.wav"))
    [result] = run(tiny_model, [blip]).values()
    assert result.starts.tolist() == [0.0] and result.ends.tolist() == [pytest.approx(0.3)]
    clip = np.concatenate(list(read_blocks(blip, 16000)))
    padded = np.tile(clip, 4)[:16000]
    direct = tiny_model.embed_audio(torch.from_numpy(padded[None])).numpy()
    np.testing.assert_allclose(result.vectors, direct, atol=1e-5)


def test_hop_is_configurable(tiny_model, library):
    path = library[0][1]  # 6 s
    [result] = run(tiny_model, [path], hop_seconds=1.0).values()
    assert result.starts.tolist() == [0, 1, 2, 3, 4, 5]
    [overlapping] = run(tiny_model, [path], hop_seconds=0.25).values()
    assert len(overlapping.starts) == 21


def test_results_do_not_depend_on_workers_or_batch_size(tiny_model, library):
    good, bad = library
    reference = run(tiny_model, good + bad, workers=1, batch_size=8)
    for workers in (2, 3):
        again = run(tiny_model, good + bad, workers=workers, batch_size=8)
        for path in good:  # same batch size: bit-identical, whatever shares a batch
            np.testing.assert_array_equal(again[path].vectors, reference[path].vectors)
            np.testing.assert_array_equal(again[path].pooled, reference[path].pooled)
            np.testing.assert_array_equal(again[path].starts, reference[path].starts)
    for batch_size in (1, 5, 32):
        other = run(tiny_model, good, workers=2, batch_size=batch_size)
        for path in good:  # another batch shape may round the model's last float bit differently
            np.testing.assert_allclose(other[path].vectors, reference[path].vectors, atol=1e-5)


def test_progress_reports_audio_and_every_finished_file(tiny_model, library):
    good, bad = library
    events: list[Progress] = []
    run(tiny_model, good + bad, progress=events.append)
    finished = [e.finished for e in events if e.finished]
    assert sorted(finished) == sorted(good + bad)
    assert {e.finished for e in events if e.failed} == set(bad)
    total = sum(soundfile.info(p).duration for p in good)
    assert sum(e.audio_seconds for e in events) == pytest.approx(total, abs=0.1)


def test_a_file_failing_partway_keeps_what_was_read_with_a_warning(tiny_model, tmp_path, monkeypatch):
    from clapsearch.audio import decode

    monkeypatch.setattr(decode, "READ_SAMPLES", 4096)  # so the decoder fails after a 30 s block
    monkeypatch.setattr(pipeline, "CHUNK_SAMPLES", 4 * 16000)  # whose windows are sent 4 at a time
    whole = write_audio(tmp_path / "whole.flac", noise(90.0, 8000), 8000).read_bytes()
    (tmp_path / "cut.flac").write_bytes(whole[: len(whole) * 2 // 3])
    good = write_audio(tmp_path / "good.wav", tone(440, 3.0, 16000), 16000)
    paths = [str(tmp_path / "cut.flac"), str(good)]
    results = run(tiny_model, paths, batch_size=64, workers=1)
    cut = results[paths[0]]
    assert isinstance(cut, FileEmbedding)
    [warning] = cut.warnings
    assert warning.startswith("decoding stopped at ") and "only the audio before" in warning
    stopped_at = float(warning.split()[3])
    assert 30 <= stopped_at < 90 and cut.ends[-1] == pytest.approx(stopped_at, abs=1e-3)
    assert len(results[paths[1]].starts) == 5 and results[paths[1]].warnings == ()


def test_a_file_failing_at_its_end_drops_its_windows_and_the_run_goes_on(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "CHUNK_SAMPLES", 4 * 16000)  # windows are sent 4 at a time
    samples = np.full(16000 * 40, np.nan, dtype=np.float32)  # fails only once all of it is read
    write_audio(tmp_path / "nan.wav", samples, 16000, subtype="FLOAT")
    good = write_audio(tmp_path / "good.wav", tone(440, 3.0, 16000), 16000)
    paths = [str(tmp_path / "nan.wav"), str(good)]
    events = []
    results = run(tiny_model, paths, batch_size=64, workers=1, progress=events.append)
    assert "not numbers" in results[paths[0]].error
    failed_at = next(i for i, e in enumerate(events) if e.failed)
    assert sum(e.audio_seconds for e in events[:failed_at]) >= 30  # windows were sent, then dropped
    assert len(results[paths[1]].starts) == 5


def test_no_paths_no_results(tiny_model):
    assert run(tiny_model, []) == {}
    assert no_decoder_threads()


def test_bytes_paths_are_reported_as_text(tiny_model, tmp_path):
    import os

    name = os.fsencode(tmp_path) + b"/caf\xe9 bark.wav"
    write_audio(name, tone(440, 1.0, 16000), 16000)
    [result] = run(tiny_model, [name]).values()
    assert isinstance(result, FileEmbedding) and result.path == os.fsdecode(name)


def test_stopping_early_leaves_no_threads(tiny_model, library):
    good, _ = library
    results = embed_files(tiny_model, good * 5, workers=3, batch_size=2)
    first = next(results)
    assert first.path in good
    results.close()
    assert no_decoder_threads()


def test_keyboard_interrupt_stops_the_workers(tiny_model, library):
    good, _ = library

    def interrupt(event):
        if event.finished:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(tiny_model, good * 5, workers=2, progress=interrupt)
    assert no_decoder_threads()


class BrokenModel:
    """The tiny model's shape, but embed_audio fails the way a real backend error would."""

    def __init__(self, model):
        self.sample_rate, self.window_seconds, self.dim = model.sample_rate, model.window_seconds, model.dim

    def embed_audio(self, waves):
        raise RuntimeError("CUDA out of memory")


def test_model_errors_propagate(tiny_model, library):
    with pytest.raises(RuntimeError, match="out of memory"):
        run(BrokenModel(tiny_model), library[0])
    assert no_decoder_threads()


def test_errors_from_the_path_iterator_propagate(tiny_model, library):
    def paths():
        yield library[0][0]
        raise OSError("cannot list the folder")

    with pytest.raises(OSError, match="cannot list"):
        run(tiny_model, paths())
    assert no_decoder_threads()


def test_invalid_settings(tiny_model, library):
    with pytest.raises(ValueError):
        run(tiny_model, library[0], workers=0)
    with pytest.raises(ValueError):
        run(tiny_model, library[0], batch_size=0)


@pytest.mark.slow
def test_a_long_file_streams_through_a_bounded_queue(tiny_model, tmp_path, monkeypatch):
    """Five minutes, sent in chunks of 2 windows: the queue never holds more than 2 * workers chunks."""
    path = tmp_path / "five-minutes.flac"
    with soundfile.SoundFile(path, "w", 8000, 1, "PCM_16", format="FLAC") as f:
        for minute in range(5):
            f.write(noise(60.0, 8000, seed=minute))
    monkeypatch.setattr(pipeline, "CHUNK_SAMPLES", 2 * 16000)
    seen = []
    original_get = pipeline._Decoders.get

    def watching_get(self):
        message = original_get(self)
        seen.append((self.peak_queue, len(getattr(message, "starts", ()))))
        return message

    monkeypatch.setattr(pipeline._Decoders, "get", watching_get)
    [result] = run(tiny_model, [str(path)], hop_seconds=3.0, batch_size=8, workers=2).values()
    assert len(result.starts) == 101  # every 3 s, plus the tail window ending at 300 s
    assert max(peak for peak, _ in seen) <= 4
    assert max(size for _, size in seen) == 2
    assert len(seen) >= 50  # the file arrived in many small messages, not at once
