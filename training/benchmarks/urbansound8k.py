"""UrbanSound8K (Salamon et al. 2014): 8,732 clips (<= 4 s), 10 classes, 10 folds defined by the dataset.

Layout as distributed: `audio/fold1..fold10/*.wav` and `metadata/UrbanSound8K.csv` with the columns
slice_file_name, fsID, start, end, salience, fold, classID, class.
"""

from __future__ import annotations

from pathlib import Path

from .base import (SINGLE_LABEL, DatasetLayoutError, Example, Task, check_split, human, missing_files_error,
                   read_csv_rows, require_dir, require_file)
from .labels import bundled_classes

WHAT = "UrbanSound8K"
HINT = "point --data at the extracted UrbanSound8K directory (with audio/foldN/ and metadata/UrbanSound8K.csv)."
FOLDS = tuple(str(i) for i in range(1, 11))


def load(data_dir, split: str | None = None) -> list[Example]:
    """Every clip with its fold; `split` = a fold number ("1".."10") keeps only that fold."""
    root = Path(data_dir)
    check_split(split, FOLDS, WHAT)
    meta = require_file(root / "metadata" / "UrbanSound8K.csv", WHAT, HINT)
    audio = require_dir(root / "audio", WHAT, HINT)
    rows = read_csv_rows(meta, ("slice_file_name", "fold", "class"), WHAT)
    known = set(TASK.classes)
    examples, missing = [], []
    for row in rows:
        label = human(row["class"])
        if label not in known:
            raise DatasetLayoutError(f"{WHAT}: unknown class {row['class']!r} in {meta}; is this UrbanSound8K?")
        fold = row["fold"].strip()
        path = audio / f"fold{fold}" / row["slice_file_name"]
        if not path.is_file():
            missing.append(f"fold{fold}/{row['slice_file_name']}")
        examples.append(Example(str(path.resolve()), (label,), fold))
    if missing:
        raise missing_files_error(WHAT, audio, len(missing), missing[0])
    return [e for e in examples if split is None or e.fold == split]


TASK = Task(
    name="us8k",
    title="UrbanSound8K",
    kind=SINGLE_LABEL,
    load=load,
    classes=bundled_classes("UrbanSound8K_class_labels_indices.json"),
    protocol="folds",
    folds_note="the dataset's 10 folds (metadata/UrbanSound8K.csv)",
    default_dirs=("UrbanSound8K", "urbansound8k", "us8k"),
)
