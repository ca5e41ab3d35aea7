"""AudioCaps -> manifest entries: one entry per clip with all of its captions.

The clips are AudioSet excerpts of YouTube videos: AudioCaps gives no per-clip license, so the
entries carry none (check the terms of the videos before redistributing anything).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from training.benchmarks.audiocaps import SPLITS, load
from training.data.manifest import ManifestEntry

SOURCE = "audiocaps"
SPLIT_NAMES = {"train": "train", "val": "val", "test": "test"}


def entries(data_dir, splits=("train",)) -> Iterator[ManifestEntry]:
    for split in splits:
        for example in load(Path(data_dir), split=split):
            yield ManifestEntry(audio=example.path, captions=list(example.captions), source=SOURCE,
                                item=f"{SOURCE}:{Path(example.path).stem}", split=SPLIT_NAMES[split])


DEFAULT_SPLITS = ("train",)
ALL_SPLITS = SPLITS
