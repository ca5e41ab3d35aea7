"""FSD50K (Fonseca et al. 2022): 51,197 Freesound clips, 200 AudioSet classes, multi-label.

Layout as distributed (Zenodo 4060432): `FSD50K.dev_audio/<fname>.wav`, `FSD50K.eval_audio/<fname>.wav`
and `FSD50K.ground_truth/` with `dev.csv` (fname, labels, mids, split = train|val), `eval.csv`
(fname, labels, mids) and `vocabulary.csv` (index, label, mid; no header). Labels are written with
underscores and "_and_" for AudioSet's commas ("Gunshot_and_gunfire"); prompts use AudioSet's
display names ("Gunshot, gunfire") from the bundled vocabulary.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from .base import (MULTI_LABEL, DatasetLayoutError, Example, Task, check_split, missing_files_error,
                   read_csv_rows, require_dir, require_file)
from .labels import bundled_classes

WHAT = "FSD50K"
HINT = "point --data at the directory holding FSD50K.ground_truth/ and FSD50K.dev_audio/ / FSD50K.eval_audio/."
SPLITS = ("train", "val", "eval")
CLASSES = bundled_classes("FSD50k_class_labels_indices.json")


def label_key(name: str) -> str:
    """One spelling for "Dishes, pots, and pans" and "Dishes_and_pots_and_pans"."""
    name = name.lower().replace("_and_", " ").replace(" and ", " ")
    return re.sub(r"[^a-z0-9]", "", name)


_BY_KEY = {label_key(name): name for name in CLASSES}


def display_name(fsd_label: str) -> str:
    try:
        return _BY_KEY[label_key(fsd_label)]
    except KeyError:
        raise DatasetLayoutError(f"{WHAT}: label {fsd_label!r} is not one of FSD50K's 200 classes.") from None


def read_vocabulary(path: Path) -> list[tuple[str, str]]:
    """(label, mid) pairs of vocabulary.csv, each checked against the bundled class list."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle) if row]
    if not rows or len(rows[0]) < 3:
        raise DatasetLayoutError(f"{WHAT}: {path} is not index,label,mid rows; is this FSD50K's vocabulary.csv?")
    return [(display_name(row[1]), row[2]) for row in rows]


def _split_rows(ground_truth: Path, split: str) -> list[dict[str, str]]:
    if split == "eval":
        return read_csv_rows(require_file(ground_truth / "eval.csv", WHAT, HINT), ("fname", "labels"), WHAT)
    rows = read_csv_rows(require_file(ground_truth / "dev.csv", WHAT, HINT), ("fname", "labels", "split"), WHAT)
    return [row for row in rows if row["split"].strip() == split]


def load(data_dir, split: str | None = None) -> list[Example]:
    """Clips of `split` ("train", "val" from dev.csv, or "eval"); None = all three."""
    root = Path(data_dir)
    check_split(split, SPLITS, WHAT)
    ground_truth = require_dir(root / "FSD50K.ground_truth", WHAT, HINT)
    read_vocabulary(require_file(ground_truth / "vocabulary.csv", WHAT, HINT))
    examples = []
    for name in [split] if split else SPLITS:
        audio = require_dir(root / ("FSD50K.eval_audio" if name == "eval" else "FSD50K.dev_audio"), WHAT, HINT)
        missing = []
        for row in _split_rows(ground_truth, name):
            path = audio / f"{row['fname'].strip()}.wav"
            if not path.is_file():
                missing.append(path.name)
            labels = tuple(display_name(label) for label in row["labels"].split(",") if label.strip())
            examples.append(Example(str(path.resolve()), labels, name))
        if missing:
            raise missing_files_error(WHAT, audio, len(missing), missing[0])
    return examples


TASK = Task(
    name="fsd50k",
    title="FSD50K",
    kind=MULTI_LABEL,
    load=load,
    classes=CLASSES,
    protocol="splits",
    train_split="train",
    test_split="eval",
    folds_note="the dataset's split: dev.csv train (probe training) and eval.csv (test)",
    default_dirs=("FSD50K", "fsd50k"),
)
