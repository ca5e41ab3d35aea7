"""RAVDESS (Livingstone & Russo 2018): 24 actors, 8 emotions, coded in the file name.

Layout as distributed (Zenodo 1188976, Audio_Speech_Actors_01-24.zip and Audio_Song_Actors_01-24.zip):
`Actor_NN/<modality>-<channel>-<emotion>-<intensity>-<statement>-<repetition>-<actor>.wav`, e.g.
`03-01-06-01-02-01-12.wav`. Modality 03 is audio-only (the only one in the audio zips); emotion codes
01 neutral, 02 calm, 03 happy, 04 sad, 05 angry, 06 fearful, 07 disgust, 08 surprised. No folds are
defined; we use 5 speaker-independent folds of consecutive actors (ours).
"""

from __future__ import annotations

from pathlib import Path

from .base import EMOTION_PROMPT, SINGLE_LABEL, DatasetLayoutError, Example, Task, audio_files, block_fold, check_split

WHAT = "RAVDESS"
EMOTIONS = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry", "06": "fearful",
            "07": "disgusted", "08": "surprised"}
FOLDS = ("1", "2", "3", "4", "5")


def parse_name(path: Path) -> tuple[str, str] | None:
    """(actor, emotion word) for an audio-only file; None for other modalities."""
    parts = path.stem.split("-")
    if len(parts) != 7 or not all(p.isdigit() for p in parts) or parts[2] not in EMOTIONS:
        raise DatasetLayoutError(f"{WHAT}: {path.name} is not named like 03-01-06-01-02-01-12.wav.")
    if parts[0] != "03":
        return None
    return parts[6], EMOTIONS[parts[2]]


def load(data_dir, split: str | None = None) -> list[Example]:
    check_split(split, FOLDS, WHAT)
    root = Path(data_dir)
    actor_dirs = sorted(p for p in root.glob("**/Actor_*") if p.is_dir()) if root.is_dir() else []
    if not actor_dirs:
        raise DatasetLayoutError(f"{WHAT}: no Actor_NN folders under {root}; point --data at the extracted RAVDESS audio.")
    parsed = []
    for directory in actor_dirs:
        for path in audio_files(directory):
            fields = parse_name(path)
            if fields:
                parsed.append((path, *fields))
    actors = sorted({actor for _, actor, _ in parsed})
    fold_of = {actor: block_fold(i, len(actors), 5) for i, actor in enumerate(actors)}
    examples = [Example(str(p.resolve()), (emotion,), fold_of[actor]) for p, actor, emotion in parsed]
    return [e for e in examples if split is None or e.fold == split]


TASK = Task(
    name="ravdess",
    title="RAVDESS",
    kind=SINGLE_LABEL,
    load=load,
    classes=tuple(EMOTIONS.values()),
    prompt=EMOTION_PROMPT,
    protocol="folds",
    folds_note="none defined by the dataset: 5 folds of consecutive actors (ours, speaker-independent)",
    default_dirs=("RAVDESS", "ravdess"),
)
