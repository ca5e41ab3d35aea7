"""Cut a mono signal into fixed-length windows, deterministically, while it streams in.

Windows start every `hop` samples from 0; when the last of those stops short of the end, one more
window is aligned to the end so the tail is covered. A clip no longer than one window gives exactly
one window, repeat-padded (the clip tiled until the window is full, as the CLAP paper pads). No
randomness anywhere: the same signal always gives the same windows.
"""

from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np


def window_starts(n_samples: int, window: int, hop: int) -> list[int]:
    """Start samples of the windows covering `n_samples` samples (none for an empty signal)."""
    _check(window, hop)
    if n_samples <= 0:
        return []
    if n_samples <= window:
        return [0]
    starts = list(range(0, n_samples - window + 1, hop))
    if starts[-1] + window < n_samples:
        starts.append(n_samples - window)
    return starts


def repeat_pad(clip: np.ndarray, window: int) -> np.ndarray:
    """`clip` tiled until it is `window` samples long (then cut to exactly `window`)."""
    repeats = -(-window // len(clip))
    return np.tile(clip, repeats)[:window].astype(np.float32, copy=False)


def iter_windows(blocks: Iterable[np.ndarray], window: int, hop: int) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (start_sample, samples) for each window of the concatenated `blocks`.

    The starts are exactly `window_starts(total, window, hop)`; only about one window plus one block
    is held at a time. Each yielded array is a fresh float32 array of exactly `window` samples.
    """
    _check(window, hop)
    buffer = np.zeros(0, dtype=np.float32)
    buffer_start = 0  # sample index of buffer[0]
    next_start = 0
    last_start = None
    for block in blocks:
        buffer = np.concatenate([buffer, np.asarray(block, dtype=np.float32)])
        end = buffer_start + len(buffer)
        while next_start + window <= end:
            offset = next_start - buffer_start
            yield next_start, buffer[offset : offset + window].copy()
            last_start = next_start
            next_start += hop
        # Keep what later windows need: from the next start, and the last `window` samples for the tail.
        keep_from = max(buffer_start, min(next_start, end - window))
        buffer = buffer[keep_from - buffer_start :]
        buffer_start = keep_from
    total = buffer_start + len(buffer)
    if last_start is None:
        if total > 0:
            yield 0, repeat_pad(buffer, window)
    elif last_start + window < total:
        yield total - window, buffer[len(buffer) - window :].copy()


def _check(window: int, hop: int) -> None:
    if window <= 0 or hop <= 0:
        raise ValueError(f"window and hop must be positive sample counts, got window={window}, hop={hop}")


class CountingBlocks:
    """Passes decoded blocks through, counting their samples (`total`, once iterated)."""

    def __init__(self, blocks: Iterable[np.ndarray]):
        self.blocks = blocks
        self.total = 0

    def __iter__(self):
        for block in self.blocks:
            self.total += len(block)
            yield block


def window_chunks(blocks: CountingBlocks, window: int, hop: int, chunk_windows: int,
                  rate: int) -> Iterator[tuple[list[int], list[np.ndarray], float]]:
    """`iter_windows` over `blocks` in chunks of at most `chunk_windows` windows, for streaming a file.

    Yields (starts, windows, seconds): `seconds` is the audio read since the previous chunk, for
    progress. The last chunk is always yielded, short or even empty (when the windows end on a chunk
    boundary), so the seconds read after the last full chunk are never lost.
    """
    starts, windows, reported = [], [], 0
    for start, samples in iter_windows(blocks, window, hop):
        starts.append(start)
        windows.append(samples)
        if len(windows) == chunk_windows:
            yield starts, windows, (blocks.total - reported) / rate
            starts, windows, reported = [], [], blocks.total
    yield starts, windows, (blocks.total - reported) / rate
