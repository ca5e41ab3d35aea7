"""python -m training.recipes.default.runtime_check [--cache DIR] [--write]

The shipped default model's validation figures under each audio runtime (torch, onnx, onnx-int8):
issue 11's bar is retrieval and zero-shot within 0.5 points of torch fp32.

The clips are the recipe's own: the in-domain validation split and the cross-source pool, chosen by
the recipe settings (pipeline.balanced_order), the same windows as the cached features
(features.clip_windows). Each window is embedded by `load_model("default", runtime=...)`, a clip's
vector is the mean of its window vectors re-normalised, and the text side is the shipped model's
own embed_text for every runtime (only the audio engine differs). `--write` stores the table in
validation.json under "runtimes" and rewrites the model card.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np

from .dataset import FeatureSet, split_of
from .evaluate import normalise, text_to_audio, zero_shot

log = logging.getLogger(__name__)
SPLITS = {"in_domain": "val", "pool": "pool"}
METRICS = (("R@1", ("text_to_audio", "R@1")), ("R@10", ("text_to_audio", "R@10")),
           ("zero-shot", ("zero_shot", "accuracy")))
BAR_POINTS = 0.5
COMMAND = "python -m training.recipes.default.runtime_check --cache CACHE --write"


def chosen_clips(manifest: Path, settings) -> dict[str, list]:
    """{"in_domain": entries, "pool": entries}, exactly the recipe's selection and order."""
    from .pipeline import balanced_order, load_entries
    from .settings import POOL_ALL_ITEMS, POOL_SOURCES

    entries, _ = load_entries(manifest)
    splits = [split_of(e, settings.val_share, POOL_SOURCES, POOL_ALL_ITEMS) for e in entries]
    order = balanced_order(entries, splits, settings.max_train_clips_per_source,
                           settings.max_val_clips_per_source, settings.max_pool_clips_per_source)
    return {name: [entries[i] for i in order if splits[i] == split] for name, split in SPLITS.items()}


def decoded_windows(entries, max_windows: int) -> tuple[list, list[np.ndarray]]:
    """(entries kept, per-clip (n, window) waves); undecodable clips are left out, as the recipe does."""
    from clapsearch.models import aisfx

    from .features import clip_windows, decode_clip

    window = round(aisfx.BLOCK_SECONDS * aisfx.SAMPLE_RATE)
    kept, windows = [], []
    for entry in entries:
        try:
            wave = decode_clip(entry, aisfx.SAMPLE_RATE)
        except Exception as exc:  # same rule as features.embed_clips
            log.warning("skipping %s: %s", entry.audio, exc)
            continue
        if len(wave) and np.isfinite(wave).all():
            kept.append(entry)
            windows.append(clip_windows(wave, window, max_windows))
    return kept, windows


def feature_set(entries, window_vectors: list[np.ndarray]) -> FeatureSet:
    """A FeatureSet whose "windows" are already joint-space window vectors."""
    texts = sorted({c for e in entries for c in e.captions})
    index = {t: i for i, t in enumerate(texts)}
    return FeatureSet(windows=window_vectors, captions=[[index[c] for c in e.captions] for e in entries],
                      labels=[list(e.labels) for e in entries], sources=[e.source for e in entries],
                      items=[e.item for e in entries], texts=texts)


def clip_vectors(window_vectors: list[np.ndarray]) -> np.ndarray:
    """Mean of each clip's unit window vectors, re-normalised (the search tool's file vectors)."""
    return normalise(np.stack([normalise(w).mean(0) for w in window_vectors]))


def figures(data: FeatureSet, embed_text) -> dict:
    clips = clip_vectors(data.windows)
    t2a, zs = text_to_audio(clips, data, embed_text), zero_shot(clips, data, embed_text)
    return {"R@1": t2a["R@1"], "R@10": t2a["R@10"], "zero-shot": zs.get("accuracy", 0.0),
            "clips": len(data), "queries": t2a["queries"], "classes": zs.get("classes", 0)}


def runtime_report(results: dict[str, dict[str, dict]]) -> dict:
    """{runtime: {split: figures}} -> the same with each figure's difference to torch in points,
    and whether every runtime holds the bar."""
    reference = results["torch"]
    out, holds = {}, {}
    for runtime, by_split in results.items():
        out[runtime] = {}
        worst = 0.0
        for split, row in by_split.items():
            diff = {m: round(100 * (row[m] - reference[split][m]), 4) for m, _ in METRICS}
            worst = max(worst, *(abs(d) for d in diff.values()))
            out[runtime][split] = {**row, "points_vs_torch": diff}
        holds[runtime] = worst <= BAR_POINTS
    return {"results": out, "bar_points": BAR_POINTS, "holds_bar": holds}


def table_lines(report: dict) -> list[str]:
    """Markdown: one row per runtime, each split's metrics with the difference to torch in points."""
    results = report["results"]
    splits = list(next(iter(results.values())))
    names = {"in_domain": "in-domain", "pool": "pool"}
    head = " | ".join(f"{names.get(s, s)} {m}" for s in splits for m, _ in METRICS)
    rows = [f"| runtime | {head} | within {report['bar_points']} points |",
            "|---|" + "---|" * (len(splits) * len(METRICS) + 1)]
    for runtime, by_split in results.items():
        cells = []
        for split in splits:
            row = by_split[split]
            for metric, _ in METRICS:
                diff = row["points_vs_torch"][metric]
                cells.append(f"{100 * row[metric]:.1f} %" + ("" if runtime == "torch" else f" ({diff:+.1f})"))
        rows.append(f"| {runtime} | " + " | ".join(cells) + f" | {'yes' if report['holds_bar'][runtime] else 'NO'} |")
    return rows


