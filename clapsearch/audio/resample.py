"""Band-limited resampling (torchaudio's sinc kernel) that streams in blocks without seams.

torchaudio resamples with a polyphase filter: for rates reduced by their gcd to `o` -> `n`, every
`o` input samples give exactly `n` output samples, and each output depends only on the input within
`width` samples of it. So a long signal can be cut at multiples of `o`, each piece resampled with
`context` (>= width, a multiple of `o`) extra input on either side, and the outputs that the context
protects kept: the joined result equals resampling the whole signal at once (up to float rounding),
with no clicks or edge effects at the joins, and memory stays at one block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

import numpy as np

# A polyphase kernel has n * (2 * width + o) taps. Coprime rates such as 44101 -> 16000 would need
# hundreds of MB; past this many taps the source rate is rounded to the nearest 100 Hz instead,
# which shifts pitch and timing by less than 0.7 % even at 8 kHz (0.002 % at 44.1 kHz).
MAX_KERNEL_TAPS = 1 << 22
# torch runs a polyphase kernel as conv1d; for small kernels (2x up, 2x-4x down: a few output
# phases of a few dozen taps) that is a memory-bound im2col at 150-300x real time on one core,
# while summing shifted slices in numpy runs at 500-1700x (measured, 30 s blocks). Past this many
# phase x tap products the conv1d's matrix product wins (16 kHz -> 44.1 kHz: 441 x 174).
SLICE_SUM_MAX_TAPS = 64


@dataclass(frozen=True)
class ResamplePlan:
    """How one source rate maps onto a target rate."""

    source_rate: int  # the rate the kernel is built for (the file's, unless rounded, see above)
    target_rate: int
    step_in: int  # o: input samples per polyphase step
    step_out: int  # n: output samples per polyphase step
    context: int  # input samples of context each side of a block, a multiple of step_in

    @property
    def identity(self) -> bool:
        return self.source_rate == self.target_rate

    def aligned(self, samples: float) -> int:
        """`samples` rounded up to a whole number of polyphase steps (at least one)."""
        return max(1, math.ceil(samples / self.step_in)) * self.step_in


def _kernel_taps(source: int, target: int) -> int:
    g = math.gcd(source, target)
    o, n = source // g, target // g
    width = math.ceil(6 * o / (min(o, n) * 0.99))
    return n * (2 * width + o)


def plan_resampling(source_rate: int, target_rate: int) -> ResamplePlan:
    if source_rate <= 0 or target_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {source_rate} -> {target_rate}")
    if source_rate != target_rate and _kernel_taps(source_rate, target_rate) > MAX_KERNEL_TAPS:
        source_rate = max(100, round(source_rate / 100) * 100)
    if source_rate == target_rate:
        return ResamplePlan(source_rate, target_rate, 1, 1, 0)
    resampler = _resampler(source_rate, target_rate)
    g = math.gcd(source_rate, target_rate)
    step_in, step_out = source_rate // g, target_rate // g
    context = math.ceil(resampler.width / step_in) * step_in
    return ResamplePlan(source_rate, target_rate, step_in, step_out, context)


@lru_cache(maxsize=16)
def _resampler(source_rate: int, target_rate: int):
    """torchaudio's Resample module: it builds the kernel once (defaults: 6 zero crossings, Hann)."""
    from torchaudio.transforms import Resample

    return Resample(source_rate, target_rate)


def resample(samples: np.ndarray, plan: ResamplePlan) -> np.ndarray:
    """Resample a whole mono float32 signal (the signal is taken as zero outside its ends)."""
    if plan.identity or len(samples) == 0:
        return samples
    resampler = _resampler(plan.source_rate, plan.target_rate)
    samples = np.ascontiguousarray(samples, dtype=np.float32)
    if resampler.kernel.shape[0] * resampler.kernel.shape[-1] <= SLICE_SUM_MAX_TAPS:
        return _slice_sum(samples, _kernel_array(plan.source_rate, plan.target_rate), plan.step_in, resampler.width)
    import torch

    from ..threads import torch_threads

    # One thread: resampling is decoding's work, and decode workers are sized one core each; left at
    # torch's default (every core) it ran OpenMP threads beside the model's on the same cores.
    with torch.inference_mode(), torch_threads(1):
        out = resampler(torch.from_numpy(samples))
    return out.numpy()


