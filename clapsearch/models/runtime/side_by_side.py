"""Runs of one ONNX Runtime session side by side on a few threads, joined into unit vectors.

A one-thread session run from several threads at once (ONNX Runtime allows it) beat one session
with several intra-op threads on 2 cores: no operator waits at a thread barrier, and a decode
thread taking a core for a moment holds up one run, not all of them. Shared by the default
model's tower (runs of 4 windows, front end included) and hf: models' (runs of one window).
"""

from __future__ import annotations

import numpy as np


class SideBySide:
    """`run(part)` over `parts` on up to `threads` threads, in order; the pool lives as long as this.

    `initializer` runs once in each pool thread (the default tower gives each one torch thread).
    """

    def __init__(self, threads: int, initializer=None):
        self.threads, self.initializer = max(1, threads), initializer
        self._pool = None

    def map(self, run, parts: list) -> list:
        if len(parts) < 2 or self.threads < 2:
            return [run(part) for part in parts]
        if self._pool is None:  # started on first use: a pool per call cost a thread start a run
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="clapsearch-onnx",
                                            initializer=self.initializer)
        return list(self._pool.map(run, parts))


def unit_rows(runs: list[np.ndarray], dim: int) -> np.ndarray:
    """The runs' (n, dim) outputs as one float32 array with unit rows, (0, dim) when there are none.

    Normalised again in float32: an int8 graph ends in a dequantised, not exactly unit, vector.
    """
    if not runs:
        return np.zeros((0, dim), dtype=np.float32)
    vectors = np.concatenate(runs)
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
