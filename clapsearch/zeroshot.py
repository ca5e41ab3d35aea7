"""Zero-shot scores as in the CLAP paper: cosine similarity times the model's logit scale, then a
softmax across the labels (one label per clip) or a sigmoid per label (several labels may hold).
"""

from __future__ import annotations

import numpy as np

from .errors import ClapsearchError

DEFAULT_TEMPLATE = "This is a sound of {}."


def prompts(labels: list[str], template: str = DEFAULT_TEMPLATE) -> list[str]:
    if "{}" not in template:
        raise ClapsearchError(f"The template {template!r} has no {{}} for the label; write e.g. {DEFAULT_TEMPLATE!r}.")
    return [template.replace("{}", label) for label in labels]


def scores(audio: np.ndarray, text: np.ndarray, logit_scale: float, multi_label: bool = False) -> np.ndarray:
    """(N, dim) audio and (L, dim) text vectors, L2-normalised -> (N, L) scores in [0, 1]."""
    logits = float(logit_scale) * (np.asarray(audio, np.float64) @ np.asarray(text, np.float64).T)
    if multi_label:
        return 1.0 / (1.0 + np.exp(-logits))
    logits -= logits.max(axis=1, keepdims=True)  # stable softmax
    weights = np.exp(logits)
    return weights / weights.sum(axis=1, keepdims=True)


def top_labels(row: np.ndarray, labels: list[str], top: int) -> list[dict]:
    """The `top` best labels of one row, best first ({"label", "score"}); top 0 = every label."""
    order = np.argsort(-row, kind="stable")
    if top > 0:
        order = order[:top]
    return [{"label": labels[i], "score": round(float(row[i]), 6)} for i in order]


def pool(vectors: np.ndarray) -> np.ndarray:
    """The mean of window vectors, re-normalised: one vector for a whole file or excerpt."""
    mean = np.asarray(vectors, np.float32).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 0 else mean
