"""GTZAN music/speech (Tzanetakis): 128 30-s excerpts, 64 music and 64 speech.

Layout as distributed (music_speech.tar.gz): `music_speech/music_wav/*.wav` and
`music_speech/speech_wav/*.wav`. The dataset defines no folds; for the supervised protocols we use
10 folds of consecutive file names per class (ours).
"""

from __future__ import annotations

from pathlib import Path

from .base import SINGLE_LABEL, DatasetLayoutError, Example, Task, audio_files, block_fold, check_split

WHAT = "GTZAN music/speech"
CLASSES = ("music", "speech")
FOLDS = tuple(str(i) for i in range(1, 11))


def find_root(root: Path) -> Path:
    for candidate in (root, root / "music_speech"):
        if all((candidate / f"{name}_wav").is_dir() for name in CLASSES):
            return candidate
    raise DatasetLayoutError(
        f"{WHAT}: no music_wav/ and speech_wav/ folders under {root}; "
        "point --data at the extracted music_speech directory."
    )


def load(data_dir, split: str | None = None) -> list[Example]:
    check_split(split, FOLDS, WHAT)
    base = find_root(Path(data_dir))
    examples = []
    for name in CLASSES:
        files = audio_files(base / f"{name}_wav")
        if not files:
            raise DatasetLayoutError(f"{WHAT}: {base / (name + '_wav')} holds no audio files.")
        for index, path in enumerate(files):
            examples.append(Example(str(path.resolve()), (name,), block_fold(index, len(files), 10)))
    return [e for e in examples if split is None or e.fold == split]


TASK = Task(
    name="gtzan-music-speech",
    title="GTZAN Music Speech",
    kind=SINGLE_LABEL,
    load=load,
    classes=CLASSES,
    protocol="folds",
    folds_note="none defined by the dataset: 10 folds of consecutive files per class (ours)",
    default_dirs=("music_speech", "gtzan_music_speech", "GTZAN-music-speech"),
)
