"""ESC-50 (Piczak 2015): 2,000 5-s clips, 50 classes, 5 folds defined by the dataset.

Layout as distributed (github.com/karolpiczak/ESC-50): `audio/*.wav` and `meta/esc50.csv` with the
columns filename, fold, target, category, esc10, src_file, take. Category names use underscores
("chirping_birds"); prompts use words ("chirping birds").
"""

from __future__ import annotations

from pathlib import Path

from .base import (SINGLE_LABEL, DatasetLayoutError, Example, Task, check_split, human, missing_files_error,
                   read_csv_rows, require_dir, require_file)
from .labels import bundled_classes

WHAT = "ESC-50"
HINT = "point --data at the extracted ESC-50 directory (with audio/ and meta/esc50.csv)."
FOLDS = ("1", "2", "3", "4", "5")


def load(data_dir, split: str | None = None) -> list[Example]:
    """Every clip with its fold; `split` = a fold number ("1".."5") keeps only that fold."""
    root = Path(data_dir)
    check_split(split, FOLDS, WHAT)
    meta = require_file(root / "meta" / "esc50.csv", WHAT, HINT)
    audio = require_dir(root / "audio", WHAT, HINT)
    rows = read_csv_rows(meta, ("filename", "fold", "category"), WHAT)
    known = set(TASK.classes)
    examples, missing = [], []
    for row in rows:
        label = human(row["category"])
        if label not in known:
            raise DatasetLayoutError(f"{WHAT}: unknown category {row['category']!r} in {meta}; is this ESC-50?")
        path = audio / row["filename"]
        if not path.is_file():
            missing.append(row["filename"])
        examples.append(Example(str(path.resolve()), (label,), row["fold"].strip()))
    if missing:
        raise missing_files_error(WHAT, audio, len(missing), missing[0])
    return [e for e in examples if split is None or e.fold == split]


TASK = Task(
    name="esc50",
    title="ESC-50",
    kind=SINGLE_LABEL,
    load=load,
    classes=bundled_classes("ESC50_class_labels_indices_space.json"),
    protocol="folds",
    folds_note="the dataset's 5 folds (meta/esc50.csv)",
    default_dirs=("ESC-50", "ESC-50-master", "esc50"),
)
