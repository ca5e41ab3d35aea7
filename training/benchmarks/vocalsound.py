"""VocalSound (Gong et al. 2022): 21,024 recordings of 6 vocal sounds from 3,365 speakers.

Layout as distributed (vs_release_16k.zip): `audio_16k/<speaker>_<n>_<label>.wav`, e.g.
`f0003_0_cough.wav`, and the official speaker-independent split as `datafiles/tr.json`, `val.json`,
`te.json` (`{"data": [{"wav": ".../f0003_0_cough.wav", "labels": ...}, ...]}`; only the file name
is used here, since the stored paths are the authors' machine's). The 44.1 kHz release has `audio_44k/`.
"""

from __future__ import annotations

import json
from pathlib import Path

from .base import SINGLE_LABEL, DatasetLayoutError, Example, Task, audio_files, check_split

WHAT = "VocalSound"
LABELS = {"cough": "cough", "laughter": "laughter", "sigh": "sigh", "sneeze": "sneeze", "sniff": "sniff",
          "throatclearing": "throat clearing"}
SPLIT_FILES = {"train": "tr.json", "validation": "val.json", "test": "te.json"}


def parse_label(path: Path) -> str:
    code = path.stem.rsplit("_", 1)[-1]
    if code not in LABELS:
        raise DatasetLayoutError(f"{WHAT}: {path.name} is not named <speaker>_<n>_<label>.wav with a VocalSound label.")
    return LABELS[code]


def read_splits(root: Path) -> dict[str, str]:
    """File name -> split, from the official datafiles (empty when they are absent)."""
    split_of = {}
    for split, file_name in SPLIT_FILES.items():
        listing = root / "datafiles" / file_name
        if not listing.is_file():
            continue
        try:
            entries = json.loads(listing.read_text(encoding="utf-8"))["data"]
            split_of.update({Path(entry["wav"]).name: split for entry in entries})
        except (ValueError, KeyError, TypeError) as exc:
            raise DatasetLayoutError(f"{WHAT}: {listing} is not a {{'data': [{{'wav': ...}}]}} list ({exc}).") from None
    return split_of


def load(data_dir, split: str | None = None) -> list[Example]:
    """Every recording with its official split ("train", "validation", "test")."""
    check_split(split, SPLIT_FILES, WHAT)
    root = Path(data_dir)
    audio = next((root / name for name in ("audio_16k", "audio_44k") if (root / name).is_dir()), None)
    if audio is None:
        raise DatasetLayoutError(f"{WHAT}: no audio_16k/ (or audio_44k/) under {root}; point --data at the extracted release.")
    split_of = read_splits(root)
    if split and not split_of:
        raise DatasetLayoutError(f"{WHAT}: no datafiles/{SPLIT_FILES[split]} under {root}; the official split is needed.")
    examples = [Example(str(p.resolve()), (parse_label(p),), split_of.get(p.name)) for p in audio_files(audio)]
    return [e for e in examples if split is None or e.fold == split]


TASK = Task(
    name="vocalsound",
    title="Vocal Sound",
    kind=SINGLE_LABEL,
    load=load,
    classes=tuple(LABELS.values()),
    protocol="splits",
    train_split="train",
    test_split="test",
    folds_note="the dataset's speaker-independent split (datafiles/tr.json, te.json)",
    default_dirs=("vocalsound", "VocalSound", "vs_release_16k"),
)
