"""The paper's supervised protocols on top of a CLAP audio encoder.

- "Freeze L1" / "Freeze L3": the audio embedding is frozen; 1 or 3 fully connected layers are
  trained on it with Adam, lr 1e-3, 30 epochs (the paper's settings; it names no batch size or
  hidden width: we use batches of 64 and hidden layers as wide as the embedding, with ReLU).
- "fine-tune": the audio encoder is unfrozen and trained with a 1-layer head, Adam lr 1e-4, 30
  epochs. Training sees one window-length excerpt per clip and step (a random offset, repeat-padded
  when the clip is shorter, as the paper trains); testing uses the same deterministic pooled
  windows as every other protocol. It needs the torch module (`model.module`, as clapsearch's
  ClapAudioTextModel exposes); a backend without one cannot be fine-tuned and says so.

Single-label heads train with cross-entropy and report accuracy; multi-label heads with binary
cross-entropy and report mAP. Everything is seeded, so a run repeats exactly on the same machine.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from clapsearch.errors import ClapsearchError

PROBE_LR = 1e-3
FINETUNE_LR = 1e-4
EPOCHS = 30
BATCH_SIZE = 64


class CannotFineTuneError(ClapsearchError):
    """The model backend gives no trainable torch module."""


@dataclass
class ProbeSettings:
    epochs: int = EPOCHS
    lr: float = PROBE_LR
    batch_size: int = BATCH_SIZE
    seed: int = 0


def make_head(dim: int, classes: int, layers: int):
    """1 layer: Linear(dim, C). 3 layers: Linear(dim, dim) ReLU Linear(dim, dim) ReLU Linear(dim, C)."""
    from torch import nn

    if layers not in (1, 3):
        raise ValueError(f"the paper's probes have 1 or 3 layers, not {layers}")
    if layers == 1:
        return nn.Linear(dim, classes)
    return nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, classes))


def _loss_fn(multi_label: bool):
    from torch import nn

    return nn.BCEWithLogitsLoss() if multi_label else nn.CrossEntropyLoss()


def _target_tensor(targets, multi_label: bool):
    import torch

    return torch.as_tensor(np.asarray(targets), dtype=torch.float32 if multi_label else torch.long)


@contextmanager
def one_thread():
    """Run tiny heads on one thread: their matrices are too small to split, and on a busy machine
    torch's worker threads spin-wait for each other (measured 40x slower on 2 shared cores)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def train_probe(features, targets, classes: int, layers: int, multi_label: bool = False,
                settings: ProbeSettings | None = None):
    """Train a head on frozen features (N, dim); `targets` are class indices or an (N, C) 0/1 matrix."""
    with one_thread():
        return _train_probe(features, targets, classes, layers, multi_label, settings or ProbeSettings())


def _train_probe(features, targets, classes, layers, multi_label, settings):
    import torch

    torch.manual_seed(settings.seed)
    x = torch.as_tensor(np.asarray(features), dtype=torch.float32)
    y = _target_tensor(targets, multi_label)
    head = make_head(x.shape[1], classes, layers)
    optimiser = torch.optim.Adam(head.parameters(), lr=settings.lr)
    loss_fn = _loss_fn(multi_label)
    generator = torch.Generator().manual_seed(settings.seed)
    head.train()
    for _ in range(settings.epochs):
        for batch in torch.randperm(len(x), generator=generator).split(settings.batch_size):
            optimiser.zero_grad()
            loss_fn(head(x[batch]), y[batch]).backward()
            optimiser.step()
    return head.eval()


def head_scores(head, features) -> np.ndarray:
    """(N, C) logits of a trained head."""
    import torch

    with torch.inference_mode():
        return head(torch.as_tensor(np.asarray(features), dtype=torch.float32)).numpy()


# ---- fine-tuning ----------------------------------------------------------------------------


def trainable_module(model):
    module = getattr(model, "module", None)
    if module is None or not hasattr(module, "encode_audio"):
        raise CannotFineTuneError(
            f"Model {model.name!r} cannot be fine-tuned: its backend exposes no torch audio encoder; "
            "use the probe protocols (probe-l1, probe-l3) or a clapsearch/msclap/exported model."
        )
    return module


class _FineTunedAudio:
    """The AudioTextModel face of a fine-tuned module, so testing uses the same windowing pipeline."""

    def __init__(self, model, module, device):
        self.name, self.dim = f"{model.name} (fine-tuned)", model.dim
        self.sample_rate, self.window_seconds = model.sample_rate, model.window_seconds
        self.fingerprint, self.logit_scale = "fine-tuned", model.logit_scale
        self._module, self._device = module, device

    def embed_audio(self, waves):
        import torch
        from torch.nn import functional as F

        with torch.inference_mode():
            waves = torch.as_tensor(waves, dtype=torch.float32).to(self._device)
            return F.normalize(self._module.encode_audio(waves, normalize=False).float(), dim=-1).cpu()


def random_excerpt(path: str, sample_rate: int, window: int, rng: np.random.Generator) -> np.ndarray:
    """A random window-length excerpt of `path` (repeat-padded when the clip is shorter)."""
    from clapsearch.audio.decode import load_mono, probe
    from clapsearch.audio.windows import repeat_pad

    seconds = window / sample_rate
    duration = probe(path).duration
    start = float(rng.uniform(0.0, duration - seconds)) if duration > seconds else 0.0
    samples = load_mono(path, sample_rate, start=start, duration=seconds)
    return samples[:window] if len(samples) >= window else repeat_pad(samples, window)


def fine_tune(model, train_paths: Sequence[str], targets, classes: int, multi_label: bool = False,
              settings: ProbeSettings | None = None):
    """Fine-tune a copy of the audio encoder with a 1-layer head; returns (audio model, head).

    The returned audio model embeds windows with the fine-tuned encoder (for embed_files).
    """
    import torch
    from torch.nn import functional as F

    from clapsearch.models.base import window_samples

    settings = settings or ProbeSettings(lr=FINETUNE_LR)
    module = copy.deepcopy(trainable_module(model))
    device = next(module.parameters()).device
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    head = make_head(model.dim, classes, 1).to(device)
    encoder = module.audio_encoder
    # Train what the encoder itself leaves trainable: fixed transforms (the STFT kernels and mel
    # matrix of the CNN14 front end) set requires_grad=False and must stay as they are.
    trained = [p for p in encoder.parameters() if p.requires_grad]
    if not trained:
        raise CannotFineTuneError(f"Model {model.name!r} cannot be fine-tuned: its audio encoder has no trainable parameter.")
    parameters = trained + list(head.parameters())
    optimiser = torch.optim.Adam(parameters, lr=settings.lr)
    loss_fn = _loss_fn(multi_label)
    y = _target_tensor(targets, multi_label).to(device)
    window = window_samples(model)
    generator = torch.Generator().manual_seed(settings.seed)
    encoder.train()
    head.train()
    for _ in range(settings.epochs):
        for batch in torch.randperm(len(train_paths), generator=generator).split(settings.batch_size):
            waves = np.stack([random_excerpt(train_paths[i], model.sample_rate, window, rng) for i in batch.tolist()])
            embedding = F.normalize(module.encode_audio(torch.from_numpy(waves).to(device), normalize=False), dim=-1)
            optimiser.zero_grad()
            loss_fn(head(embedding), y[batch.to(device)]).backward()
            optimiser.step()
    module.eval()
    return _FineTunedAudio(model, module, device), head.cpu().eval()
