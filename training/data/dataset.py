"""Manifest clips as fixed-length training windows, decoded in DataLoader workers.

Training: a random crop of the model's window length (clips shorter than a window are
repeat-padded, as the paper pads), one caption drawn from the clip's captions, optional
augmentations. Validation: the first window and the first caption, always the same.

All randomness of an item comes from a Generator seeded with (seed, epoch, index). The sampler
hands out (epoch, index) keys, so an item is the same whichever worker, rank or resumed run
decodes it: that is what makes resume and the DDP-vs-one-process comparison exact.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from clapsearch.audio.decode import load_mono, probe
from clapsearch.errors import DecodeError

from .augment import augment, is_active
from .manifest import ManifestEntry


def repeat_pad(wave: np.ndarray, length: int) -> np.ndarray:
    """Tile a short clip until it fills `length` samples (a longer one is cut)."""
    if wave.shape[0] == 0:
        raise ValueError("cannot pad an empty clip")
    if wave.shape[0] < length:
        wave = np.tile(wave, math.ceil(length / wave.shape[0]))
    return wave[:length]


class ClipDataset(torch.utils.data.Dataset):
    def __init__(self, entries: list[ManifestEntry], sample_rate: int, window_seconds: float,
                 train: bool, augment_config=None, seed: int = 0):
        self.entries = list(entries)
        self.sample_rate = int(sample_rate)
        self.window_seconds = float(window_seconds)
        self.window_samples = round(self.window_seconds * self.sample_rate)
        self.train = train
        self.augment_config = augment_config if train and is_active(augment_config) else None
        self.seed = seed

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, key) -> dict:
        epoch, index = key if isinstance(key, tuple) else (0, key)
        entry = self.entries[index]
        rng = np.random.default_rng([self.seed, epoch, index])
        wave = self.window(entry, rng)
        if self.augment_config is not None:
            wave = augment(wave, self.augment_config, rng)
        return {"wave": torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32)),
                "caption": self.caption(entry, rng), "index": index}

    def caption(self, entry: ManifestEntry, rng: np.random.Generator) -> str:
        if not self.train:
            return entry.captions[0]
        return entry.captions[int(rng.integers(len(entry.captions)))]

    def window(self, entry: ManifestEntry, rng: np.random.Generator) -> np.ndarray:
        start, length = self.extent(entry)
        spare = length - self.window_seconds
        if spare > 0:
            offset = float(rng.uniform(0.0, spare)) if self.train else 0.0
            wave = self._load(entry, start + offset, self.window_seconds)
        else:
            wave = self._load(entry, start, length)
        return repeat_pad(wave, self.window_samples)

    def extent(self, entry: ManifestEntry) -> tuple[float, float]:
        """(start, length) in seconds of the part of the file this entry stands for."""
        start = float(entry.start or 0.0)
        end = entry.end
        if end is None:
            end = self._probe(entry).duration
        if end <= start:
            raise DecodeError(f"{entry.audio}: the excerpt {start:g}-{end:g} s is empty")
        return start, float(end) - start

    def _probe(self, entry):
        try:
            return probe(entry.audio)
        except DecodeError as error:
            raise DecodeError(f"{entry.audio}: {error}") from None

    def _load(self, entry: ManifestEntry, start: float, duration: float) -> np.ndarray:
        try:
            wave = load_mono(entry.audio, self.sample_rate, start, duration)
        except DecodeError as error:
            raise DecodeError(f"{entry.audio}: {error}") from None
        if wave.shape[0] == 0:
            raise DecodeError(f"{entry.audio}: no samples decoded at {start:g} s")
        return wave


class EpochSampler(torch.utils.data.Sampler):
    """This rank's (epoch, index) keys for one epoch, resumable at any batch.

    Every epoch is a fresh permutation seeded by (seed, epoch), cut to whole global batches
    (batch_size * world_size); rank r takes every world_size-th key starting at r. So global
    batch k of a run with W ranks holds exactly the clips of batch k of one process with a
    W-times larger batch. `skip_batches` drops the batches a resumed run already trained on.
    """

    def __init__(self, size: int, batch_size: int, rank: int = 0, world_size: int = 1, seed: int = 0,
                 shuffle: bool = True):
        self.size, self.batch_size = size, batch_size
        self.rank, self.world_size = rank, world_size
        self.seed, self.shuffle = seed, shuffle
        self.epoch, self.skip_batches = 0, 0

    def batches_per_epoch(self) -> int:
        return self.size // (self.batch_size * self.world_size)

    def set_epoch(self, epoch: int, skip_batches: int = 0) -> None:
        self.epoch, self.skip_batches = epoch, skip_batches

    def __iter__(self):
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
            order = torch.randperm(self.size, generator=generator).tolist()
        else:
            order = list(range(self.size))
        order = order[: self.batches_per_epoch() * self.batch_size * self.world_size]
        mine = order[self.rank :: self.world_size][self.skip_batches * self.batch_size :]
        return iter([(self.epoch, index) for index in mine])

    def __len__(self) -> int:
        return (self.batches_per_epoch() - self.skip_batches) * self.batch_size


def collate(items: list[dict]) -> dict:
    return {"waves": torch.stack([item["wave"] for item in items]),
            "captions": [item["caption"] for item in items],
            "indices": torch.tensor([item["index"] for item in items])}
