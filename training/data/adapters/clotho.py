"""Clotho v2 -> manifest entries, with each clip's Freesound license from clotho_metadata_<split>.csv.

Splits map development -> train, validation -> val, evaluation -> test. Entries of one Freesound
sound share an item ("freesound:<sound_id>"), so a split never separates them; FSD50K uses the same
item names, so a clip in both datasets is one item.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterator

from training.benchmarks.clotho import SPLITS, load
from training.data.manifest import ManifestEntry

SOURCE = "clotho-v2"
SPLIT_NAMES = {"development": "train", "validation": "val", "evaluation": "test"}


def read_metadata(root: Path, split: str) -> dict[str, dict[str, str]]:
    """file_name -> metadata row (empty when the metadata file is absent). The released files are
    not all valid UTF-8, so undecodable bytes are replaced rather than failing the whole file."""
    path = root / f"clotho_metadata_{split}.csv"
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        return {row["file_name"]: row for row in csv.DictReader(handle) if row.get("file_name")}


def entries(data_dir, splits=("development",)) -> Iterator[ManifestEntry]:
    root = Path(data_dir)
    for split in splits:
        metadata = read_metadata(root, split)
        for example in load(root, split=split):
            row = metadata.get(Path(example.path).name, {})
            sound_id = (row.get("sound_id") or "").strip()
            item = f"freesound:{sound_id}" if sound_id else f"{SOURCE}:{Path(example.path).name}"
            yield ManifestEntry(audio=example.path, captions=list(example.captions), source=SOURCE,
                                license=(row.get("license") or "").strip(), item=item, split=SPLIT_NAMES[split])


DEFAULT_SPLITS = ("development",)
ALL_SPLITS = SPLITS
