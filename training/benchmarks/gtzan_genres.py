"""GTZAN genres (Tzanetakis & Cook 2002): 1,000 30-s excerpts, 10 genres, 100 each.

Layout as distributed: `genres/<genre>/<genre>.000NN.au` (the original tarball), or the common wav
re-distribution `genres_original/<genre>/<genre>.000NN.wav` (also under `Data/`). GTZAN defines no
folds. For the supervised protocols we use 10 folds of consecutive track numbers per genre
(tracks 00000-00009 -> fold 1, ...): neighbouring tracks often share an artist, so blocks leak less
than interleaved folds. This is not the artist-filtered ("fault-filtered") split of Sturm/Kereliuk.
"""

from __future__ import annotations

from pathlib import Path

from .base import SINGLE_LABEL, DatasetLayoutError, Example, Task, audio_files, block_fold, check_split
from .labels import bundled_classes

WHAT = "GTZAN genres"
GENRES = bundled_classes("GTZAN_class_labels.json")
FOLDS = tuple(str(i) for i in range(1, 11))
LAYOUTS = ("", "genres", "genres_original", "Data/genres_original", "gtzan/genres")


def find_genre_root(root: Path) -> Path:
    for sub in LAYOUTS:
        candidate = root / sub if sub else root
        if all((candidate / genre).is_dir() for genre in GENRES):
            return candidate
    raise DatasetLayoutError(
        f"{WHAT}: no directory with the ten genre folders ({', '.join(GENRES)}) under {root}; "
        "point --data at the extracted GTZAN directory (genres/ or genres_original/)."
    )


def load(data_dir, split: str | None = None) -> list[Example]:
    """Every excerpt with its block fold; `split` = a fold number keeps only that fold."""
    check_split(split, FOLDS, WHAT)
    genre_root = find_genre_root(Path(data_dir))
    examples = []
    for genre in GENRES:
        files = audio_files(genre_root / genre, extra_extensions=(".au",))  # libsndfile reads Sun .au
        if not files:
            raise DatasetLayoutError(f"{WHAT}: {genre_root / genre} holds no audio files; is the extraction complete?")
        for index, path in enumerate(files):
            examples.append(Example(str(path.resolve()), (genre,), block_fold(index, len(files), 10)))
    return [e for e in examples if split is None or e.fold == split]


TASK = Task(
    name="gtzan-genres",
    title="GTZAN Genres",
    kind=SINGLE_LABEL,
    load=load,
    classes=GENRES,
    protocol="folds",
    folds_note="none defined by GTZAN: 10 folds of consecutive tracks per genre (ours)",
    default_dirs=("GTZAN", "gtzan", "genres", "gtzan_genres"),
)
