"""python -m training.recipes.default [--cache DIR] [--out clapsearch/assets/default]

Fetches and captions the data, embeds it with the frozen aisfx and MiniLM towers, trains the
projection heads and temperature, validates, exports the model and writes its model card.
`--evaluate-only` re-computes the validation figures of an exported model from the cache.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path

from .settings import TrainSettings

DEFAULT_CACHE = Path(os.environ.get("CLAPSEARCH_RECIPE_CACHE", "~/.cache/clapsearch/recipe-default")).expanduser()
DEFAULT_OUT = Path(__file__).resolve().parents[3] / "clapsearch" / "assets" / "default"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training.recipes.default", description=__doc__.split("\n\n")[1])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="downloads, clips and feature caches")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the model directory is written")
    parser.add_argument("--sources", nargs="*", default=None, help="only these data sources (default: all)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel data jobs")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--skip-data", action="store_true", help="use the manifest already in --cache")
    parser.add_argument("--cached-only", action="store_true",
                        help="use only clips whose audio features are already cached (a time budget)")
    parser.add_argument("--evaluate-only", action="store_true", help="validate the model in --out; train nothing")
    defaults = TrainSettings()
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--embed-dim", type=int, default=defaults.embed_dim)
    parser.add_argument("--dropout", type=float, default=defaults.dropout)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--max-train-per-source", type=int, default=defaults.max_train_clips_per_source,
                        help="training clips per source (labels taking turns)")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    import torch

    torch.set_num_threads(args.threads)
    settings = TrainSettings(epochs=args.epochs, embed_dim=args.embed_dim, dropout=args.dropout,
                             lr=args.lr, batch_size=args.batch_size,
                             max_train_clips_per_source=args.max_train_per_source)
    from .pipeline import evaluate_exported, run

    if args.evaluate_only:
        print(json.dumps(evaluate_exported(args.cache, args.out, settings, args.cached_only), indent=2))
        return
    manifest = args.cache / "manifest.jsonl"
    began = time.time()
    data_seconds = None
    if not args.skip_data:
        from .data import build_all

        manifest = Path(build_all(args.cache, sources=args.sources, jobs=args.jobs))
        data_seconds = round(time.time() - began, 1)
    report = run(manifest, args.cache, args.out, settings, args.cached_only, data_seconds=data_seconds)
    print(json.dumps(report["validation"], indent=2))


if __name__ == "__main__":
    main()
