"""The trainable part of the default model: the paper's two projection heads and temperature,
trained on cached frozen-tower features with the paper's symmetric contrastive objective."""

from __future__ import annotations

import copy
import logging
import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from clapsearch.models.clap import LOGIT_SCALE_MAX
from clapsearch.models.projection import Projection
from training.losses import contrastive_loss

from .dataset import FeatureSet

log = logging.getLogger(__name__)


class Heads(nn.Module):
    """Named like the Clap module's parts so the export can copy them across one to one."""

    def __init__(self, audio_dim: int, text_dim: int, embed_dim: int, dropout: float):
        super().__init__()
        self.audio_projection = Projection(audio_dim, embed_dim, dropout)
        self.text_projection = Projection(text_dim, embed_dim, dropout)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def audio(self, features: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.audio_projection(features), dim=-1)

    def text(self, features: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.text_projection(features), dim=-1)

    def scale(self) -> torch.Tensor:
        return self.logit_scale.exp().clamp(max=LOGIT_SCALE_MAX)


def frozen_identity_projection(dim: int) -> Projection:
    """A Projection that computes LayerNorm(x) (no affine part): linear1 = I, linear2 = 0.

    Normalised afterwards this is MiniLM's own vector centred on its mean coordinate, so the
    text tower's neighbourhoods stay as MiniLM built them, and the model still exports and
    runs (ONNX text path included) as an ordinary two-projection Clap module.
    """
    projection = Projection(dim, dim, dropout=0.0)
    with torch.no_grad():
        projection.linear1.weight.copy_(torch.eye(dim))
        projection.linear2.weight.zero_()
    projection.requires_grad_(False)
    return projection


class LockedTextHeads(Heads):
    """Locked-image-tuning style (text side locked here): only the audio side learns, into the
    frozen text tower's own 384-d space."""

    def __init__(self, audio_dim: int, text_dim: int, dropout: float):
        super().__init__(audio_dim, text_dim, text_dim, dropout)
        self.text_projection = frozen_identity_projection(text_dim)


HEAD_KINDS = ("two_heads", "locked_text")


def untrained_heads(settings, seed: int | None = None) -> Heads:
    torch.manual_seed(settings.seed if seed is None else seed)
    if getattr(settings, "head_kind", "two_heads") == "locked_text":
        return LockedTextHeads(512, 384, settings.dropout)
    return Heads(512, 384, settings.embed_dim, settings.dropout)


def epoch_batches(data: FeatureSet, batch_size: int, rng: np.random.Generator):
    """Batches of (clip, window, caption): each clip once per epoch with a random window and a
    random caption; a clip whose caption text is already in its batch sits this epoch out.

    Many clips share a caption ("a kick drum"); two of them in one batch would be scored as
    negatives of each other, which teaches the heads nonsense.
    """
    order = rng.permutation(len(data))
    for start in range(0, len(order), batch_size):
        batch, used = [], set()
        for i in order[start : start + batch_size]:
            caption = data.captions[i][rng.integers(len(data.captions[i]))]
            if caption not in used:
                used.add(caption)
                batch.append((i, rng.integers(len(data.windows[i])), caption))
        if len(batch) > 1:
            yield batch


def run_epoch(train: FeatureSet, heads, text_vectors: torch.Tensor, optimiser, schedule, rng, batch_size: int,
              audio_in=None) -> float:
    """One epoch of the contrastive objective; its mean loss. `audio_in` turns a batch of cached
    windows into the heads' input (finetune.py's last block); by default they go in as they are."""
    losses = []
    for batch in epoch_batches(train, batch_size, rng):
        audio = torch.from_numpy(np.stack([train.windows[i][w] for i, w, _ in batch]))
        if audio_in is not None:
            audio = audio_in(audio)
        loss = contrastive_loss(heads.audio(audio), heads.text(text_vectors[[c for _, _, c in batch]]), heads.scale())
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(loss.item())
    return float(np.mean(losses))


def train_heads(train: FeatureSet, settings, score_fn, log_every: int = 5, keep_epoch: int | None = None):
    """Train; keep the heads of the epoch with the best validation `score_fn(heads)` -> float, or
    of epoch `keep_epoch` when given (an epoch chosen before; the scores are then only logged, and
    training stops there: the learning-rate schedule is still the whole run's, as when it was chosen)."""
    heads = untrained_heads(settings)
    trainable = [p for p in heads.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trainable, lr=settings.lr, weight_decay=settings.weight_decay)
    steps = settings.epochs * math.ceil(len(train) / settings.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, settings.lr, total_steps=steps)
    text_vectors = torch.from_numpy(train.text_vectors)
    rng = np.random.default_rng(settings.seed)
    best, history = (-1.0, None, -1), []
    for epoch in range(settings.epochs):
        heads.train()
        loss = run_epoch(train, heads, text_vectors, optimiser, schedule, rng, settings.batch_size)
        heads.eval()
        score = score_fn(heads)
        history.append({"epoch": epoch + 1, "loss": loss, "val_score": score})
        if (score > best[0]) if keep_epoch is None else (epoch + 1 == keep_epoch):
            best = (score, copy.deepcopy(heads.state_dict()), epoch + 1)
        if (epoch + 1) % log_every == 0 or epoch == 0:
            log.info("epoch %d loss %.3f val %.4f", epoch + 1, loss, score)
        if epoch + 1 == keep_epoch:
            break
    heads.load_state_dict(best[1])
    return heads.eval(), {"best_epoch": best[2], "best_val_score": best[0], "history": history}
