"""Train a CLAP model from a recipe; the same entry point runs alone or under torchrun.

    python -m training.train --config training/configs/tiny_synthetic.yaml --run-dir runs/tones
    torchrun --nproc_per_node=4 -m training.train --config training/configs/paper_2022.yaml --run-dir runs/paper
    python -m training.train --config ... --run-dir runs/tones --resume        # continue the newest checkpoint

The run directory receives config.json (the resolved recipe), log.jsonl (one JSON object per
optimiser step and per validation), checkpoints/ (see checkpoints.py) and, for synthetic
recipes, the generated data. Export a run for clapsearch with `python -m training.export`.

Batches: each process takes `batch_size` pairs per micro-step; the contrastive negatives are
the micro-batch of every rank together (batch_size * world_size); the optimiser steps every
`grad_accum` micro-steps. Accumulation grows the optimiser batch, not the set of negatives.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import torch

from .config import TrainConfig, expand, load_config, save_config
from .data.dataset import ClipDataset, EpochSampler, collate
from .data.manifest import read_manifest
from .distributed import DistEnv, all_reduce_mean, barrier, cleanup, init_distributed, wrap_ddp
from .losses import contrastive_loss
from . import checkpoints as ckpt
from .trainable import TrainableClap, apply_freeze, build_model, make_optimizer, make_scheduler


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m training.train", description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True, help="recipe file (YAML or JSON)")
    parser.add_argument("--run-dir", required=True, help="where logs, checkpoints and the resolved config go")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a recipe field, e.g. --set optim.lr=3e-4 (repeatable)")
    parser.add_argument("--resume", nargs="?", const="latest", default=None, metavar="CHECKPOINT",
                        help="continue from the run directory's newest checkpoint (or the one given)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads per process (torch.set_num_threads); 1 is fastest on a busy machine")
    return parser.parse_args(argv)


class JsonlLog:
    """log.jsonl (every record) plus a short stdout line (every `show_every`-th step, every
    validation); only rank 0 writes."""

    def __init__(self, path: Path, enabled: bool, show_every: int = 1):
        self.path, self.enabled, self.show_every = path, enabled, max(1, show_every)

    def write(self, record: dict) -> None:
        if not self.enabled:
            return
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        if record["event"] == "step" and record["step"] % self.show_every:
            return
        shown = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items())
        print(shown, flush=True)


def split_entries(config: TrainConfig, run_dir: Path, env: DistEnv):
    """(train entries, validation entries) from the recipe's manifests or its synthetic set."""
    train_files, val_files = list(config.data.train), list(config.data.val)
    if config.data.synthetic is not None:
        from .data.synthetic import generate

        target = run_dir / "synthetic"
        if env.is_main and not (target / "val.jsonl").is_file():
            generate(target, config.model.sample_rate, config.data.synthetic)
        barrier(env)
        train_files, val_files = [target / "train.jsonl"], [target / "val.jsonl"]
    train_files, val_files = [expand(p) for p in train_files], [expand(p) for p in val_files]
    train, val = [], []
    for path in train_files:
        for entry in read_manifest(path):
            if entry.split in (None, "train"):
                train.append(entry)
            elif entry.split == "val":
                val.append(entry)
    for path in val_files:
        val.extend(e for e in read_manifest(path) if e.split in (None, "val"))
    if not train:
        raise ValueError("The recipe gives no training clips: set data.train (manifests) or data.synthetic.")
    return train, val


