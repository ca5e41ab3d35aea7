"""Benchmark task names -> adapter modules (imported only when a task is used)."""

from __future__ import annotations

import importlib
from pathlib import Path

from clapsearch.errors import ClapsearchError

from .base import Task

TASK_MODULES = {
    "esc50": "esc50",
    "us8k": "urbansound8k",
    "gtzan-genres": "gtzan_genres",
    "gtzan-music-speech": "gtzan_music_speech",
    "fsd50k": "fsd50k",
    "tut2017": "tut2017",
    "crema-d": "crema_d",
    "ravdess": "ravdess",
    "vocalsound": "vocalsound",
    "speech-commands": "speech_commands",
    "nsynth": "nsynth",
    "libricount": "libricount",
    "audiocaps": "audiocaps",
    "clotho": "clotho",
}


class UnknownTaskError(ClapsearchError):
    """A --task name that no adapter handles."""


def task_names() -> list[str]:
    return list(TASK_MODULES)


def get_task(name: str) -> Task:
    if name not in TASK_MODULES:
        raise UnknownTaskError(f"Unknown task {name!r}; choose one of: {', '.join(TASK_MODULES)}.")
    return importlib.import_module(f"{__package__}.{TASK_MODULES[name]}").TASK


def find_present(root) -> list[tuple[Task, Path]]:
    """(task, directory) for every task whose data directory (one of its default names) is under `root`."""
    root = Path(root)
    present = []
    for name in TASK_MODULES:
        task = get_task(name)
        directory = next((root / d for d in task.default_dirs if (root / d).is_dir()), None)
        if directory is not None:
            present.append((task, directory))
    return present
