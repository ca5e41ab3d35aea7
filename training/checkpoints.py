"""Run checkpoints: everything a resumed run needs to continue exactly where it stopped.

    RUN_DIR/checkpoints/step_00000120/state.pt     model, optimiser, scheduler, position, config
    RUN_DIR/checkpoints/step_00000120/rng_0.pt     each rank's random-number-generator states
    RUN_DIR/checkpoints/latest                     the name of the newest complete checkpoint

A checkpoint is written into a temporary directory and renamed, then `latest` is updated, so an
interruption never leaves a half-written checkpoint marked as the newest. Files are read back
with torch.load(weights_only=True): no arbitrary unpickling even of our own files.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np
import torch

from clapsearch.errors import CheckpointError

LATEST = "latest"
STATE = "state.pt"


def checkpoints_dir(run_dir: str | Path) -> Path:
    return Path(run_dir) / "checkpoints"


def rng_state() -> dict:
    """This process's torch, CUDA, numpy and Python RNG states as plain tensors and lists."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {"torch": torch.get_rng_state(),
             "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                       "has_gauss": int(has_gauss), "cached": float(cached)},
             "python": _to_lists(random.getstate())}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    numpy_state = state["numpy"]
    np.random.set_state(("MT19937", numpy_state["keys"].numpy().astype(np.uint32), numpy_state["pos"],
                         numpy_state["has_gauss"], numpy_state["cached"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _to_lists(python_state):
    version, internal, gauss = python_state
    return [version, list(internal), gauss]


def save_checkpoint(run_dir, step: int, state: dict, rank: int, world_size: int, keep: int) -> Path:
    """Rank 0 writes `state`; every rank writes its RNG states. Call on every rank."""
    from .distributed import DistEnv, barrier

    env = DistEnv(rank=rank, world_size=world_size)
    root = checkpoints_dir(run_dir)
    name = f"step_{step:08d}"
    staging = root / f".{name}.tmp"
    if rank == 0:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
    barrier(env)
    torch.save(rng_state(), staging / f"rng_{rank}.pt")
    if rank == 0:
        torch.save(state, staging / STATE)
    barrier(env)
    final = root / name
    if rank == 0:
        shutil.rmtree(final, ignore_errors=True)
        staging.rename(final)
        _write_latest(root, name)
        _prune(root, keep)
    barrier(env)
    return final


def _write_latest(root: Path, name: str) -> None:
    tmp = root / (LATEST + ".tmp")
    tmp.write_text(name + "\n")
    tmp.replace(root / LATEST)


def _prune(root: Path, keep: int) -> None:
    finished = sorted(p for p in root.glob("step_*") if p.is_dir())
    for old in finished[: max(0, len(finished) - max(1, keep))]:
        shutil.rmtree(old, ignore_errors=True)


def latest_checkpoint(run_dir) -> Path | None:
    marker = checkpoints_dir(run_dir) / LATEST
    if not marker.is_file():
        return None
    path = checkpoints_dir(run_dir) / marker.read_text().strip()
    return path if (path / STATE).is_file() else None


def load_checkpoint(path: str | Path, rank: int = 0) -> tuple[dict, dict | None]:
    """(state, this rank's RNG state or None) from a checkpoint directory."""
    path = Path(path)
    if not (path / STATE).is_file():
        raise CheckpointError(f"{str(path)!r} is not a training checkpoint (it has no {STATE}); "
                              "pass a run directory's checkpoints/step_* folder.")
    state = torch.load(path / STATE, map_location="cpu", weights_only=True)
    rng_file = path / f"rng_{rank}.pt"
    rng = torch.load(rng_file, map_location="cpu", weights_only=True) if rng_file.is_file() else None
    return state, rng


def resolve_checkpoint(path_or_run: str | Path) -> Path:
    """A checkpoint directory, or a run directory (its newest checkpoint)."""
    path = Path(path_or_run)
    if (path / STATE).is_file():
        return path
    found = latest_checkpoint(path)
    if found is None:
        raise CheckpointError(f"No checkpoint found in {str(path)!r}; train first or pass a checkpoints/step_* folder.")
    return found
