"""The model as training sees it: built from the recipe, partly frozen, wrapped for DDP.

`TrainableClap` registers only the trainable parts of a Clap as its submodules, so DDP (which
wraps it) reduces gradients and broadcasts buffers of those parts only. Frozen towers are
called from its forward under no_grad and stay in eval mode (no dropout, fixed BatchNorm stats).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from clapsearch.models import towers
from clapsearch.models.checkpoint import clean_state_dict, load_into, read_state_dict
from clapsearch.models.clap import Clap
from clapsearch.models.text import pool

from .config import expand

# Heads the towers carry but CLAP's forward never uses; they never train (DDP would stall
# waiting for their gradients).
UNUSED_HEADS = ("audio_encoder.base.fc_audioset.", "caption_encoder.base.pooler.")

PARTS = {  # FreezeConfig field -> attribute path in Clap
    "audio_tower": "audio_encoder.base",
    "text_tower": "caption_encoder.base",
    "audio_projection": "audio_encoder.projection",
    "text_projection": "caption_encoder.projection",
}


def build_model(config) -> Clap:
    """The Clap of a TrainConfig with its starting weights (seeded, so every rank agrees)."""
    for kind, target in config.audio_towers.items():
        towers.AUDIO_TOWERS[kind] = target
    torch.manual_seed(config.seed)
    model = Clap(config.model, load_pretrained_text=config.init.load_pretrained_text)
    if config.init.audio_tower:
        path = expand(config.init.audio_tower)
        state = clean_state_dict(read_state_dict(path, key=config.init.audio_tower_key))
        load_into(model.audio_encoder.base, state, source=path)
    if config.init.model_dir:
        from clapsearch.models.exported import build_from_dir

        model.load_state_dict(build_from_dir(config.init.model_dir).state_dict())
    if not config.dropout:
        disable_dropout(model)
    return model


def disable_dropout(model: nn.Module) -> None:
    """Every dropout to p=0: nn.Dropout modules and towers' functional-dropout rates."""
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = 0.0
        for attr in ("block_dropout", "embed_dropout"):  # Cnn14 applies F.dropout with these
            if isinstance(getattr(module, attr, None), float):
                setattr(module, attr, 0.0)


def apply_freeze(model: Clap, freeze) -> None:
    for field, path in PARTS.items():
        model.get_submodule(path).requires_grad_(not getattr(freeze, field))
    model.logit_scale.requires_grad_(not freeze.logit_scale)
    for name, parameter in model.named_parameters():
        if name.startswith(UNUSED_HEADS):
            parameter.requires_grad_(False)


def is_trainable(module: nn.Module) -> bool:
    return any(p.requires_grad for p in module.parameters())


class TrainableClap(nn.Module):
    """forward(waves, tokens) -> (audio features, text features, scale), all trainable parts inside."""

    def __init__(self, clap: Clap, text_cache_size: int = 0):
        super().__init__()
        object.__setattr__(self, "clap", clap)  # deliberately not a registered submodule
        # A frozen text tower maps a caption to the same vector every time (eval mode), so its
        # output is kept per caption string: captions repeat every epoch.
        self.text_cache = FrozenTextCache(text_cache_size) if not is_trainable(clap.caption_encoder.base) else None
        self.parts = nn.ModuleDict({field: clap.get_submodule(path) for field, path in PARTS.items()
                                    if is_trainable(clap.get_submodule(path))})
        if clap.logit_scale.requires_grad:
            self.logit_scale = clap.logit_scale
        if not list(self.parameters()):
            raise ValueError("Every part of the model is frozen; unfreeze at least one in the recipe's `freeze`.")

    def train(self, mode: bool = True):
        super().train(mode)
        self.clap.train(mode)
        for field, path in PARTS.items():  # frozen parts always run as at inference
            if field not in self.parts:
                self.clap.get_submodule(path).eval()
        return self

    def forward(self, waves: torch.Tensor, captions: list[str]):
        clap = self.clap
        with torch.set_grad_enabled(torch.is_grad_enabled() and "audio_tower" in self.parts):
            audio_hidden = clap.audio_encoder.base(waves)
        text_hidden = self.text_hidden(captions, waves.device)
        audio = F.normalize(clap.audio_encoder.projection(audio_hidden).float(), dim=-1)
        text = F.normalize(clap.caption_encoder.projection(text_hidden).float(), dim=-1)
        return audio, text, clap.scale()

    def text_hidden(self, captions: list[str], device) -> torch.Tensor:
        """(B, hidden) pooled text-tower outputs (cached per caption when the tower is frozen)."""
        if self.text_cache is not None:
            return self.text_cache.lookup(captions, lambda missing: self._run_text_tower(missing, device))
        return self._run_text_tower(captions, device)

    def _run_text_tower(self, captions: list[str], device) -> torch.Tensor:
        encoder = self.clap.caption_encoder
        tokens = encoder.tokenize(captions, device=device)
        with torch.set_grad_enabled(torch.is_grad_enabled() and "text_tower" in self.parts):
            hidden = encoder.base(input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"])
            return pool(hidden.last_hidden_state, tokens["attention_mask"], encoder.pooling)


class FrozenTextCache:
    """caption -> pooled output of a frozen text tower, up to `size` captions (0: no cache)."""

    def __init__(self, size: int):
        self.size, self.table = size, {}

    def lookup(self, captions: list[str], compute) -> torch.Tensor:
        missing = list(dict.fromkeys(c for c in captions if c not in self.table))
        fresh = dict(zip(missing, compute(missing).detach())) if missing else {}
        if len(self.table) < self.size:
            self.table.update(fresh)
        return torch.stack([self.table[c] if c in self.table else fresh[c] for c in captions])


def make_optimizer(model: Clap, optim) -> torch.optim.Optimizer:
    """Adam or AdamW over the trainable parameters; no weight decay on biases, norms, the scale."""
    decay, no_decay = [], []
    for parameter in model.parameters():
        if parameter.requires_grad:
            (decay if parameter.ndim >= 2 else no_decay).append(parameter)
    groups = [{"params": decay, "weight_decay": optim.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    classes = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
    if optim.name not in classes:
        raise ValueError(f"Unknown optimiser {optim.name!r}; use adam or adamw.")
    return classes[optim.name](groups, lr=optim.lr, betas=tuple(optim.betas), eps=optim.eps)


def make_scheduler(optimizer, optim, total_steps: int):
    """Linear warm-up, then constant or cosine decay to 0 at `total_steps`."""
    import math

    def factor(step: int) -> float:
        if optim.warmup_steps and step < optim.warmup_steps:
            return (step + 1) / optim.warmup_steps
        if optim.schedule == "cosine":
            span = max(1, total_steps - optim.warmup_steps)
            return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - optim.warmup_steps) / span)))
        return 1.0

    if optim.schedule not in ("constant", "cosine"):
        raise ValueError(f"Unknown schedule {optim.schedule!r}; use constant or cosine.")
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
