"""A waveform overview of a whole file: the loudest sample in each of `bins` equal slices of time.

The file is streamed at its own rate (no resampling), so memory stays a few blocks whatever its
length; the result is what a waveform thumbnail draws, one bar per bin, each in [0, 1].
"""

from __future__ import annotations

import numpy as np

from .decode import probe, read_blocks


def waveform_peaks(path, bins: int = 200) -> list[float]:
    """`bins` peak levels (max |sample| of the mono mix per slice of time), each rounded to 3 places."""
    info = probe(path)
    total = max(1, info.frames)
    peaks = np.zeros(bins, dtype=np.float32)
    position = 0
    for block in read_blocks(path, info.sample_rate):
        # Which bin each sample falls in; blocks past the header's frame count land in the last bin.
        which = np.minimum((np.arange(position, position + len(block)) * bins) // total, bins - 1)
        if len(block):
            starts = np.concatenate([[0], np.flatnonzero(np.diff(which)) + 1])  # bin indices only grow
            slot = which[starts]
            peaks[slot] = np.maximum(peaks[slot], np.maximum.reduceat(np.abs(block), starts))
        position += len(block)
    return [round(float(p), 3) for p in np.clip(peaks, 0.0, 1.0)]
