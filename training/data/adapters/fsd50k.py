"""FSD50K -> manifest entries: class labels become the caption.

FSD50K has labels, not sentences. The caption is the clip's labels as AudioSet names them, joined
in the order FSD50K lists them (a leaf first, then its ancestors): "Electric guitar, Guitar,
Plucked string instrument, Musical instrument, Music". The paper does not say how it turned labels
into text; this rule is ours. Licenses come from FSD50K.metadata/<split>_clips_info_FSD50K.json.
Splits: the dev "train" and "val" splits map to train and val, "eval" to test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from training.benchmarks.fsd50k import SPLITS, load
from training.data.manifest import ManifestEntry

SOURCE = "fsd50k"
SPLIT_NAMES = {"train": "train", "val": "val", "eval": "test"}


def read_licenses(root: Path, split: str) -> dict[str, str]:
    info = root / "FSD50K.metadata" / f"{'eval' if split == 'eval' else 'dev'}_clips_info_FSD50K.json"
    if not info.is_file():
        return {}
    return {fname: str(clip.get("license", "")) for fname, clip in json.loads(info.read_text(encoding="utf-8")).items()}


def caption_for(labels) -> str:
    return ", ".join(labels)


def entries(data_dir, splits=("train",)) -> Iterator[ManifestEntry]:
    root = Path(data_dir)
    for split in splits:
        licenses = read_licenses(root, split)
        for example in load(root, split=split):
            fname = Path(example.path).stem
            yield ManifestEntry(audio=example.path, captions=[caption_for(example.labels)], labels=list(example.labels),
                                source=SOURCE, license=licenses.get(fname, ""), item=f"freesound:{fname}",
                                split=SPLIT_NAMES[split])


DEFAULT_SPLITS = ("train",)
ALL_SPLITS = SPLITS
