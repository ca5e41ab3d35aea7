"""The cached-feature dataset: one row per clip with its window features and caption ids."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np


@dataclass
class FeatureSet:
    windows: list[np.ndarray]  # per clip: (n_windows, 512) tower features
    captions: list[list[int]]  # per clip: indices into `texts`
    labels: list[list[str]]
    sources: list[str]
    items: list[str]
    texts: list[str] = field(default_factory=list)
    text_vectors: np.ndarray | None = None  # (len(texts), 384) MiniLM embeddings

    def __len__(self) -> int:
        return len(self.windows)


def split_of(entry, val_share: float, pool_sources=(), pool_all_items=()) -> str:
    """"test" stays test; a pool source's clips are "pool" (its "val" items, or all items of a
    source in `pool_all_items`) or "unused" (never trained on either); else the manifest's
    split, else a stable hash of the source item (never splits one item)."""
    if entry.split == "test":
        return "test"
    if pool_sources and entry.source in pool_sources:
        return "pool" if entry.split == "val" or entry.source in pool_all_items else "unused"
    if entry.split in ("train", "val"):
        return entry.split
    digest = int(hashlib.sha1(entry.item.encode()).hexdigest()[:8], 16)
    return "val" if digest / 0xFFFFFFFF < val_share else "train"


def build_feature_set(entries, keys, audio_features: dict, text_features) -> FeatureSet:
    """Rows for the entries whose audio could be embedded, with their captions embedded."""
    rows = [(e, k) for e, k in zip(entries, keys) if k in audio_features]
    texts = sorted({c for e, _ in rows for c in e.captions})
    index = {t: i for i, t in enumerate(texts)}
    return FeatureSet(
        windows=[audio_features[k] for _, k in rows],
        captions=[[index[c] for c in e.captions] for e, _ in rows],
        labels=[list(e.labels) for e, _ in rows],
        sources=[e.source for e, _ in rows],
        items=[e.item for e, _ in rows],
        texts=texts,
        text_vectors=text_features(texts),
    )


def combine(first: FeatureSet, second: FeatureSet) -> FeatureSet:
    """The rows of both sets in order, their caption texts merged (ids re-indexed)."""
    texts = sorted(set(first.texts) | set(second.texts))
    index = {t: i for i, t in enumerate(texts)}
    vectors = {t: v for data in (first, second) for t, v in zip(data.texts, data.text_vectors)}

    def captions(data: FeatureSet) -> list[list[int]]:
        return [[index[data.texts[c]] for c in row] for row in data.captions]

    return FeatureSet(
        windows=first.windows + second.windows,
        captions=captions(first) + captions(second),
        labels=first.labels + second.labels,
        sources=first.sources + second.sources,
        items=first.items + second.items,
        texts=texts,
        text_vectors=np.stack([vectors[t] for t in texts]) if texts else np.zeros((0, 384), np.float32),
    )