class Trainer:
    def __init__(self, config: TrainConfig, run_dir: Path, env: DistEnv):
        self.config, self.run_dir, self.env = config, run_dir, env
        self.train_entries, self.val_entries = split_entries(config, run_dir, env)
        self.clap = build_model(config)
        apply_freeze(self.clap, config.freeze)
        if env.distributed and env.device.type == "cuda" and config.sync_batchnorm:
            self.clap = torch.nn.SyncBatchNorm.convert_sync_batchnorm(self.clap)
        self.clap.to(env.device)
        self.trainable = TrainableClap(self.clap, config.text_cache_size)
        self.model = wrap_ddp(self.trainable, env)
        self.optimizer = make_optimizer(self.clap, config.optim)
        dataset = ClipDataset(self.train_entries, config.model.sample_rate, config.model.window_seconds,
                              train=True, augment_config=config.data.augment, seed=config.seed)
        self.sampler = EpochSampler(len(dataset), config.batch_size, env.rank, env.world_size, config.seed)
        if self.sampler.batches_per_epoch() < config.grad_accum:
            raise ValueError(f"{len(dataset)} training clips make fewer than {config.grad_accum} batches of "
                             f"{config.batch_size * env.world_size}; lower batch_size or grad_accum.")
        self.dataset = dataset
        self.steps_per_epoch = self.sampler.batches_per_epoch() // config.grad_accum
        self.total_steps = self.steps_per_epoch * config.epochs
        if config.max_steps is not None:
            self.total_steps = min(self.total_steps, config.max_steps)
        self.scheduler = make_scheduler(self.optimizer, config.optim, self.total_steps)
        self.step, self.epoch, self.batch_in_epoch = 0, 0, 0
        self.log = JsonlLog(run_dir / "log.jsonl", env.is_main, config.log_every_steps)
        torch.manual_seed(config.seed + 1 + env.rank)  # dropout streams differ per rank, fixed per run

    # -- checkpoints ---------------------------------------------------------------------------
    def state(self) -> dict:
        return {"model": self.clap.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "step": self.step, "epoch": self.epoch,
                "batch_in_epoch": self.batch_in_epoch, "world_size": self.env.world_size,
                "config": self.config.to_dict()}

    def save(self) -> None:
        ckpt.save_checkpoint(self.run_dir, self.step, self.state(), self.env.rank, self.env.world_size,
                             self.config.keep_checkpoints)

    def restore(self, path: Path) -> None:
        state, rng = ckpt.load_checkpoint(path, self.env.rank)
        if state["world_size"] != self.env.world_size and state["batch_in_epoch"]:
            raise ValueError(f"Checkpoint {path} stopped mid-epoch with {state['world_size']} processes; "
                             f"resume it with the same number (this run has {self.env.world_size}).")
        self.clap.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step, self.epoch, self.batch_in_epoch = state["step"], state["epoch"], state["batch_in_epoch"]
        if rng is not None:
            ckpt.set_rng_state(rng)

    # -- one optimiser step --------------------------------------------------------------------
    def autocast(self):
        if self.config.precision == "bf16":
            return torch.autocast(device_type=self.env.device.type, dtype=torch.bfloat16)
        if self.config.precision != "fp32":
            raise ValueError(f"Unknown precision {self.config.precision!r}; use fp32 or bf16.")
        return nullcontext()

    def micro_step(self, batch: dict, sync: bool) -> float:
        waves = batch["waves"].to(self.env.device, non_blocking=True)
        no_sync = self.model.no_sync if (self.env.distributed and not sync) else nullcontext
        with no_sync():
            with self.autocast():
                audio, text, scale = self.model(waves, batch["captions"])
            loss = contrastive_loss(audio, text, scale, self.env.rank, self.env.world_size)
            (loss / self.config.grad_accum).backward()
        return float(loss.detach())

    def optimizer_step(self) -> None:
        if self.config.optim.grad_clip:
            params = [p for p in self.clap.parameters() if p.requires_grad]
            torch.nn.utils.clip_grad_norm_(params, self.config.optim.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1

    # -- the loop ------------------------------------------------------------------------------
    def loader(self):
        self.sampler.set_epoch(self.epoch, self.batch_in_epoch)
        # Its own generator: making the iterator must not consume the global RNG (exact resume).
        return torch.utils.data.DataLoader(
            self.dataset, batch_size=self.config.batch_size, sampler=self.sampler, collate_fn=collate,
            num_workers=self.config.data.num_workers, drop_last=True,
            generator=torch.Generator().manual_seed(self.config.seed),
            pin_memory=self.env.device.type == "cuda")

    def run_epoch(self) -> bool:
        """Train until the epoch ends (True) or max_steps is reached (False)."""
        accum, losses = self.config.grad_accum, []
        started, cpu_started = time.perf_counter(), time.process_time()
        usable = self.steps_per_epoch * accum  # micro-batches that complete an optimiser step
        for batch in self.loader():
            if self.batch_in_epoch >= usable:
                break
            self.batch_in_epoch += 1
            losses.append(self.micro_step(batch, sync=self.batch_in_epoch % accum == 0))
            if self.batch_in_epoch % accum:
                continue
            self.optimizer_step()
            self.log_step(sum(losses) / len(losses), time.perf_counter() - started, time.process_time() - cpu_started)
            losses, started, cpu_started = [], time.perf_counter(), time.process_time()
            if self.config.checkpoint_every_steps and self.step % self.config.checkpoint_every_steps == 0:
                self.save()
            if self.step >= self.total_steps:
                return self.batch_in_epoch >= usable
        return True

    def log_step(self, loss: float, seconds: float, cpu_seconds: float) -> None:
        loss = all_reduce_mean(loss, self.env)
        scale = float(self.clap.scale().detach())
        pairs = self.config.batch_size * self.env.world_size * self.config.grad_accum
        self.log.write({"event": "step", "step": self.step, "epoch": self.epoch, "loss": loss,
                        "logit_scale": scale, "temperature": 1.0 / scale,
                        "lr": self.scheduler.get_last_lr()[0], "pairs_per_s": pairs / max(seconds, 1e-9),
                        # CPU time of this process: on a shared machine, wall time also counts waiting.
                        "step_seconds": seconds, "step_cpu_seconds": cpu_seconds})

    def validate(self) -> None:
        if self.config.validate and self.val_entries and self.env.is_main:
            from .validation import validate

            metrics = validate(self.clap, self.val_entries, self.config.batch_size, self.config.data.num_workers,
                               self.env.device, self.config.data.zero_shot_prompt, self.config.data.val_all_captions)
            self.log.write({"event": "val", "step": self.step, "epoch": self.epoch, **metrics})
        self.model.train()
        barrier(self.env)

    def fit(self) -> None:
        if self.step == 0 and self.config.validate_at_start:
            self.validate()  # the untrained baseline: what the run improves on
        self.model.train()
        while self.epoch < self.config.epochs and self.step < self.total_steps:
            finished = self.run_epoch()
            if finished:
                self.validate()
                self.epoch, self.batch_in_epoch = self.epoch + 1, 0
            self.save()
            if not finished:
                self.validate()
                break


def main(argv=None) -> Path:
    """Train as the arguments say; returns the run directory."""
    args = parse_args(argv if argv is not None else sys.argv[1:])
    config = load_config(args.config, args.set)
    threads_before = torch.get_num_threads()
    if args.threads:
        torch.set_num_threads(args.threads)
    env = init_distributed(args.device)
    run_dir = Path(args.run_dir)
    try:
        if env.is_main:
            run_dir.mkdir(parents=True, exist_ok=True)
            if args.resume is None and ckpt.latest_checkpoint(run_dir) is not None:
                raise SystemExit(f"{run_dir} already holds checkpoints; pass --resume to continue it or choose a new --run-dir.")
            save_config(config, run_dir / "config.json")
        barrier(env)
        trainer = Trainer(config, run_dir, env)
        if args.resume is not None:
            trainer.restore(ckpt.resolve_checkpoint(run_dir if args.resume == "latest" else args.resume))
        trainer.fit()
    finally:
        cleanup(env)
        torch.set_num_threads(threads_before)  # main() may run inside a larger process (tests)
    return run_dir


if __name__ == "__main__":
    main()
