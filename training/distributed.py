"""Process-group setup from the torchrun environment; one plain process when there is none.

    torchrun --nproc_per_node=N -m training.train --config recipe.yaml --run-dir runs/x

torchrun sets RANK, LOCAL_RANK and WORLD_SIZE (and the rendezvous address); without them this
is rank 0 of 1 and no process group is created. CUDA ranks use NCCL on their local GPU; CPU
ranks use gloo.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class DistEnv:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def world_info_from_env() -> tuple[int, int, int]:
    """(rank, local_rank, world_size) as torchrun exports them; (0, 0, 1) outside torchrun."""
    return (int(os.environ.get("RANK", 0)), int(os.environ.get("LOCAL_RANK", 0)),
            int(os.environ.get("WORLD_SIZE", 1)))


def init_distributed(device: str | None = None) -> DistEnv:
    """Join the process group torchrun prepared (if any) and pick this rank's device."""
    rank, local_rank, world_size = world_info_from_env()
    use_cuda = torch.cuda.is_available() if device is None else device.startswith("cuda")
    if use_cuda:
        torch.cuda.set_device(local_rank)
        chosen = torch.device("cuda", local_rank)
    else:
        chosen = torch.device("cpu")
    if world_size > 1:
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group(backend="nccl" if use_cuda else "gloo", rank=rank, world_size=world_size)
    return DistEnv(rank, local_rank, world_size, chosen)


def wrap_ddp(module: torch.nn.Module, env: DistEnv) -> torch.nn.Module:
    """DistributedDataParallel around `module` (its trainable parts only); unchanged on one process."""
    if not env.distributed:
        return module
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [env.local_rank] if env.device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=device_ids)


def all_reduce_mean(value: float, env: DistEnv) -> float:
    """The mean of a scalar over ranks (for logging the global loss)."""
    if not env.distributed:
        return value
    import torch.distributed as dist

    tensor = torch.tensor([value], dtype=torch.float64, device=env.device)
    dist.all_reduce(tensor)
    return float(tensor.item()) / env.world_size


def barrier(env: DistEnv) -> None:
    if env.distributed:
        import torch.distributed as dist

        dist.barrier()


def cleanup(env: DistEnv) -> None:
    if env.distributed:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()