def embed_windows(model, windows: list[np.ndarray], batch: int = 32) -> list[np.ndarray]:
    flat = np.concatenate(windows)
    vectors = np.concatenate([np.asarray(model.embed_audio(flat[i : i + batch]), dtype=np.float32)
                              for i in range(0, len(flat), batch)])
    bounds = np.cumsum([0] + [len(w) for w in windows])
    return [vectors[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def perturbed(windows: list[np.ndarray], cosine: float, seed: int) -> list[np.ndarray]:
    """Each unit window vector plus isotropic Gaussian noise sized so its cosine to the original is
    about `cosine` (|n|^2 = 1/cosine^2 - 1), re-normalised: a perturbation with no direction."""
    rng = np.random.default_rng(seed)
    dim = windows[0].shape[1]
    sigma = np.sqrt((1 / cosine**2 - 1) / dim)
    return [normalise(w + rng.normal(0, sigma, w.shape).astype(np.float32)) for w in windows]


def noise_floor(clips: dict, reference: dict, embed_text, cosine: float, seeds: int = 8) -> dict:
    """How far the figures move, in points, when torch's window vectors get random noise of the
    size int8 gives (median window cosine `cosine`): the resolution of the 0.5-point bar."""
    moves = {}
    for seed in range(seeds):
        for split, (entries, vectors) in reference.items():
            row = figures(feature_set(entries, perturbed(vectors, cosine, seed)), embed_text)
            base = clips[split]
            for metric, _ in METRICS:
                moves.setdefault(f"{split} {metric}", []).append(round(100 * (row[metric] - base[metric]), 2))
    return {"cosine": cosine, "seeds": seeds,
            "points": {k: {"median |move|": float(np.median(np.abs(v))), "max |move|": float(np.max(np.abs(v))),
                           "moves": v} for k, v in moves.items()}}


def measure(cache: Path, runtimes=("torch", "onnx", "onnx-int8"), floor_cosine: float | None = None) -> dict:
    from clapsearch.models.registry import load_model

    from .settings import TrainSettings

    settings = TrainSettings()
    clips = {}
    for split, entries in chosen_clips(cache / "manifest.jsonl", settings).items():
        began = time.time()
        clips[split] = decoded_windows(entries, settings.max_windows_per_clip)
        log.info("%s: %d clips, %d windows decoded in %.0f s", split, len(clips[split][0]),
                 sum(map(len, clips[split][1])), time.time() - began)
    results, seconds, torch_vectors = {}, {}, {}
    embed_text = None
    for runtime in runtimes:
        model = load_model("default", runtime=runtime)
        embed_text = embed_text or model.embed_text  # one text side for every runtime
        began = time.time()
        results[runtime] = {}
        for split, (entries, windows) in clips.items():
            vectors = embed_windows(model, windows)
            if runtime == "torch":
                torch_vectors[split] = (entries, vectors)
            results[runtime][split] = figures(feature_set(entries, vectors), embed_text)
        seconds[runtime] = round(time.time() - began, 1)
        log.info("%s: %s (%.0f s)", runtime, results[runtime], seconds[runtime])
    report = runtime_report(results)
    if floor_cosine and torch_vectors:
        report["noise_floor"] = noise_floor(results["torch"], torch_vectors, embed_text, floor_cosine)
        log.info("noise floor: %s", {k: v["median |move|"] for k, v in report["noise_floor"]["points"].items()})
    report.update(command=COMMAND, windows_per_clip=settings.max_windows_per_clip,
                  windows={s: int(sum(map(len, w))) for s, (_, w) in clips.items()}, seconds=seconds)
    return report


def main(argv=None) -> None:
    from .__main__ import DEFAULT_CACHE, DEFAULT_OUT

    parser = argparse.ArgumentParser(prog="python -m training.recipes.default.runtime_check",
                                     description=__doc__.split("\n\n")[1])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="the recipe cache (manifest.jsonl)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the model folder (validation.json)")
    parser.add_argument("--write", action="store_true", help="store the table and rewrite MODEL_CARD.md")
    parser.add_argument("--noise-floor", type=float, default=None, metavar="COSINE",
                        help="also move torch's vectors by random noise of this median cosine (int8's: 0.9993), "
                             "8 seeds, and report how far the figures move")
    parser.add_argument("--runtimes", default="torch,onnx,onnx-int8",
                        help="comma-separated, torch first (the reference) [default: all three]")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    runtimes = tuple(args.runtimes.split(","))
    if runtimes[0] != "torch":
        parser.error("--runtimes must start with torch, the reference the others are measured against")
    report = measure(args.cache, runtimes, floor_cosine=args.noise_floor)
    print("\n".join(table_lines(report)))
    if args.write:
        from .card import rewrite_card

        path = args.out / "validation.json"
        stored = json.loads(path.read_text())
        stored["runtimes"] = report
        path.write_text(json.dumps(stored, indent=2) + "\n")
        print(rewrite_card(args.out))


if __name__ == "__main__":
    main()
