"""The recipe's steps after the data: features, split, baselines, training, export, card."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from clapsearch.models import aisfx
from training.data.manifest import read_manifest

from .dataset import build_feature_set, split_of
from .evaluate import evaluate_heads, nearest_caption_transfer, selection_score
from .features import AudioFeatureCache, TextFeatures, clip_key, embed_clips
from .heads import train_heads, untrained_heads
from .settings import model_config
from .tower_weights import converted_tower_state, load_tower

log = logging.getLogger(__name__)
FEATURE_DIR = "features-aisfx-2.3s"


def load_entries(manifest: Path):
    """Manifest entries whose audio exists, with their cache keys."""
    entries, keys = [], []
    for entry in read_manifest(manifest):
        if Path(entry.audio).is_file():
            entries.append(entry)
            keys.append(clip_key(entry))
    return entries, keys


def feature_sets(manifest: Path, cache: Path, settings):
    entries, keys = load_entries(manifest)
    log.info("%d clips in %s", len(entries), manifest)
    tower = load_tower(cache)
    started = time.time()
    audio = embed_clips(entries, tower, AudioFeatureCache(cache / FEATURE_DIR), aisfx.SAMPLE_RATE,
                        round(aisfx.BLOCK_SECONDS * aisfx.SAMPLE_RATE), settings.max_windows_per_clip)
    log.info("audio features of %d clips ready in %.0f s", len(audio), time.time() - started)
    text = TextFeatures(cache / FEATURE_DIR / "minilm.npz", model_config().text)
    splits = [split_of(e, settings.val_share) for e in entries]
    pick = lambda name: ([e for e, s in zip(entries, splits) if s == name], [k for k, s in zip(keys, splits) if s == name])
    train = build_feature_set(*pick("train"), audio, text)
    val = build_feature_set(*pick("val"), audio, text)
    log.info("train %d clips / %d captions, val %d clips / %d captions", len(train), len(train.texts), len(val), len(val.texts))
    return entries, splits, train, val, text


def run(manifest: Path, cache: Path, out: Path, settings) -> dict:
    import torch

    entries, splits, train, val, text = feature_sets(manifest, cache, settings)
    # The heads' matrices are small: one thread beats two that spin-wait on a shared machine.
    torch.set_num_threads(1)
    untrained = evaluate_heads(untrained_heads(settings), val, text)
    transfer = nearest_caption_transfer(train, val, text)
    started = time.time()
    heads, training = train_heads(train, settings, lambda h: selection_score(evaluate_heads(h, val, text)))
    training["seconds"] = round(time.time() - started, 1)
    trained = evaluate_heads(heads, val, text)
    from .card import data_summary, write_card
    from .export import export

    export(converted_tower_state(cache), heads, settings, out)
    report = {
        "validation": {"trained_heads": trained, "untrained_heads": untrained, "nearest_caption_transfer": transfer},
        "training": {**training, "settings": settings.to_dict(), "train_clips": len(train), "val_clips": len(val)},
        "data": data_summary(entries, splits),
    }
    (out / "validation.json").write_text(json.dumps(report, indent=2) + "\n")
    write_card(out, report)
    return report


def evaluate_exported(cache: Path, out: Path, settings) -> dict:
    """The validation figures of the exported heads in `out`, from the cached features."""
    from .export import heads_from_exported

    _entries, _splits, _train, val, text = feature_sets(cache / "manifest.jsonl", cache, settings)
    return evaluate_heads(heads_from_exported(out, settings), val, text)
