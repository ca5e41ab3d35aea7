"""bf16 Linear layers (the torch-bf16 runtime's rounding) on a trained transformer, measured as retrieval.

    python benchmarks/bf16_trained_tower.py --cache RECIPE_CACHE

The torch-bf16 runtime rounds an hf: model's audio Linear layers to bf16 (clapsearch/models/
runtime/bf16_linear.py). Its cosine to fp32 is measured on real clips, but with random LAION
weights only, and the trained LAION checkpoints cannot be fetched here. The trained transformer we
do have is the shipped default model's text tower (all-MiniLM-L6-v2 and its trained projection).
This script applies the same rounding to that tower's transformer and measures what the issue's bar
measures: the default model's validation text-to-audio R@1, R@10 and zero-shot on the recipe's
in-domain and cross-source splits (training/recipes/default/runtime_check.py's clips and figures),
with the audio side fixed (the default runtime), fp32 text tower against bf16 text tower. It also
prints the text vectors' cosine to fp32 over every caption and class prompt, raw and with their mean
removed, the figures quoted for HTSAT, so the two towers' rounding can be set side by side.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def text_cosines(fp32_embed, bf16_embed, texts: list[str]) -> dict:
    from benchmarks.laion_runtime import cosines

    reference, got = fp32_embed(texts), bf16_embed(texts)
    return {"texts": len(texts), **cosines(got, reference, reference.mean(0))}


def text_embedder(reference, bf16: bool):
    """texts -> (n, dim) unit float32 rows from the default model's torch text side, optionally rounded."""
    from clapsearch.models.runtime.bf16_linear import bf16_linears

    if bf16:
        reference = copy.deepcopy(reference)
        count = bf16_linears(reference.module.caption_encoder.base)
        print(json.dumps({"bf16_linear_layers": count}), flush=True)

    def embed(texts: list[str]) -> np.ndarray:
        rows = [reference.embed_text(texts[i:i + 64]).numpy() for i in range(0, len(texts), 64)]
        return np.concatenate(rows).astype(np.float32)
    return embed


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, required=True, help="the default recipe's cache (manifest.jsonl)")
    args = parser.parse_args(argv)

    from clapsearch.models.registry import load_model
    from training.recipes.default.runtime_check import (
        BAR_POINTS, METRICS, chosen_clips, decoded_windows, embed_windows, feature_set, figures)
    from training.recipes.default.settings import ZERO_SHOT_TEMPLATE, TrainSettings

    settings = TrainSettings()
    model = load_model("default")
    embedders = {"fp32": text_embedder(model.reference(), bf16=False),
                 "bf16": text_embedder(model.reference(), bf16=True)}
    results, texts = {}, set()
    for split, entries in chosen_clips(args.cache / "manifest.jsonl", settings).items():
        began = time.time()
        kept, windows = decoded_windows(entries, settings.max_windows_per_clip)
        data = feature_set(kept, embed_windows(model, windows))
        texts.update(data.texts)
        texts.update(ZERO_SHOT_TEMPLATE.replace("{}", label) for labels in data.labels for label in labels)
        results[split] = {name: figures(data, embed) for name, embed in embedders.items()}
        moved = {metric: round(100 * (results[split]["bf16"][metric] - results[split]["fp32"][metric]), 2)
                 for metric, _ in METRICS}
        results[split]["points_bf16_vs_fp32"] = moved
        print(json.dumps({split: results[split], "seconds": round(time.time() - began)}), flush=True)
    worst = max(abs(v) for split in results.values() for v in split["points_bf16_vs_fp32"].values())
    print(json.dumps({"text_vectors": text_cosines(embedders["fp32"], embedders["bf16"], sorted(texts)),
                      "largest_move_points": worst, "bar_points": BAR_POINTS,
                      "holds_bar": worst <= BAR_POINTS}), flush=True)


if __name__ == "__main__":
    main()
