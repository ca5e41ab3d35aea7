"""LibriCount (Stoeter et al. 2018): 5-s mixtures of 0 to 10 LibriSpeech speakers.

Layout as distributed (Zenodo 1216072, LibriCount10-0dB.zip): `test/<count>_<id>.wav` with a
`<count>_<id>.json` beside each (the speakers' activity); the count is the number before the first
underscore. The prompt is "[number] persons speaking" with the number as digits. The dataset defines
no folds; we use 5 folds of consecutive file names per count (ours).
"""

from __future__ import annotations

from pathlib import Path

from .base import COUNT_PROMPT, SINGLE_LABEL, DatasetLayoutError, Example, Task, audio_files, block_fold, check_split

WHAT = "LibriCount"
COUNTS = tuple(str(n) for n in range(11))
FOLDS = ("1", "2", "3", "4", "5")


def parse_count(path: Path) -> str:
    count = path.stem.split("_", 1)[0]
    if count not in COUNTS or "_" not in path.stem:
        raise DatasetLayoutError(f"{WHAT}: {path.name} is not named <count>_<id>.wav with a count from 0 to 10.")
    return count


def load(data_dir, split: str | None = None) -> list[Example]:
    check_split(split, FOLDS, WHAT)
    root = Path(data_dir)
    audio = next((d for d in (root / "test", root / "LibriCount10-0dB" / "test", root) if d.is_dir() and audio_files(d)), None)
    if audio is None:
        raise DatasetLayoutError(f"{WHAT}: no audio under {root}/test; point --data at the extracted LibriCount10-0dB.")
    by_count: dict[str, list[Path]] = {}
    for path in audio_files(audio):
        by_count.setdefault(parse_count(path), []).append(path)
    examples = []
    for count, paths in sorted(by_count.items(), key=lambda item: int(item[0])):
        examples += [Example(str(p.resolve()), (count,), block_fold(i, len(paths), 5)) for i, p in enumerate(paths)]
    return [e for e in examples if split is None or e.fold == split]


TASK = Task(
    name="libricount",
    title="LibriCount",
    kind=SINGLE_LABEL,
    load=load,
    classes=COUNTS,
    prompt=COUNT_PROMPT,
    protocol="folds",
    folds_note="none defined by the dataset: 5 folds of consecutive files per count (ours)",
    default_dirs=("LibriCount10-0dB", "LibriCount", "libricount"),
)
