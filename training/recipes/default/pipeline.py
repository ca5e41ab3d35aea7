"""The recipe's steps after the data: features, split, baselines, training, export, card."""

from __future__ import annotations

import hashlib
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


def _stable_rank(entry) -> str:
    return hashlib.sha1(f"{entry.item}|{entry.audio}|{entry.start}".encode()).hexdigest()


def balanced_order(entries, splits, max_train: int | None, max_val: int | None) -> list[int]:
    """Indices to embed: validation clips, then training clips taking turns across sources
    ("test" clips, such as the bundled examples, are left out entirely);
    each source in a fixed hash order with its labels taking turns, capped at `max_val` / `max_train`
    clips (None: all).

    Embedding is the slow step on a shared CPU; this order means any prefix is balanced over
    sources, and the caps make the clip set a deterministic function of the manifest.
    """
    def per_source(split: str, cap: int | None) -> dict[str, list[int]]:
        rows = sorted((i for i, s in enumerate(splits) if s == split),
                      key=lambda i: _stable_rank(entries[i]))
        by_source: dict[str, list[int]] = {}
        for i in rows:
            by_source.setdefault(entries[i].source, []).append(i)
        by_source = {s: _labels_take_turns(entries, r) for s, r in by_source.items()}
        return {s: r[:cap] if cap is not None else r for s, r in sorted(by_source.items())}

    def take_turns(by_source: dict[str, list[int]]) -> list[int]:
        longest = max(map(len, by_source.values()), default=0)
        return [rows[k] for k in range(longest) for rows in by_source.values() if k < len(rows)]

    return take_turns(per_source("val", max_val)) + take_turns(per_source("train", max_train))


def _labels_take_turns(entries, rows: list[int]) -> list[int]:
    """`rows` reordered so that each label's first clip comes before any label's second clip:
    a capped source then contributes as many different sounds as it can, not 200 takes of one."""
    seen: dict[str, int] = {}
    turn = {}
    for i in rows:
        label = (entries[i].labels or entries[i].captions)[0]
        turn[i] = seen.get(label, 0)
        seen[label] = turn[i] + 1
    return sorted(rows, key=lambda i: turn[i])  # stable: hash order within a turn


def feature_sets(manifest: Path, cache: Path, settings, cached_only: bool = False):
    entries, keys = load_entries(manifest)
    splits = [split_of(e, settings.val_share) for e in entries]
    order = balanced_order(entries, splits, settings.max_train_clips_per_source, settings.max_val_clips_per_source)
    entries, keys, splits = [entries[i] for i in order], [keys[i] for i in order], [splits[i] for i in order]
    log.info("%d clips in %s", len(entries), manifest)
    feature_cache = AudioFeatureCache(cache / FEATURE_DIR)
    if cached_only:
        keep = [i for i, k in enumerate(keys) if feature_cache.path(k).is_file()]
        entries, keys, splits = [entries[i] for i in keep], [keys[i] for i in keep], [splits[i] for i in keep]
        log.info("--cached-only: %d clips have cached features", len(entries))
    tower = load_tower(cache)
    started = time.time()
    audio = embed_clips(entries, tower, feature_cache, aisfx.SAMPLE_RATE,
                        round(aisfx.BLOCK_SECONDS * aisfx.SAMPLE_RATE), settings.max_windows_per_clip)
    log.info("audio features of %d clips ready in %.0f s", len(audio), time.time() - started)
    text = TextFeatures(cache / FEATURE_DIR / "minilm.npz", model_config().text)
    pick = lambda name: ([e for e, s in zip(entries, splits) if s == name], [k for k, s in zip(keys, splits) if s == name])
    train = build_feature_set(*pick("train"), audio, text)
    val = build_feature_set(*pick("val"), audio, text)
    log.info("train %d clips / %d captions, val %d clips / %d captions", len(train), len(train.texts), len(val), len(val.texts))
    return entries, splits, train, val, text


def run(manifest: Path, cache: Path, out: Path, settings, cached_only: bool = False) -> dict:
    import torch

    entries, splits, train, val, text = feature_sets(manifest, cache, settings, cached_only)
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
        "training": {**training, "settings": settings.to_dict(), "train_clips": len(train), "val_clips": len(val),
                     "cached_only": cached_only},
        "data": data_summary(entries, splits),
    }
    from .walkthrough import walk_through_report

    report["walk_through_rank_of_example"] = walk_through_report(out)
    (out / "validation.json").write_text(json.dumps(report, indent=2) + "\n")
    write_card(out, report)
    return report


def evaluate_exported(cache: Path, out: Path, settings, cached_only: bool = False) -> dict:
    """The validation figures of the exported heads in `out`, from the cached features."""
    from .export import heads_from_exported

    _entries, _splits, _train, val, text = feature_sets(cache / "manifest.jsonl", cache, settings, cached_only)
    return evaluate_heads(heads_from_exported(out, settings), val, text)
