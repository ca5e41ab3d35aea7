"""Evaluate any model clapsearch loads on a benchmark task, with the paper's protocols.

    zero-shot   single-label: softmax over the class prompts (accuracy);
                multi-label: a sigmoid per class (mAP); retrieval: text<->audio R@k and mAP@10.
    probe-l1    "Freeze L1": frozen audio embedding + 1 FC layer, Adam lr 1e-3, 30 epochs.
    probe-l3    "Freeze L3": the same with 3 FC layers.
    finetune    the audio encoder unfrozen, Adam lr 1e-4, 30 epochs (needs a torch module).

Every protocol uses one vector per clip: the pooled vector of the deterministic windows that the
search tool indexes (training/embed_cache.py caches them per model fingerprint and file). The
supervised protocols cross-validate over the folds a dataset defines (ESC-50: 5, UrbanSound8K: 10)
and otherwise train on its train split and test on its test split (see each adapter's folds_note).
Zero-shot reports on the task's test split, or on every clip when the dataset has folds.

The metric functions (zero_shot_accuracy, zero_shot_map, retrieval_metrics) live in
training/metrics.py and are re-exported here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from clapsearch.errors import ClapsearchError

from .benchmarks.base import MULTI_LABEL, RETRIEVAL, DatasetLayoutError, Example, Task
from .embed_cache import embed_clips, embed_texts
from .metrics import (accuracy, mean_average_precision, retrieval_metrics, zero_shot_accuracy, zero_shot_map,
                      zero_shot_probabilities)
from .probe import (EPOCHS, FINETUNE_LR, PROBE_LR, CannotFineTuneError, ProbeSettings, fine_tune, head_scores,
                    train_probe)

__all__ = ["EvalOptions", "evaluate_task", "zero_shot", "retrieval", "supervised", "zero_shot_accuracy",
           "zero_shot_map", "retrieval_metrics", "zero_shot_probabilities", "PROTOCOLS"]

PROTOCOLS = ("zero-shot", "probe-l1", "probe-l3", "finetune")
log = logging.getLogger(__name__)


class NotApplicableError(ClapsearchError):
    """A protocol that does not apply to a task (probes on a retrieval benchmark)."""


@dataclass
class EvalOptions:
    cache_dir: str | Path | None = None  # embedding cache (default: the user cache directory)
    epochs: int = EPOCHS  # the paper's 30; tests use fewer
    batch_size: int = 64
    seed: int = 0
    hop_seconds: float | None = None  # window hop for long clips (None = the pipeline's default)
    workers: int = 2


@dataclass
class Embedded:
    """The clips that embedded, their vectors, and the paths that failed to decode."""

    examples: list[Example]
    vectors: np.ndarray
    failures: dict[str, str] = field(default_factory=dict)


def embed_examples(model, examples: list[Example], options: EvalOptions) -> Embedded:
    if not examples:
        raise DatasetLayoutError("The dataset split to evaluate holds no clips; check --data and the split.")
    result = embed_clips(model, [e.path for e in examples], options.cache_dir, hop_seconds=options.hop_seconds,
                         workers=options.workers)
    kept = [e for e in examples if e.path in result.vectors]
    if result.failures:
        first = next(iter(result.failures.items()))
        log.warning("%d clip(s) could not be decoded and are left out (e.g. %s: %s)", len(result.failures), *first)
    if not kept:
        raise DatasetLayoutError(f"No clip of the split could be decoded (e.g. {first[0]}: {first[1]}).")
    return Embedded(kept, result.matrix([e.path for e in kept]), result.failures)


def class_targets(task: Task, examples: list[Example]):
    """Class indices (single-label) or an (N, C) 0/1 matrix (multi-label)."""
    index = task.class_index()
    if task.kind == MULTI_LABEL:
        targets = np.zeros((len(examples), len(task.classes)), dtype=np.float32)
        for row, example in enumerate(examples):
            targets[row, [index[label] for label in example.labels]] = 1.0
        return targets
    return np.array([index[example.labels[0]] for example in examples], dtype=np.int64)


def score(task: Task, scores: np.ndarray, targets) -> float:
    return mean_average_precision(scores, targets) if task.kind == MULTI_LABEL else accuracy(scores, targets)


def metric_name(task: Task) -> str:
    return "mAP" if task.kind == MULTI_LABEL else "accuracy"


# ---- protocols ------------------------------------------------------------------------------


def zero_shot(model, task: Task, examples: list[Example], options: EvalOptions) -> dict:
    """Zero-shot classification with the task's prompt; scores are the softmax/sigmoid of
    logit_scale * cosine, which rank exactly as the cosine does."""
    if task.kind == RETRIEVAL:
        return retrieval(model, examples, options)
    embedded = embed_examples(model, examples, options)
    class_vecs = embed_texts(model, task.prompts())
    probabilities = zero_shot_probabilities(embedded.vectors, class_vecs, model.logit_scale, task.kind == MULTI_LABEL)
    value = score(task, probabilities, class_targets(task, embedded.examples))
    return {"metric": metric_name(task), "value": value, "clips": len(embedded.examples),
            "failed": len(embedded.failures)}


def retrieval(model, examples: list[Example], options: EvalOptions) -> dict:
    """Text->audio and audio->text retrieval over every caption of every clip."""
    embedded = embed_examples(model, examples, options)
    captions, owner = [], []
    for row, example in enumerate(embedded.examples):
        captions += example.captions
        owner += [row] * len(example.captions)
    metrics = retrieval_metrics(embedded.vectors, embed_texts(model, captions), owner)
    return {"metric": "t2a_R@1", "value": metrics["t2a_R@1"], "metrics": metrics, "clips": len(embedded.examples),
            "captions": len(captions), "failed": len(embedded.failures)}


def train_test_pairs(task: Task, data_dir) -> list[tuple[str, list[Example], list[Example]]]:
    """(name, train, test) per fold, or the one (train split, test split) pair."""
    if task.protocol == "splits":
        return [(task.test_split, task.load(data_dir, split=task.train_split), task.load(data_dir, split=task.test_split))]
    examples = task.load(data_dir)
    folds = sorted({e.fold for e in examples}, key=lambda f: (len(f), f))
    if len(folds) < 2:
        raise DatasetLayoutError(f"{task.title}: cross-validation needs at least 2 folds, found {len(folds)}.")
    return [(fold, [e for e in examples if e.fold != fold], [e for e in examples if e.fold == fold]) for fold in folds]


def _subset(embedded: Embedded, examples: list[Example]) -> Embedded:
    row_of = {e.path: row for row, e in enumerate(embedded.examples)}
    kept = [e for e in examples if e.path in row_of]
    return Embedded(kept, embedded.vectors[[row_of[e.path] for e in kept]])


def _fit_and_score(model, task: Task, protocol: str, train: Embedded, test: Embedded, options: EvalOptions) -> float:
    classes, multi = len(task.classes), task.kind == MULTI_LABEL
    train_y, test_y = class_targets(task, train.examples), class_targets(task, test.examples)
    if protocol == "finetune":
        settings = ProbeSettings(options.epochs, FINETUNE_LR, options.batch_size, options.seed)
        audio_model, head = fine_tune(model, [e.path for e in train.examples], train_y, classes, multi, settings)
        tuned = embed_clips(audio_model, [e.path for e in test.examples], options.cache_dir,
                            hop_seconds=options.hop_seconds, workers=options.workers, cache=False)
        return score(task, head_scores(head, tuned.matrix([e.path for e in test.examples])), test_y)
    settings = ProbeSettings(options.epochs, PROBE_LR, options.batch_size, options.seed)
    head = train_probe(train.vectors, train_y, classes, 1 if protocol == "probe-l1" else 3, multi, settings)
    return score(task, head_scores(head, test.vectors), test_y)


def supervised(model, task: Task, data_dir, protocol: str, options: EvalOptions) -> dict:
    """A probe or fine-tuning run over the task's folds (mean over folds) or its train/test split."""
    if task.kind == RETRIEVAL:
        raise NotApplicableError(f"{task.title} is a retrieval benchmark; only the zero-shot protocol applies to it.")
    pairs = train_test_pairs(task, data_dir)
    every_clip = list({e.path: e for _, train, test in pairs for e in train + test}.values())
    embedded = embed_examples(model, every_clip, options)  # once: the folds share the vectors
    per_fold, clips = {}, 0
    for name, train, test in pairs:
        train_embedded, test_embedded = _subset(embedded, train), _subset(embedded, test)
        if not train_embedded.examples or not test_embedded.examples:
            raise DatasetLayoutError(f"{task.title}: fold/split {name!r} leaves no clip to train or test on.")
        per_fold[name] = _fit_and_score(model, task, protocol, train_embedded, test_embedded, options)
        clips += len(test_embedded.examples)
    return {"metric": metric_name(task), "value": float(np.mean(list(per_fold.values()))), "folds": per_fold,
            "clips": clips, "failed": len(embedded.failures), "epochs": options.epochs}


