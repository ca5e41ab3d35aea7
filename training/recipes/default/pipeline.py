"""The recipe's steps after the data: features, split, baselines, training, export, card."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from clapsearch.models import aisfx
from training.data.manifest import read_manifest

from .dataset import build_feature_set, split_of
from .evaluate import evaluate_heads, pool_score, selection_score
from .features import AudioFeatureCache, TextFeatures, clip_key, embed_clips
from .settings import POOL_ALL_ITEMS, POOL_SOURCES, model_config
from .tower_weights import converted_tower_state, load_tower

log = logging.getLogger(__name__)
FEATURE_PREFIX = "features-aisfx-2.3s"


def feature_dir(cache: Path, max_windows: int) -> Path:
    """Audio features depend on the clip and on how many windows were taken from it."""
    return cache / f"{FEATURE_PREFIX}-w{max_windows}"


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


def balanced_order(entries, splits, max_train: int | None, max_val: int | None,
                   max_pool: int | None = None) -> list[int]:
    """Indices to embed: pool clips, validation clips, training clips taking turns across sources,
    then the pool sources' "unused" items (the final model's extra data, see `run`; "test" clips,
    such as the bundled examples, are left out entirely);
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

    return (take_turns(per_source("pool", max_pool)) + take_turns(per_source("val", max_val))
            + take_turns(per_source("train", max_train)) + take_turns(per_source("unused", max_train)))


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
    splits = [split_of(e, settings.val_share, POOL_SOURCES, POOL_ALL_ITEMS) for e in entries]
    order = balanced_order(entries, splits, settings.max_train_clips_per_source, settings.max_val_clips_per_source,
                           settings.max_pool_clips_per_source)
    entries, keys, splits = [entries[i] for i in order], [keys[i] for i in order], [splits[i] for i in order]
    log.info("%d clips in %s", len(entries), manifest)
    feature_cache = AudioFeatureCache(feature_dir(cache, settings.max_windows_per_clip))
    if cached_only:
        keep = [i for i, k in enumerate(keys) if feature_cache.path(k).is_file()]
        entries, keys, splits = [entries[i] for i in keep], [keys[i] for i in keep], [splits[i] for i in keep]
        log.info("--cached-only: %d clips have cached features", len(entries))
    tower = load_tower(cache)
    started = time.time()
    audio = embed_clips(entries, tower, feature_cache, aisfx.SAMPLE_RATE,
                        round(aisfx.BLOCK_SECONDS * aisfx.SAMPLE_RATE), settings.max_windows_per_clip)
    log.info("audio features of %d clips ready in %.0f s", len(audio), time.time() - started)
    text = TextFeatures(cache / f"{FEATURE_PREFIX}-minilm.npz", model_config().text)
    pick = lambda name: ([e for e, s in zip(entries, splits) if s == name], [k for k, s in zip(keys, splits) if s == name])
    train_entries, train_keys = pick("train")
    plain = build_feature_set(train_entries, train_keys, audio, text)
    train = build_feature_set(*_expanded(train_entries, train_keys), audio, text) if settings.wordnet_expansion else plain
    val = build_feature_set(*pick("val"), audio, text)
    pool = build_feature_set(*pick("pool"), audio, text)
    unused_plain = build_feature_set(*pick("unused"), audio, text)
    unused = (build_feature_set(*_expanded(*pick("unused")), audio, text) if settings.wordnet_expansion
              else unused_plain)
    log.info("train %d clips / %d captions, val %d clips / %d captions, pool %d clips / %d captions, "
             "pool sources' train items %d clips", len(train), len(train.texts), len(val), len(val.texts),
             len(pool), len(pool.texts), len(unused))
    return FeatureSets(entries, splits, train, val, pool, text, plain, unused, unused_plain)


@dataclass
class FeatureSets:
    entries: list
    splits: list[str]
    train: object
    val: object  # in-domain: held-out items of the training sources
    pool: object  # cross-source: whole sources training never sees
    text: object
    train_plain: object  # the training clips with their own captions only (the WordNet ablation)
    # The pool sources' "train" items: no candidate trains on them; the final model does, as v1
    # did, so that it and v1 meet the pool's items on equal terms (run's second stage).
    unused: object = None
    unused_plain: object = None


def _expanded(entries, keys):
    """Training entries with WordNet-expanded captions (bare codes dropped), keys kept aligned."""
    from .caption_expansion import expand_entries
    from .data.wordnet import default_wordnet

    wordnet = default_wordnet()
    if wordnet is None:
        raise RuntimeError("Caption expansion needs WordNet at /usr/share/wordnet; "
                           "install it with `apt-get install wordnet-base`.")
    kept, kept_keys = [], []
    for entry, key in zip(entries, keys):
        expanded = expand_entries([entry], wordnet)
        if expanded:
            kept.append(expanded[0])
            kept_keys.append(key)
    return kept, kept_keys


