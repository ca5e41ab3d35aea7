"""The paper's objective: symmetric cross-entropy over the in-batch audio-text similarity.

    logits = scale * audio @ text.T     (scale = exp(logit_scale), clamped at 100: Clap.scale())
    loss   = (CE(logits, diagonal) + CE(logits.T, diagonal)) / 2

Under DDP every rank gathers the features of all ranks, so each clip's negatives are every
caption in the global batch, not only the local shard. Each rank then computes the loss of its
own rows (audio -> all texts) and its own columns (text -> all audio). The gather passes
gradients back to the rank that produced each shard, so after DDP averages the parameter
gradients they equal the gradients of the single-process loss over the whole global batch.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


class _AllGatherWithGrad(torch.autograd.Function):
    """all_gather whose backward hands each rank the summed gradient of its own shard.

    Written with all_reduce (not reduce_scatter) because gloo, the CPU backend, lacks the latter.
    """

    @staticmethod
    def forward(ctx, local: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
        import torch.distributed as dist

        ctx.rank, ctx.rows = rank, local.shape[0]
        shards = [torch.empty_like(local) for _ in range(world_size)]
        dist.all_gather(shards, local.contiguous())
        return torch.cat(shards)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        import torch.distributed as dist

        grad = grad.contiguous().clone()
        dist.all_reduce(grad)  # every rank's loss contributes to every shard's gradient
        start = ctx.rank * ctx.rows
        return grad[start : start + ctx.rows], None, None


def gather_features(audio: torch.Tensor, text: torch.Tensor, rank: int, world_size: int):
    """(B_local, D) features of this rank -> (B_local * world_size, D) of all ranks, in rank order.

    Gradients flow back to the local shard (and the shards of other ranks reach them through
    their own copy of this call). All ranks must use the same local batch size.
    """
    if world_size == 1:
        return audio, text
    return (_AllGatherWithGrad.apply(audio, rank, world_size), _AllGatherWithGrad.apply(text, rank, world_size))


def contrastive_loss(audio: torch.Tensor, text: torch.Tensor, scale: torch.Tensor,
                     rank: int = 0, world_size: int = 1) -> torch.Tensor:
    """Symmetric InfoNCE of this rank's pairs against the whole (gathered) batch.

    `audio` and `text` are this rank's L2-normalised features, row i of each forming a pair;
    `scale` is the clamped multiplier (Clap.scale()). With world_size == 1 this is exactly the
    paper's loss. With world_size > 1 the mean of the ranks' values is the loss of the global batch.
    """
    all_audio, all_text = gather_features(audio, text, rank, world_size)
    rows = audio.shape[0]
    targets = torch.arange(rows, device=audio.device) + rank * rows
    audio_to_text = scale * audio.float() @ all_text.float().T  # (B_local, B_global)
    text_to_audio = scale * text.float() @ all_audio.float().T
    return (F.cross_entropy(audio_to_text, targets) + F.cross_entropy(text_to_audio, targets)) / 2
