"""The examples/ walk-through (examples/README.md) as a check of an exported model: for each
query, where its recording ranks among the bundled examples. The examples are held out of
training and validation (their manifest items are split "test"); they are not used to choose
anything, only reported."""

from __future__ import annotations

from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
WALK_THROUGH = {  # query -> the example it should rank first
    "dog barking": "dog_bark.ogg",
    "rain": "rain.ogg",
    "a car engine running": "car_engine.ogg",
    "a snare drum hit": "snare_drum.aiff",
    "a guitar chord": "guitar_chord.ogg",
    "a man speaking": "man_speaking_latin.ogg",
    "a horse": "horse.ogg",
}


def example_vectors(model, folder: Path = EXAMPLES) -> dict[str, np.ndarray]:
    """{file name: pooled file vector} through the indexing pipeline."""
    from clapsearch.audio.pipeline import FileEmbedding, embed_files

    paths = sorted(folder / name for name in set(WALK_THROUGH.values()))
    results = list(embed_files(model, paths, workers=1))
    failed = [r for r in results if not isinstance(r, FileEmbedding)]
    if failed:
        raise RuntimeError(f"could not embed examples: {failed}")
    return {Path(r.path).name: r.pooled for r in results}


def rankings(model, vectors: dict[str, np.ndarray], queries=WALK_THROUGH) -> dict[str, list[str]]:
    """{query: example names, best first}."""
    names = sorted(vectors)
    audio = np.stack([vectors[n] for n in names])
    queries = list(queries)
    scores = np.asarray(model.embed_text(queries)) @ audio.T
    return {q: [names[i] for i in np.argsort(-row, kind="stable")] for q, row in zip(queries, scores)}


def walk_through_report(model_dir: Path) -> dict[str, int]:
    """{query: rank (1 = first) of its example} for the model exported in `model_dir`."""
    from clapsearch.models.exported import load

    model = load(str(model_dir), name="default")
    ranked = rankings(model, example_vectors(model))
    return {q: ranked[q].index(WALK_THROUGH[q]) + 1 for q in WALK_THROUGH}
