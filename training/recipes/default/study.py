"""The heads study (issue 12): every candidate trained on the same cached features, every one
chosen (epochs, blend weight) on the cross-source pool only, and measured on the pool and on
the in-domain split.

Candidates:
- `shipped_v1`: the model in clapsearch/assets/default before this study (its heads on the
  same features; it trained on the pool sources' "train" items, never on the pool's);
- `two_heads`: the paper's audio and text projections into a 512-d joint space;
- `locked_text`: an audio-only projection into MiniLM's own 384-d space (heads.LockedTextHeads);
- `knn_captions`: no heads; a clip borrows the similarity-weighted caption vectors of its k
  nearest training clips (tower features, cosine) and is searched in MiniLM's space;
- `<heads>+knn`: a heads model whose audio vector is blended with the kNN captions' vector
  passed through its own text head: normalise(a * audio + (1 - a) * text(kNN captions));
- for the better head kind, three ablations: `-no_wordnet` (own captions only),
  `-no_synthetic` (data mix without espeak/festival speech and soundfont renders) and
  `-cap300` (at most 300 training clips per source instead of the settings' cap).
"""

from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np
import torch

from .dataset import combine
from .evaluate import (evaluate_heads, head_clip_vectors, head_text_fn, nearest_caption_transfer, normalise,
                       pool_score, selection_score, text_to_audio, zero_shot)
from .heads import train_heads

log = logging.getLogger(__name__)
KNN_K = 10
KNN_TEMPERATURE = 0.05  # softmax over the k neighbours' cosine similarities
BLEND_WEIGHTS = (0.25, 0.5, 0.75)


def mean_tower_features(data) -> np.ndarray:
    return normalise(np.stack([normalise(w).mean(0) for w in data.windows]))


def knn_caption_vectors(train, data, k: int = KNN_K) -> np.ndarray:
    """(len(data), 384): per clip the softmax-weighted mean of its k nearest training clips'
    mean caption vectors (raw MiniLM, as the heads take them)."""
    sims = mean_tower_features(data) @ mean_tower_features(train).T
    top = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    weights = np.exp(np.take_along_axis(sims, top, axis=1) / KNN_TEMPERATURE)
    weights /= weights.sum(1, keepdims=True)
    per_clip = np.stack([train.text_vectors[c].mean(0) for c in train.captions])
    return np.einsum("nk,nkd->nd", weights, per_clip[top]).astype(np.float32)


def metrics(clip_vectors: np.ndarray, data, embed_text) -> dict:
    return {"text_to_audio": text_to_audio(clip_vectors, data, embed_text),
            "zero_shot": zero_shot(clip_vectors, data, embed_text)}


def knn_only(train, data, text) -> dict:
    vectors = normalise(knn_caption_vectors(train, data))
    return metrics(vectors, data, lambda texts: normalise(text(texts)))


def blended(heads, train, data, text, weight: float) -> dict:
    audio = head_clip_vectors(heads, data)
    with torch.inference_mode():
        borrowed = heads.text(torch.from_numpy(knn_caption_vectors(train, data))).numpy()
    vectors = normalise(weight * audio + (1 - weight) * normalise(borrowed))
    return metrics(vectors, data, head_text_fn(heads, text))


# Rendered or synthesised sources: the data-mix variant trains without them.
SYNTHETIC_SOURCES = ("espeak-ng", "festival", "fluid-soundfont-gm", "fluid-soundfont-gs", "timgm6mb-soundfont")


def subset(data, rows: list[int]) -> object:
    """The given rows of a FeatureSet (texts shared)."""
    pick = lambda values: [values[i] for i in rows]
    return dataclasses.replace(data, windows=pick(data.windows), captions=pick(data.captions),
                               labels=pick(data.labels), sources=pick(data.sources), items=pick(data.items))


def first_per_source(data, cap: int) -> object:
    """The first `cap` clips of every source (rows keep the recipe's balanced order, so these
    are the clips a smaller per-source cap would have chosen)."""
    seen: dict[str, int] = {}
    rows = []
    for i, source in enumerate(data.sources):
        seen[source] = seen.get(source, 0) + 1
        if seen[source] <= cap:
            rows.append(i)
    return subset(data, rows)


SMALLER_CAP = 300  # the data-mix variant with fewer clips per source


def train_candidate(sets, settings, train=None) -> tuple[object, dict]:
    """Heads trained on `train` (default sets.train), the epoch chosen on the pool."""
    started = time.time()
    heads, training = train_heads(train if train is not None else sets.train, settings,
                                  lambda h: pool_score(evaluate_heads(h, sets.pool, sets.text)))
    training["seconds"] = round(time.time() - started, 1)
    return heads, training


