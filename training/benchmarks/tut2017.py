"""TUT Acoustic Scenes 2017 (DCASE 2017 task 1): 10-s segments, 15 scenes.

Layout as distributed (Zenodo 400515 / 1040168): `TUT-acoustic-scenes-2017-development/` and
`TUT-acoustic-scenes-2017-evaluation/`, each with `audio/*.wav` and a tab-separated `meta.txt`
(`audio/<file>.wav<TAB><scene>[<TAB><recording id>]`); the development set also has
`evaluation_setup/fold{1..4}_evaluate.txt`, whose files give each segment its fold.
The DCASE protocol: train on the development set, test on the evaluation set.
"""

from __future__ import annotations

from pathlib import Path

from .base import SINGLE_LABEL, DatasetLayoutError, Example, Task, check_split, human, missing_files_error

WHAT = "TUT Acoustic Scenes 2017"
SPLITS = ("development", "evaluation")
SCENES = ("beach", "bus", "cafe/restaurant", "car", "city_center", "forest_path", "grocery_store", "home",
          "library", "metro_station", "office", "park", "residential_area", "train", "tram")
CLASSES = tuple(human(scene) for scene in SCENES)


def split_dir(root: Path, split: str) -> Path:
    name = f"TUT-acoustic-scenes-2017-{split}"
    for candidate in (root / name, root):  # the parent of the release folder, or the folder itself
        if candidate.name == name and (candidate / "meta.txt").is_file():
            return candidate
    raise DatasetLayoutError(
        f"{WHAT}: no {name}/meta.txt under {root}; point --data at the directory holding the extracted "
        f"{name} folder."
    )


def read_meta(path: Path) -> list[tuple[str, str]]:
    """(relative audio path, scene) per line of a meta.txt or fold list."""
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = line.strip().split("\t") if "\t" in line else line.split()
        if not fields or not fields[0]:
            continue
        if len(fields) < 2 or fields[1] not in SCENES:
            raise DatasetLayoutError(f"{WHAT}: {path}:{number} is not '<audio path><TAB><scene>'.")
        pairs.append((fields[0], fields[1]))
    return pairs


def dev_folds(base: Path) -> dict[str, str]:
    folds = {}
    for fold in range(1, 5):
        listing = base / "evaluation_setup" / f"fold{fold}_evaluate.txt"
        if listing.is_file():
            for relative, _ in read_meta(listing):
                folds[relative] = str(fold)
    return folds


def load(data_dir, split: str | None = None) -> list[Example]:
    """Segments of `split` ("development", with folds 1-4 when listed, or "evaluation"); None = both."""
    root = Path(data_dir)
    check_split(split, SPLITS, WHAT)
    examples = []
    for name in [split] if split else SPLITS:
        base = split_dir(root, name)
        folds = dev_folds(base) if name == "development" else {}
        missing = []
        for relative, scene in read_meta(base / "meta.txt"):
            path = base / relative
            if not path.is_file():
                missing.append(relative)
            examples.append(Example(str(path.resolve()), (human(scene),), folds.get(relative, name)))
        if missing:
            raise missing_files_error(WHAT, base, len(missing), missing[0])
    return examples


TASK = Task(
    name="tut2017",
    title="TUT 2017",
    kind=SINGLE_LABEL,
    load=load,
    classes=CLASSES,
    protocol="splits",
    train_split="development",
    test_split="evaluation",
    folds_note="the DCASE 2017 protocol: development set (train) and evaluation set (test)",
    default_dirs=("TUT2017", "TUT-acoustic-scenes-2017", "tut2017"),
)