@lru_cache(maxsize=16)
def _kernel_array(source_rate: int, target_rate: int) -> np.ndarray:
    """torchaudio's kernel as (phases, taps) float32."""
    return _resampler(source_rate, target_rate).kernel[:, 0].numpy().copy()


def _slice_sum(samples: np.ndarray, kernel: np.ndarray, step_in: int, width: int) -> np.ndarray:
    """The same polyphase filter as torchaudio's conv1d, as one multiply-add per phase and tap.

    Input padded as torchaudio pads it (width before, width + step_in after); output phase p of
    step t is sum_j kernel[p, j] * padded[t * step_in + j]; phases interleave; the result is cut
    to ceil(n * len / o) samples. Equal to torchaudio's output up to float rounding (~1e-6).
    """
    phases, taps = kernel.shape
    padded = np.pad(samples, (width, width + step_in))
    steps = (len(padded) - taps) // step_in + 1
    out = np.zeros((phases, steps), dtype=np.float32)
    scratch = np.empty(steps, dtype=np.float32)
    for tap in range(taps):
        shifted = padded[tap : tap + step_in * (steps - 1) + 1 : step_in]
        for phase in range(phases):
            np.multiply(shifted, kernel[phase, tap], out=scratch)
            out[phase] += scratch
    return out.T.reshape(-1)[: math.ceil(phases * len(samples) / step_in)]


class StreamResampler:
    """Feed mono chunks of any length; get back resampled blocks of `block` input samples each.

    With equal rates it only re-blocks (context 0, every output is the input sample itself).
    """

    def __init__(self, plan: ResamplePlan, block: int):
        self.plan = plan
        self.block = plan.aligned(block)
        self._buffer = np.zeros(0, dtype=np.float32)
        self._buffer_start = 0  # input index of _buffer[0]
        self._done = 0  # input index up to which output has been produced (a multiple of step_in)
        # Chunks not yet joined to _buffer: joining each 64 Ki-sample read as it came copied the
        # growing 30 s buffer ~40 times per block (3 % of an indexing run's samples, profiled).
        self._pending: list[np.ndarray] = []
        self._pending_samples = 0

    def feed(self, chunk: np.ndarray) -> Iterator[np.ndarray]:
        self._pending.append(chunk)
        self._pending_samples += len(chunk)
        if self._buffer_start + len(self._buffer) + self._pending_samples < self._done + self.block + self.plan.context:
            return
        self._join_pending()
        while self._buffer_start + len(self._buffer) >= self._done + self.block + self.plan.context:
            yield self._resample_from_done(self._done + self.block + self.plan.context, keep=self.block)
            self._done += self.block
            self._drop_before(self._done - self.plan.context)

    def finish(self) -> Iterator[np.ndarray]:
        """The rest of the signal, once the input has ended."""
        self._join_pending()
        end = self._buffer_start + len(self._buffer)
        if end <= self._done:
            return
        yield self._resample_from_done(end, keep=None)
        self._done = end
        self._drop_before(end)

    def _resample_from_done(self, stop: int, keep: int | None) -> np.ndarray:
        """Resample input [done - context, stop) and keep the outputs that start at `done`."""
        plan = self.plan
        start = max(0, self._done - plan.context)
        piece = self._buffer[start - self._buffer_start : stop - self._buffer_start]
        out = resample(piece, plan)
        first = (self._done - start) // plan.step_in * plan.step_out
        last = None if keep is None else first + keep // plan.step_in * plan.step_out
        return out[first:last].copy()

    def _join_pending(self) -> None:
        if self._pending:
            self._buffer = np.concatenate([self._buffer, *self._pending])
            self._pending, self._pending_samples = [], 0

    def _drop_before(self, index: int) -> None:
        index = max(index, self._buffer_start)
        self._buffer = self._buffer[index - self._buffer_start :].copy()
        self._buffer_start = index
