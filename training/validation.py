"""Validation during training: retrieval both ways (and zero-shot accuracy when clips are labelled).

Windows are deterministic (the first window of each clip, repeat-padded), so the figures of two
runs with the same weights are identical. Metrics come from training.metrics, the same functions
the benchmarks use.
"""

from __future__ import annotations

import numpy as np
import torch

from .data.dataset import ClipDataset, collate


@torch.no_grad()
def embed_clips(clap, entries, batch_size: int, num_workers: int, device) -> np.ndarray:
    dataset = ClipDataset(entries, clap.config.sample_rate, clap.config.window_seconds, train=False)
    # Its own generator, so validating never moves the global RNG (resumed runs stay exact).
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, num_workers=num_workers, collate_fn=collate,
                                         generator=torch.Generator().manual_seed(0))
    return np.concatenate([clap.encode_audio(batch["waves"].to(device)).float().cpu().numpy() for batch in loader])


@torch.no_grad()
def embed_texts(clap, texts: list[str], batch_size: int, device) -> np.ndarray:
    rows = [clap.encode_text(clap.tokenize(texts[i : i + batch_size], device=device)).float().cpu().numpy()
            for i in range(0, len(texts), batch_size)]
    return np.concatenate(rows)


def validation_texts(entries, all_captions: bool) -> tuple[list[str], list[int]]:
    """The caption queries and, for each, the row of the clip it describes."""
    texts, owners = [], []
    for row, entry in enumerate(entries):
        captions = entry.captions if all_captions else entry.captions[:1]
        texts.extend(captions)
        owners.extend([row] * len(captions))
    return texts, owners


def zero_shot_setup(entries) -> tuple[list[str], list[int]] | None:
    """(class names, target per clip) when every clip has exactly one label; else None."""
    if not entries or any(len(entry.labels) != 1 for entry in entries):
        return None
    classes = sorted({entry.labels[0] for entry in entries})
    if len(classes) < 2:
        return None
    index = {name: i for i, name in enumerate(classes)}
    return classes, [index[entry.labels[0]] for entry in entries]


def validate(clap, entries, batch_size: int, num_workers: int, device, prompt: str = "This is a sound of {}",
             all_captions: bool = True) -> dict[str, float]:
    """Metrics of `clap` on `entries`. Leaves it in eval mode: the caller switches back to training."""
    from .metrics import retrieval_metrics, zero_shot_accuracy

    clap.eval()
    audio = embed_clips(clap, entries, batch_size, num_workers, device)
    texts, owners = validation_texts(entries, all_captions)
    result = retrieval_metrics(audio, embed_texts(clap, texts, batch_size, device), owners)
    setup = zero_shot_setup(entries)
    if setup is not None:
        classes, targets = setup
        class_vecs = embed_texts(clap, [prompt.format(name) for name in classes], batch_size, device)
        result["zero_shot_accuracy"] = zero_shot_accuracy(audio, class_vecs, targets)
        result["zero_shot_classes"] = len(classes)
    return result
