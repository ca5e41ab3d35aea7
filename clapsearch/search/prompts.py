"""Prompt ensembles (CLIP's practice): a text query is embedded under several templates and the
vectors averaged, which smooths over one phrasing the model happens to dislike. Measured on
benchmarks/search_quality.py (docs/ranking.md): MRR 0.226 -> 0.243 with the length-fair ranking."""

from __future__ import annotations

import numpy as np

TEMPLATES = ("This is a sound of {}.", "{}", "the sound of {}", "a recording of {}", "{} can be heard")


def ensemble_texts(text: str, templates=TEMPLATES) -> list[str]:
    return [template.replace("{}", text) for template in templates]


def mean_unit(vectors: np.ndarray) -> np.ndarray:
    """The mean of row vectors, re-normalised."""
    mean = np.asarray(vectors, np.float32).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 0 else mean
