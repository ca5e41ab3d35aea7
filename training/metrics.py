"""Benchmark metrics on embedding matrices (numpy only, no model needed).

All vectors are L2-normalised, so a dot product is the cosine similarity. Rankings sort by
similarity, highest first; ties keep index order (a stable sort), so results never vary run to run.

Retrieval convention (AudioCaps and Clotho have ~5 captions per clip):
- text -> audio: every caption is one query with exactly one relevant clip (its own).
  R@k = share of captions whose clip ranks in the top k; mAP@10 = mean of 1/rank when rank <= 10
  (average precision at 10 with one relevant item), else 0.
- audio -> text: every clip is one query and all of its captions are relevant.
  R@k = share of clips with at least one of their captions in the top k (the usual convention);
  mAP@10 = mean over clips of AP@10 = sum over the top 10 of precision@i at each relevant hit,
  divided by min(number of relevant captions, 10). (LAION-CLAP's a2t "mAP@10" is instead 1/rank of
  the first relevant caption; ours also reports that as a2t_MRR@10 for comparison.)
"""

from __future__ import annotations

import numpy as np

RECALL_AT = (1, 5, 10)


def _as_matrix(vectors) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"expected a (rows, dim) matrix, got shape {array.shape}")
    return array


def ranking(scores: np.ndarray) -> np.ndarray:
    """Column indices of each row, best score first (stable on ties)."""
    return np.argsort(-scores, axis=1, kind="stable")


def zero_shot_scores(audio_vecs, class_text_vecs) -> np.ndarray:
    """(N, C) cosine similarities of N clips to C class prompts."""
    return _as_matrix(audio_vecs) @ _as_matrix(class_text_vecs).T


def zero_shot_probabilities(audio_vecs, class_text_vecs, logit_scale: float, multi_label: bool) -> np.ndarray:
    """Softmax over classes (single-label) or a sigmoid per class (multi-label) of scale * cosine."""
    logits = logit_scale * zero_shot_scores(audio_vecs, class_text_vecs)
    if multi_label:
        return 1.0 / (1.0 + np.exp(-logits))
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    return weights / weights.sum(axis=1, keepdims=True)


def accuracy(scores, targets) -> float:
    """Share of rows whose highest score is at the target column (first column on ties)."""
    scores, targets = np.asarray(scores), np.asarray(targets)
    if len(targets) == 0:
        raise ValueError("accuracy of an empty set is undefined")
    return float(np.mean(np.argmax(scores, axis=1) == targets))


def zero_shot_accuracy(audio_vecs, class_text_vecs, targets) -> float:
    """Single-label zero-shot accuracy; `targets` are class indices. The softmax and the logit
    scale do not change the arg-max, so the cosine decides."""
    return accuracy(zero_shot_scores(audio_vecs, class_text_vecs), targets)


def average_precision(scores, relevant) -> float:
    """Non-interpolated AP of one ranking: mean of precision at each relevant item (nan if none)."""
    relevant = np.asarray(relevant, dtype=bool)
    if not relevant.any():
        return float("nan")
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    hits = relevant[order]
    precision_at = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(precision_at[hits].mean())


def mean_average_precision(scores, targets) -> float:
    """Macro mAP: AP per class over all clips, averaged over the classes that have a positive."""
    scores, targets = np.asarray(scores), np.asarray(targets, dtype=bool)
    per_class = [average_precision(scores[:, c], targets[:, c]) for c in range(targets.shape[1]) if targets[:, c].any()]
    if not per_class:
        raise ValueError("mAP needs at least one positive label")
    return float(np.mean(per_class))


def zero_shot_map(audio_vecs, class_text_vecs, targets) -> float:
    """Multi-label zero-shot mAP; `targets` is an (N, C) 0/1 matrix. The sigmoid is monotonic per
    class, so ranking clips by cosine gives the same AP."""
    return mean_average_precision(zero_shot_scores(audio_vecs, class_text_vecs), targets)


def _first_hit_ranks(order: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """1-based rank of the first relevant column per row (`relevant` is a row-aligned bool matrix)."""
    hits = np.take_along_axis(relevant, order, axis=1)
    return np.argmax(hits, axis=1) + 1


def _ap_at(order: np.ndarray, relevant: np.ndarray, k: int) -> np.ndarray:
    hits = np.take_along_axis(relevant, order[:, :k], axis=1).astype(np.float64)
    precision = np.cumsum(hits, axis=1) / np.arange(1, hits.shape[1] + 1)
    return (precision * hits).sum(axis=1) / np.minimum(relevant.sum(axis=1), k)


def retrieval_metrics(audio_vecs, text_vecs, audio_for_text) -> dict[str, float]:
    """Text->audio and audio->text R@1, R@5, R@10 and mAP@10 (see the module docstring).

    `audio_for_text[j]` is the row of `audio_vecs` that caption j describes; every clip needs at
    least one caption.
    """
    audio, text = _as_matrix(audio_vecs), _as_matrix(text_vecs)
    owner = np.asarray(audio_for_text, dtype=np.int64)
    if owner.shape != (len(text),) or owner.min(initial=0) < 0 or owner.max(initial=0) >= len(audio):
        raise ValueError("audio_for_text must give, for every caption, a row of audio_vecs")
    if len(np.unique(owner)) != len(audio):
        raise ValueError("every clip needs at least one caption")
    similarity = text @ audio.T  # (captions, clips)
    relevant = owner[:, None] == np.arange(len(audio))[None, :]

    t2a_rank = _first_hit_ranks(ranking(similarity), relevant)
    a2t_order = ranking(similarity.T)
    a2t_rank = _first_hit_ranks(a2t_order, relevant.T)
    result = {}
    for k in RECALL_AT:
        result[f"t2a_R@{k}"] = float(np.mean(t2a_rank <= k))
    result["t2a_mAP@10"] = float(np.mean(np.where(t2a_rank <= 10, 1.0 / t2a_rank, 0.0)))
    for k in RECALL_AT:
        result[f"a2t_R@{k}"] = float(np.mean(a2t_rank <= k))
    result["a2t_mAP@10"] = float(np.mean(_ap_at(a2t_order, relevant.T, 10)))
    result["a2t_MRR@10"] = float(np.mean(np.where(a2t_rank <= 10, 1.0 / a2t_rank, 0.0)))
    return result
