"""NSynth (Engel et al. 2017): 4-s notes; the task is the instrument family (11 classes).

Layout as distributed (nsynth-{train,valid,test}.jsonwav.tar.gz): `nsynth-<split>/examples.json`
(`{note_str: {"instrument_family_str": "guitar", ...}}`) and `nsynth-<split>/audio/<note_str>.wav`.
"""

from __future__ import annotations

import json
from pathlib import Path

from .base import SINGLE_LABEL, DatasetLayoutError, Example, Task, check_split, human, missing_files_error

WHAT = "NSynth"
FAMILIES = ("bass", "brass", "flute", "guitar", "keyboard", "mallet", "organ", "reed", "string", "synth_lead", "vocal")
SPLITS = ("train", "valid", "test")


def load_split(root: Path, split: str) -> list[Example]:
    base = root / f"nsynth-{split}"
    meta = base / "examples.json"
    if not meta.is_file():
        raise DatasetLayoutError(f"{WHAT}: no {meta}; point --data at the directory holding the extracted nsynth-{split}/.")
    try:
        notes = json.loads(meta.read_text(encoding="utf-8"))
        families = {note: info["instrument_family_str"] for note, info in notes.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DatasetLayoutError(f"{WHAT}: {meta} is not NSynth's examples.json ({exc}).") from None
    examples, missing = [], []
    for note in sorted(families):
        if families[note] not in FAMILIES:
            raise DatasetLayoutError(f"{WHAT}: unknown instrument family {families[note]!r} in {meta}.")
        path = base / "audio" / f"{note}.wav"
        if not path.is_file():
            missing.append(path.name)
        examples.append(Example(str(path.resolve()), (human(families[note]),), split))
    if missing:
        raise missing_files_error(WHAT, base / "audio", len(missing), missing[0])
    return examples


def load(data_dir, split: str | None = None) -> list[Example]:
    check_split(split, SPLITS, WHAT)
    root = Path(data_dir)
    names = [split] if split else [s for s in SPLITS if (root / f"nsynth-{s}").is_dir()] or ["test"]
    return [example for name in names for example in load_split(root, name)]


TASK = Task(
    name="nsynth",
    title="NSynth",
    kind=SINGLE_LABEL,
    load=load,
    classes=tuple(human(f) for f in FAMILIES),
    protocol="splits",
    train_split="train",
    test_split="test",
    folds_note="the dataset's split (nsynth-train for training, nsynth-test for testing)",
    default_dirs=("nsynth", "NSynth"),
)
