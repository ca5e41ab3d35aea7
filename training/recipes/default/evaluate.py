"""Validation figures on the held-out split, for any way of embedding clips and texts.

- text -> audio: every distinct caption of a validation clip is one query; the clips carrying
  that caption are relevant (identical captions are common: "a kick drum"). R@k = share of
  queries with a relevant clip in the top k. Chance is the expected R@k of a random ranking.
- zero-shot: the classes are the distinct labels of the validation clips, each prompted as
  "This is a sound of {label}."; a clip is right when its best class is one of its labels.
- A clip's vector is the mean of its windows' unit vectors, re-normalised (as the search tool's
  file vectors are).
"""

from __future__ import annotations

import numpy as np
import torch

from .dataset import FeatureSet
from .settings import ZERO_SHOT_TEMPLATE

RECALL_AT = (1, 10)


def normalise(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def head_clip_vectors(heads, data: FeatureSet) -> np.ndarray:
    counts = [len(w) for w in data.windows]
    with torch.inference_mode():
        windows = heads.audio(torch.from_numpy(np.concatenate(data.windows))).numpy()
    bounds = np.cumsum([0] + counts)
    return normalise(np.stack([windows[a:b].mean(0) for a, b in zip(bounds[:-1], bounds[1:])]))


def head_text_fn(heads, text_features):
    def embed(texts: list[str]) -> np.ndarray:
        with torch.inference_mode():
            return heads.text(torch.from_numpy(text_features(texts))).numpy()
    return embed


def text_to_audio(clip_vectors: np.ndarray, data: FeatureSet, embed_text) -> dict:
    query_ids = sorted({c for caps in data.captions for c in caps})
    relevant = np.zeros((len(query_ids), len(data)), dtype=bool)
    row = {c: r for r, c in enumerate(query_ids)}
    for clip, caps in enumerate(data.captions):
        relevant[[row[c] for c in caps], clip] = True
    scores = embed_text([data.texts[c] for c in query_ids]) @ clip_vectors.T
    order = np.argsort(-scores, axis=1, kind="stable")
    hits = np.take_along_axis(relevant, order, axis=1)
    out = {"queries": len(query_ids), "clips": len(data)}
    n_relevant = relevant.sum(1)
    for k in RECALL_AT:
        out[f"R@{k}"] = float(hits[:, :k].any(1).mean())
        out[f"chance_R@{k}"] = float(np.mean([_chance_hit(len(data), r, k) for r in n_relevant]))
    return out


def _chance_hit(n: int, relevant: int, k: int) -> float:
    """P(a random ranking of n clips puts one of `relevant` in the top k)."""
    miss = 1.0
    for i in range(min(k, n)):
        miss *= max(n - relevant - i, 0) / (n - i)
    return 1.0 - miss


def zero_shot(clip_vectors: np.ndarray, data: FeatureSet, embed_text) -> dict:
    classes = sorted({label for labels in data.labels for label in labels})
    rows = [i for i, labels in enumerate(data.labels) if labels]
    if not classes or not rows:
        return {"classes": 0, "clips": 0}
    prompts = [ZERO_SHOT_TEMPLATE.replace("{}", c) for c in classes]
    predicted = np.argmax(clip_vectors[rows] @ embed_text(prompts).T, axis=1)
    correct = [classes[p] in data.labels[i] for p, i in zip(predicted, rows)]
    by_source: dict[str, list[bool]] = {}
    for ok, i in zip(correct, rows):
        by_source.setdefault(data.sources[i], []).append(ok)
    return {
        "classes": len(classes), "clips": len(rows), "accuracy": float(np.mean(correct)),
        "chance": float(np.mean([len(set(data.labels[i])) / len(classes) for i in rows])),
        "by_source": {s: {"clips": len(v), "accuracy": float(np.mean(v))} for s, v in sorted(by_source.items())},
    }


def evaluate_heads(heads, data: FeatureSet, text_features) -> dict:
    heads.eval()
    clips = head_clip_vectors(heads, data)
    embed = head_text_fn(heads, text_features)
    return {"text_to_audio": text_to_audio(clips, data, embed), "zero_shot": zero_shot(clips, data, embed)}


def selection_score(metrics: dict) -> float:
    """What model selection maximises: the mean of text->audio R@10 and zero-shot accuracy."""
    return (metrics["text_to_audio"]["R@10"] + metrics["zero_shot"].get("accuracy", 0.0)) / 2


def macro_zero_shot(metrics: dict) -> float:
    """Zero-shot accuracy averaged over sources (each source counts once, however many clips)."""
    by_source = metrics["zero_shot"].get("by_source", {})
    return float(np.mean([m["accuracy"] for m in by_source.values()])) if by_source else 0.0


def pool_score(metrics: dict) -> float:
    """What selection maximises on the cross-source pool: the mean of text->audio R@10 and the
    per-source mean of zero-shot accuracy. Per source, because two spoken-word sources hold half
    the pool's clips; each kind of recording should count alike."""
    return (metrics["text_to_audio"]["R@10"] + macro_zero_shot(metrics)) / 2


def nearest_caption_transfer(train: FeatureSet, val: FeatureSet, text_features) -> dict:
    """Baseline without trained heads: a validation clip borrows the captions of its nearest
    training clip (cosine of mean tower features) and is searched in MiniLM's own space."""
    def mean_features(data):
        return normalise(np.stack([normalise(w).mean(0) for w in data.windows]))

    nearest = np.argmax(mean_features(val) @ mean_features(train).T, axis=1)
    caption_vectors = normalise(train.text_vectors)
    borrowed = normalise(np.stack([caption_vectors[train.captions[j]].mean(0) for j in nearest]))

    def embed(texts):
        return normalise(text_features(texts))

    return {"text_to_audio": text_to_audio(borrowed, val, embed), "zero_shot": zero_shot(borrowed, val, embed)}
