"""CREMA-D (Cao et al. 2014): 7,442 clips from 91 actors, 6 emotions coded in the file name.

Layout as distributed (github.com/CheyneyComputerScience/CREMA-D): `AudioWAV/<actor>_<sentence>_<emotion>_<level>.wav`,
e.g. `1001_DFA_ANG_XX.wav`; emotion codes ANG, DIS, FEA, HAP, NEU, SAD. The dataset defines no
folds; we use 5 speaker-independent folds of consecutive actor ids (ours).
"""

from __future__ import annotations

from pathlib import Path

from .base import EMOTION_PROMPT, SINGLE_LABEL, DatasetLayoutError, Example, Task, audio_files, block_fold, check_split

WHAT = "CREMA-D"
EMOTIONS = {"ANG": "angry", "DIS": "disgusted", "FEA": "fearful", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}
FOLDS = ("1", "2", "3", "4", "5")


def parse_name(path: Path) -> tuple[str, str]:
    """(actor id, emotion word) from `1001_DFA_ANG_XX.wav`."""
    parts = path.stem.split("_")
    if len(parts) != 4 or not parts[0].isdigit() or parts[2] not in EMOTIONS:
        raise DatasetLayoutError(f"{WHAT}: {path.name} is not named <actor>_<sentence>_<emotion>_<level>.wav.")
    return parts[0], EMOTIONS[parts[2]]


def load(data_dir, split: str | None = None) -> list[Example]:
    check_split(split, FOLDS, WHAT)
    root = Path(data_dir)
    audio = root / "AudioWAV" if (root / "AudioWAV").is_dir() else root
    files = audio_files(audio) if audio.is_dir() else []
    if not files:
        raise DatasetLayoutError(f"{WHAT}: no audio files in {audio}; point --data at the CREMA-D directory (with AudioWAV/).")
    parsed = [(path, *parse_name(path)) for path in files]
    actors = sorted({actor for _, actor, _ in parsed})
    fold_of = {actor: block_fold(i, len(actors), 5) for i, actor in enumerate(actors)}
    examples = [Example(str(p.resolve()), (emotion,), fold_of[actor]) for p, actor, emotion in parsed]
    return [e for e in examples if split is None or e.fold == split]


TASK = Task(
    name="crema-d",
    title="CREMA-D",
    kind=SINGLE_LABEL,
    load=load,
    classes=tuple(EMOTIONS.values()),
    prompt=EMOTION_PROMPT,
    protocol="folds",
    folds_note="none defined by the dataset: 5 folds of consecutive actor ids (ours, speaker-independent)",
    default_dirs=("CREMA-D", "crema-d", "cremad"),
)