def run(manifest: Path, cache: Path, out: Path, settings, cached_only: bool = False,
        data_seconds: float | None = None) -> dict:
    """The heads study on the cached features; ships its best exportable candidate into `out`
    only when it beats the model already there on the cross-source pool without ranking fewer
    walk-through examples first. Either way the card and validation.json say what was measured."""
    import torch

    began = time.time()
    sets = feature_sets(manifest, cache, settings, cached_only)
    features_seconds = round(time.time() - began, 1)
    # The heads' matrices are small: one thread beats two that spin-wait on a shared machine.
    torch.set_num_threads(1)
    previous = _previous_model(out)
    from .study import run_study

    study = run_study(sets, settings, previous[0] if previous else None)
    results = study["results"]
    candidates = {}
    for kind, (heads, kind_settings, training) in study["trained"].items():
        folder = cache / "candidates" / kind.replace("+", "_")
        _export_model(cache, heads, kind_settings, folder)
        results[kind]["walk_through"] = _walk_through(folder)
        candidates[kind] = (folder, kind_settings, training)
    if previous:
        results["shipped_v1"]["walk_through"] = _walk_through(out)
    best = max(candidates, key=lambda k: results[k]["pool_score"])
    final = _train_final(sets, study, best, cache, results, candidates)
    decision = _ship_decision(results, final, previous is not None)
    study_report = {"results": results, "best_exportable": best, "final": final, "decision": decision,
                    "settings": settings.to_dict(), "train_clips": len(sets.train), "val_clips": len(sets.val),
                    "pool_clips": len(sets.pool), "pool_by_source": _count_sources(sets.pool),
                    "data_seconds": data_seconds, "features_seconds": features_seconds, "cached_only": cached_only,
                    "seconds": round(time.time() - began, 1)}
    from .card import data_summary, write_card

    if decision["ship"]:
        folder, kind_settings, training = candidates[final]
        import shutil

        for name in ("config.json", "model.safetensors"):
            shutil.copy2(folder / name, out / name)
        report = {
            "validation": {"trained_heads": results[final]["in_domain"], "nearest_caption_transfer":
                           results["nearest_caption_transfer"]["in_domain"]},
            "training": {**training, "settings": kind_settings.to_dict(), "train_clips": training["train_clips"],
                         "val_clips": len(sets.val), "cached_only": cached_only},
            "data": data_summary(sets.entries, sets.splits, trained=("train", "unused")),
            "walk_through_rank_of_example": results[final]["walk_through"],
        }
    else:
        report = previous[1] if previous else {}
        if previous:  # the walk-through as measured now (its queries may have changed since)
            report["walk_through_rank_of_example"] = results["shipped_v1"]["walk_through"]
    report["study"] = study_report
    (out / "validation.json").write_text(json.dumps(report, indent=2) + "\n")
    write_card(out, report)
    return report


def _train_final(sets, study: dict, best: str, cache: Path, results: dict, candidates: dict) -> str:
    """Second stage: the pool's choice retrained with the pool sources' "train" items, at the
    epoch the pool chose; exported, measured and added to `results` and `candidates`."""
    from .study import FINAL_SUFFIX, train_final

    _, kind_settings, _ = study["trained"][best]
    heads, training, train = train_final(sets, best, kind_settings, results[best]["best_epoch"])
    name = best + FINAL_SUFFIX
    folder = cache / "candidates" / name.replace("+", "_")
    _export_model(cache, heads, kind_settings, folder)
    training["train_clips"] = len(train)
    pool, in_domain = evaluate_heads(heads, sets.pool, sets.text), evaluate_heads(heads, sets.val, sets.text)
    results[name] = {"pool": pool, "in_domain": in_domain, "pool_score": pool_score(pool),
                     "in_domain_score": selection_score(in_domain), "best_epoch": training["best_epoch"],
                     "seconds": training["seconds"], "train_clips": len(train), "walk_through": _walk_through(folder)}
    candidates[name] = (folder, kind_settings, training)
    log.info("%s: pool %.4f (its data shares sources with the pool)", name, results[name]["pool_score"])
    return name


def _previous_model(out: Path):
    """(heads, report) of the model already in `out`, or None."""
    from .export import heads_from_exported
    from .settings import TrainSettings

    report_path = out / "validation.json"
    if not (out / "model.safetensors").is_file() or not report_path.is_file():
        return None
    report = json.loads(report_path.read_text())
    fields = {f: v for f, v in report["training"]["settings"].items() if f in TrainSettings.__dataclass_fields__}
    previous_settings = TrainSettings(**fields)
    return heads_from_exported(out, previous_settings), report


def _export_model(cache: Path, heads, settings, folder: Path) -> None:
    from .export import export

    folder.mkdir(parents=True, exist_ok=True)
    export(converted_tower_state(cache), heads, settings, folder)


def _walk_through(folder: Path) -> dict:
    from .walkthrough import walk_through_report

    return walk_through_report(folder)


def _ship_decision(results: dict, best: str, has_previous: bool) -> dict:
    """`best` is the second-stage model: it and v1 trained on the pool sources' "train" items and
    neither on the pool's, so their pool figures compare on equal terms."""
    if not has_previous:
        return {"ship": True, "why": "no model in --out to compare with"}
    ours, theirs = results[best], results["shipped_v1"]
    firsts = lambda ranks: sum(r == 1 for r in ranks.values())
    beats_pool = ours["pool_score"] > theirs["pool_score"]
    keeps_walk = firsts(ours["walk_through"]) >= firsts(theirs["walk_through"])
    why = (f"{best}: pool score {ours['pool_score']:.4f} vs {theirs['pool_score']:.4f} (shipped); "
           f"walk-through firsts {firsts(ours['walk_through'])} vs {firsts(theirs['walk_through'])}")
    return {"ship": beats_pool and keeps_walk, "why": why}


def _count_sources(data) -> dict:
    from collections import Counter

    return dict(sorted(Counter(data.sources).items()))


def evaluate_exported(cache: Path, out: Path, settings, cached_only: bool = False) -> dict:
    """The pool and in-domain figures of the exported heads in `out` (read with the settings its
    validation.json records), from the cached features."""
    previous = _previous_model(out)
    if previous is None:
        raise FileNotFoundError(f"No exported model with a validation.json in {out}; train one first.")
    sets = feature_sets(cache / "manifest.jsonl", cache, settings, cached_only)
    heads = previous[0]
    return {"pool": evaluate_heads(heads, sets.pool, sets.text), "in_domain": evaluate_heads(heads, sets.val, sets.text)}