def zero_shot_examples(task: Task, data_dir) -> list[Example]:
    return task.load(data_dir, split=task.test_split) if task.protocol == "splits" else task.load(data_dir)


def run_protocol(model, task: Task, data_dir, protocol: str, options: EvalOptions) -> dict:
    if protocol == "zero-shot":
        return zero_shot(model, task, zero_shot_examples(task, data_dir), options)
    return supervised(model, task, data_dir, protocol, options)


def evaluate_task(model, task: Task, data_dir, protocols=("zero-shot",), options: EvalOptions | None = None) -> dict:
    """Run `protocols` on one task; returns {"task", "title", "model", "fingerprint", "results": {protocol: {...}}}.

    A protocol that cannot run here (a retrieval task has no probes; a backend without a torch
    module cannot be fine-tuned) gets {"error": sentence} and the other protocols still run.
    """
    options = options or EvalOptions()
    unknown = [p for p in protocols if p not in PROTOCOLS]
    if unknown:
        raise ValueError(f"unknown protocol(s) {unknown}; choose from {', '.join(PROTOCOLS)}")
    results = {}
    for protocol in protocols:
        try:
            results[protocol] = run_protocol(model, task, data_dir, protocol, options)
        except (CannotFineTuneError, NotApplicableError) as exc:
            results[protocol] = {"error": str(exc)}
    return {"task": task.name, "title": task.title, "model": model.name, "fingerprint": model.fingerprint,
            "data": str(data_dir), "results": results}
