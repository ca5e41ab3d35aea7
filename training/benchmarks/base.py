"""What every benchmark adapter returns: examples, and the task they belong to.

An adapter reads one downstream dataset exactly as it is distributed (its folders, its metadata
file in its own column format) and turns it into `Example`s. It never decodes audio: that is the
evaluator's job (through clapsearch.audio), so adapters stay fast and testable on tiny fixtures.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from clapsearch.audio.formats import AUDIO_EXTENSIONS
from clapsearch.errors import ClapsearchError

# Task kinds: which zero-shot rule and which metric apply.
SINGLE_LABEL = "single-label"  # softmax over classes, accuracy
MULTI_LABEL = "multi-label"  # sigmoid per class, mean average precision
RETRIEVAL = "retrieval"  # text <-> audio, recall@k and mAP@10

SOUND_PROMPT = "This is a sound of {}"  # the paper's prompt for every task but the three below
EMOTION_PROMPT = "this person is feeling {}"
KEYWORD_PROMPT = "{}"  # keyword spotting: the keyword itself
COUNT_PROMPT = "{} persons speaking"


class DatasetLayoutError(ClapsearchError):
    """A dataset directory does not look the way the dataset is distributed."""


@dataclass(frozen=True)
class Example:
    path: str  # absolute path of the audio file
    labels: tuple[str, ...] = ()  # class names (one for single-label tasks)
    fold: str | None = None  # cross-validation fold or split name the dataset assigns
    captions: tuple[str, ...] = ()  # retrieval tasks: every caption of the clip


@dataclass(frozen=True)
class Task:
    """One benchmark task: a dataset read by `load`, a kind, a class list and a prompt."""

    name: str  # the --task name, e.g. "esc50"
    title: str  # how the paper names it, e.g. "ESC-50"
    kind: str  # SINGLE_LABEL | MULTI_LABEL | RETRIEVAL
    load: Callable[..., list[Example]]  # load(data_dir, split=None) -> examples
    classes: tuple[str, ...] = ()  # every class name, in a fixed order (empty for retrieval)
    prompt: str = SOUND_PROMPT
    # How the supervised protocols split the data:
    #   "folds": cross-validation over Example.fold (every clip is tested once);
    #   "splits": train on `train_split`, test on `test_split`.
    protocol: str = "folds"
    train_split: str | None = None
    test_split: str | None = None  # also the split zero-shot reports on (None = every clip)
    folds_note: str = ""  # where the folds come from (the dataset's own, or our documented rule)
    default_dirs: tuple[str, ...] = ()  # directory names `--suite` looks for under a data root
    extra: dict = field(default_factory=dict)

    def prompts(self) -> list[str]:
        return [self.prompt.format(name) for name in self.classes]

    def class_index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}


# ---- helpers shared by the adapters -----------------------------------------------------------


def require_dir(path: Path, what: str, hint: str) -> Path:
    if not path.is_dir():
        raise DatasetLayoutError(f"{what}: no directory {path}; {hint}")
    return path


def require_file(path: Path, what: str, hint: str) -> Path:
    if not path.is_file():
        raise DatasetLayoutError(f"{what}: no file {path}; {hint}")
    return path


def first_existing(candidates: Iterable[Path]) -> Path | None:
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return None


def read_csv_rows(path: Path, required: Iterable[str], what: str) -> list[dict[str, str]]:
    """Rows of a CSV with a header, checking that the columns the dataset defines are there."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [name for name in required if name not in (reader.fieldnames or [])]
        if missing:
            raise DatasetLayoutError(
                f"{what}: {path} lacks the column(s) {', '.join(missing)}; is this the file as distributed?"
            )
        return list(reader)


def audio_files(directory: Path, extra_extensions: Iterable[str] = ()) -> list[Path]:
    """Audio files directly inside `directory`, sorted by name (so every run sees the same order)."""
    extensions = AUDIO_EXTENSIONS | set(extra_extensions)
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in extensions)


def check_split(split: str | None, allowed: Iterable[str], what: str) -> None:
    allowed = tuple(allowed)
    if split is not None and split not in allowed:
        raise DatasetLayoutError(f"{what}: unknown split {split!r}; use one of {', '.join(allowed)}.")


def missing_files_error(what: str, directory: Path, count: int, example: str) -> DatasetLayoutError:
    return DatasetLayoutError(
        f"{what}: {count} file(s) named in the metadata are missing under {directory} (e.g. {example}); "
        "extract the dataset's audio there."
    )


def human(label: str) -> str:
    """Class names as the datasets spell them ("chirping_birds") -> words for a prompt."""
    return label.replace("_", " ").strip()


def block_fold(index: int, count: int, folds: int) -> str:
    """Fold of the `index`-th of `count` sorted files when a dataset defines no folds: contiguous
    blocks, so neighbouring files (often the same source or speaker) stay in the same fold."""
    return str(index * folds // max(count, 1) + 1)
