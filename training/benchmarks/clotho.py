"""Clotho v2 (Drossos et al. 2020): Freesound clips of 15-30 s with 5 captions each; retrieval benchmark.

Layout as distributed (Zenodo 4783391): `clotho_captions_<split>.csv` (file_name, caption_1 ...
caption_5) and the audio archives `clotho_audio_<split>.7z`, which extract to `<split>/`; splits are
development, validation and evaluation. `clotho_metadata_<split>.csv` (file_name, keywords,
sound_id, sound_link, start_end_samples, manufacturer, license) gives each clip's license.
"""

from __future__ import annotations

from pathlib import Path

from .base import RETRIEVAL, DatasetLayoutError, Example, Task, check_split, first_existing, missing_files_error, read_csv_rows

WHAT = "Clotho"
SPLITS = ("development", "validation", "evaluation")
CAPTION_COLUMNS = tuple(f"caption_{i}" for i in range(1, 6))


def audio_dir(root: Path, split: str) -> Path:
    directory = first_existing([root / split, root / f"clotho_audio_{split}", root / "audio" / split])
    if directory is None:
        raise DatasetLayoutError(f"{WHAT}: no {split}/ audio folder under {root}; extract clotho_audio_{split}.7z there.")
    return directory


def read_captions(root: Path, split: str) -> list[dict[str, str]]:
    path = root / f"clotho_captions_{split}.csv"
    if not path.is_file():
        raise DatasetLayoutError(f"{WHAT}: no {path.name} under {root}; point --data at the Clotho directory.")
    return read_csv_rows(path, ("file_name", *CAPTION_COLUMNS), WHAT)


def load_split(root: Path, split: str) -> list[Example]:
    rows = read_captions(root, split)
    audio = audio_dir(root, split)
    examples, missing = [], []
    for row in rows:
        path = audio / row["file_name"]
        if not path.is_file():
            missing.append(row["file_name"])
        captions = tuple(row[c].strip() for c in CAPTION_COLUMNS if row[c].strip())
        examples.append(Example(str(path.resolve()), fold=split, captions=captions))
    if missing:
        raise missing_files_error(WHAT, audio, len(missing), missing[0])
    return examples


def load(data_dir, split: str | None = None) -> list[Example]:
    check_split(split, SPLITS, WHAT)
    return [e for name in ([split] if split else ["evaluation"]) for e in load_split(Path(data_dir), name)]


TASK = Task(
    name="clotho",
    title="Clotho",
    kind=RETRIEVAL,
    load=load,
    protocol="splits",
    train_split="development",
    test_split="evaluation",
    folds_note="the dataset's evaluation split (clotho_captions_evaluation.csv, 5 captions per clip)",
    default_dirs=("clotho", "Clotho", "clotho_v2"),
)