FINAL_SUFFIX = "+pool_train"
LAST_BLOCK_SUFFIX = "+last_block"  # finetune.py's row: the candidate with aisfx's last block fine-tuned


def variant_set(candidate: str, expanded, plain):
    """The training clips of `candidate` under its variant suffix: `plain` (own captions only) for
    `-no_wordnet`, else `expanded`; synthetic sources dropped for `-no_synthetic`; the first
    SMALLER_CAP clips per source for `-cap300`."""
    train = plain if candidate.endswith("-no_wordnet") else expanded
    if candidate.endswith("-no_synthetic"):
        train = subset(train, [i for i, s in enumerate(train.sources) if s not in SYNTHETIC_SOURCES])
    return first_per_source(train, SMALLER_CAP) if candidate.endswith(f"-cap{SMALLER_CAP}") else train


def final_training_set(sets, candidate: str):
    """The winning candidate's training clips plus the pool sources' "train" items (the same
    variant rules applied): the data v1 trained on, so that the shipped model meets the pool's
    items as v1 did."""
    if candidate.endswith("-no_wordnet"):
        return variant_set(candidate, None, combine(sets.train_plain, sets.unused_plain))
    return variant_set(candidate, combine(sets.train, sets.unused), None)


def train_final(sets, candidate: str, settings, epoch: int) -> tuple[object, dict, object]:
    """The candidate's recipe on final_training_set, kept at the epoch the pool chose for it:
    nothing of the second stage is chosen on the pool, which its data now shares sources with."""
    train = final_training_set(sets, candidate)
    started = time.time()
    heads, training = train_heads(train, settings, lambda h: pool_score(evaluate_heads(h, sets.pool, sets.text)),
                                  keep_epoch=epoch)
    training["seconds"] = round(time.time() - started, 1)
    return heads, training, train


def run_study(sets, settings, shipped_heads=None) -> dict:
    """{candidate: {"pool": metrics, "in_domain": metrics, ...}}, plus the trained heads."""
    results, trained = {}, {}
    if shipped_heads is not None:
        results["shipped_v1"] = _both(lambda d: evaluate_heads(shipped_heads, d, sets.text), sets)
    results["nearest_caption_transfer"] = _both(lambda d: nearest_caption_transfer(sets.train, d, sets.text), sets)
    results["knn_captions"] = _both(lambda d: knn_only(sets.train, d, sets.text), sets)
    for kind in ("two_heads", "locked_text"):
        kind_settings = dataclasses.replace(settings, head_kind=kind)
        heads, training = train_candidate(sets, kind_settings)
        trained[kind] = (heads, kind_settings, training)
        results[kind] = {**_both(lambda d: evaluate_heads(heads, d, sets.text), sets),
                         "best_epoch": training["best_epoch"], "seconds": training["seconds"]}
        log.info("%s: pool %.4f", kind, pool_score(results[kind]["pool"]))
        weight = max(BLEND_WEIGHTS, key=lambda w: pool_score(blended(heads, sets.train, sets.pool, sets.text, w)))
        results[f"{kind}+knn"] = {**_both(lambda d: blended(heads, sets.train, d, sets.text, weight), sets),
                                  "blend_weight": weight}
    best = max(("two_heads", "locked_text"), key=lambda k: pool_score(results[k]["pool"]))
    for name in (f"{best}-no_wordnet", f"{best}-no_synthetic", f"{best}-cap{SMALLER_CAP}"):
        train = variant_set(name, sets.train, sets.train_plain)
        kind_settings = dataclasses.replace(settings, head_kind=best, wordnet_expansion="no_wordnet" not in name)
        heads, training = train_candidate(sets, kind_settings, train)
        trained[name] = (heads, kind_settings, training)
        results[name] = {**_both(lambda d: evaluate_heads(heads, d, sets.text), sets),
                         "best_epoch": training["best_epoch"], "seconds": training["seconds"], "train_clips": len(train)}
        log.info("%s: pool %.4f", name, pool_score(results[name]["pool"]))
    for name, row in results.items():
        row["pool_score"] = pool_score(row["pool"])
        row["in_domain_score"] = selection_score(row["in_domain"])
    return {"results": results, "trained": trained}


def _both(evaluate, sets) -> dict:
    return {"pool": evaluate(sets.pool), "in_domain": evaluate(sets.val)}
