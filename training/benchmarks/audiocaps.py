"""AudioCaps (Kim et al. 2019): AudioSet clips with human captions; retrieval benchmark.

Layout as distributed (github.com/cdjkim/audiocaps, `dataset/`): `train.csv`, `val.csv`, `test.csv`
with the columns audiocap_id, youtube_id, start_time, caption (one row per caption; test and val
clips have 5 captions, train clips 1). The audio is not distributed: each user downloads the
10-s YouTube excerpts. We look for them under `audio/<split>/`, `<split>/`, `audio_*/<split>/`
(aac-datasets writes `audio_32000Hz/<split>/<youtube_id>_<start_time>.flac`) or `audio/`, named
`<youtube_id>`, `Y<youtube_id>`, `<youtube_id>_<start_time>` or `<audiocap_id>` with any audio
extension. Clips whose audio is missing (removed videos are common) are skipped with a warning.
"""

from __future__ import annotations

import logging
from pathlib import Path

from clapsearch.audio.formats import AUDIO_EXTENSIONS

from .base import RETRIEVAL, DatasetLayoutError, Example, Task, check_split, first_existing, read_csv_rows

WHAT = "AudioCaps"
SPLITS = ("train", "val", "test")
log = logging.getLogger(__name__)


def find_csv(root: Path, split: str) -> Path:
    path = first_existing([root / f"{split}.csv", root / "dataset" / f"{split}.csv"])
    if path is None:
        raise DatasetLayoutError(f"{WHAT}: no {split}.csv under {root} (or {root}/dataset); copy AudioCaps' CSV files there.")
    return path


def audio_index(root: Path, split: str) -> dict[str, Path]:
    """File stem -> path for every audio file in the candidate folders of `split`."""
    index: dict[str, Path] = {}
    for directory in (root / "audio" / split, root / split, *sorted(root.glob(f"audio_*/{split}")), root / "audio"):
        if directory.is_dir():
            for path in sorted(directory.iterdir()):
                if path.suffix.lower() in AUDIO_EXTENSIONS:
                    index.setdefault(path.stem, path)
    return index


def clip_stems(row: dict[str, str]) -> list[str]:
    youtube_id, start = row["youtube_id"].strip(), row["start_time"].strip()
    return [youtube_id, f"Y{youtube_id}", f"{youtube_id}_{start}", row["audiocap_id"].strip()]


def load_split(root: Path, split: str) -> list[Example]:
    rows = read_csv_rows(find_csv(root, split), ("audiocap_id", "youtube_id", "start_time", "caption"), WHAT)
    files = audio_index(root, split)
    clips: dict[tuple[str, str], list[str]] = {}  # (youtube_id, start) -> captions, in file order
    paths: dict[tuple[str, str], Path | None] = {}
    for row in rows:
        key = (row["youtube_id"].strip(), row["start_time"].strip())
        clips.setdefault(key, []).append(row["caption"].strip())
        if paths.get(key) is None:
            paths[key] = next((files[s] for s in clip_stems(row) if s in files), None)
    present = [key for key in clips if paths[key] is not None]
    if not present:
        raise DatasetLayoutError(f"{WHAT}: none of the {len(clips)} {split} clips has audio under {root}/audio/{split}; "
                                 "download the excerpts and name them <youtube_id>.wav.")
    if len(present) < len(clips):
        log.warning("%s %s: %d of %d clips have no audio and are skipped.", WHAT, split, len(clips) - len(present), len(clips))
    return [Example(str(paths[key].resolve()), fold=split, captions=tuple(clips[key])) for key in present]


def load(data_dir, split: str | None = None) -> list[Example]:
    check_split(split, SPLITS, WHAT)
    return [e for name in ([split] if split else ["test"]) for e in load_split(Path(data_dir), name)]


TASK = Task(
    name="audiocaps",
    title="AudioCaps",
    kind=RETRIEVAL,
    load=load,
    protocol="splits",
    train_split="train",
    test_split="test",
    folds_note="the dataset's test split (test.csv, 5 captions per clip)",
    default_dirs=("AudioCaps", "audiocaps"),
)
