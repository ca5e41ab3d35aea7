"""clapsearch.audio.windows: deterministic coverage, tail alignment, repeat-padding, streaming."""

import numpy as np
import pytest

from clapsearch.audio.windows import CountingBlocks, iter_windows, repeat_pad, window_chunks, window_starts


def test_window_starts_examples():
    assert window_starts(0, 10, 5) == []
    assert window_starts(3, 10, 5) == [0]
    assert window_starts(10, 10, 5) == [0]
    assert window_starts(11, 10, 5) == [0, 1]
    assert window_starts(20, 10, 5) == [0, 5, 10]
    assert window_starts(23, 10, 5) == [0, 5, 10, 13]
    assert window_starts(30, 10, 10) == [0, 10, 20]
    assert window_starts(35, 10, 20) == [0, 20, 25]  # hop > window leaves gaps but covers the tail


@pytest.mark.parametrize("window,hop", [(0, 5), (10, 0), (-1, 1)])
def test_window_and_hop_must_be_positive(window, hop):
    with pytest.raises(ValueError):
        window_starts(100, window, hop)
    with pytest.raises(ValueError):
        list(iter_windows([np.zeros(100, np.float32)], window, hop))


def test_windows_cover_every_sample_and_end_at_the_end():
    rng = np.random.default_rng(0)
    for _ in range(300):
        window = int(rng.integers(1, 50))
        hop = int(rng.integers(1, window + 1))
        n = int(rng.integers(window, 500))
        starts = window_starts(n, window, hop)
        assert starts == sorted(set(starts)) and starts[0] == 0
        covered = np.zeros(n, bool)
        for start in starts:
            covered[start : start + window] = True
        assert covered.all()
        assert starts[-1] + window == n  # the last window always ends at the last sample


def split_randomly(signal: np.ndarray, rng) -> list[np.ndarray]:
    cuts = np.sort(rng.integers(0, len(signal) + 1, int(rng.integers(0, 12))))
    return np.split(signal, cuts)  # includes empty blocks, which must be harmless


def test_streaming_matches_slicing_for_any_block_split():
    rng = np.random.default_rng(1)
    for _ in range(300):
        window = int(rng.integers(1, 40))
        hop = int(rng.integers(1, 2 * window + 1))
        signal = rng.standard_normal(int(rng.integers(1, 400))).astype(np.float32)
        got = list(iter_windows(split_randomly(signal, rng), window, hop))
        starts = window_starts(len(signal), window, hop)
        assert [start for start, _ in got] == starts
        for start, samples in got:
            assert samples.dtype == np.float32 and samples.shape == (window,)
            if len(signal) >= window:
                np.testing.assert_array_equal(samples, signal[start : start + window])


def test_short_clip_gives_one_repeat_padded_window():
    clip = np.array([1, 2, 3], np.float32)
    [(start, samples)] = list(iter_windows([clip[:1], clip[1:]], 8, 4))
    assert start == 0
    np.testing.assert_array_equal(samples, [1, 2, 3, 1, 2, 3, 1, 2])
    np.testing.assert_array_equal(repeat_pad(np.array([5.0], np.float32), 3), [5, 5, 5])
    [(_, exact)] = list(iter_windows([np.arange(8, dtype=np.float32)], 8, 4))
    np.testing.assert_array_equal(exact, np.arange(8))


def test_no_samples_no_windows():
    assert list(iter_windows([], 8, 4)) == []
    assert list(iter_windows([np.zeros(0, np.float32)], 8, 4)) == []


def test_windows_are_independent_copies():
    signal = np.arange(100, dtype=np.float32)
    windows = list(iter_windows([signal], 10, 5))
    windows[0][1][:] = -1
    assert windows[1][1][0] == 5  # overlapping windows do not share memory
    assert signal[0] == 0


def test_streaming_holds_about_one_window_and_one_block():
    """The generator keeps at most one window plus one block, whatever the signal length."""
    window, hop, block = 1000, 500, 300
    stream = iter_windows((np.full(block, i, np.float32) for i in range(10_000)), window, hop)
    count = 0
    for count, _ in enumerate(stream, start=1):
        buffer = stream.gi_frame.f_locals["buffer"]
        assert len(buffer) <= window + block
    assert count == len(window_starts(10_000 * block, window, hop))


@pytest.mark.parametrize("n_samples, sizes", [(100, [2, 2, 1]), (80, [2, 2, 0])])
def test_window_chunks_always_end_with_the_last_chunk_and_lose_no_seconds(n_samples, sizes):
    # window 20, hop 20: 100 samples are 5 windows (chunks 2, 2, 1); 80 are 4 windows ending on a
    # chunk boundary, so an empty last chunk closes the file.
    signal = np.arange(n_samples, dtype=np.float32)
    blocks = CountingBlocks([signal[:33], signal[33:]])
    chunks = list(window_chunks(blocks, window=20, hop=20, chunk_windows=2, rate=10))
    assert [len(windows) for _, windows, _ in chunks] == sizes
    assert sum(seconds for _, _, seconds in chunks) == pytest.approx(len(signal) / 10)
    assert blocks.total == len(signal)
    starts = [start for chunk_starts, _, _ in chunks for start in chunk_starts]
    assert starts == [start for start, _ in iter_windows([signal], 20, 20)]
