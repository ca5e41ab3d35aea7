"""Issue 12's last-block fine-tune: the split tower computes what the whole tower does, the
frozen statistics stay frozen, and a short run on separable data learns and keeps its best epoch."""

from __future__ import annotations

import numpy as np
import torch

from clapsearch.models import aisfx
from training.recipes.default.dataset import FeatureSet
from training.recipes.default.finetune import FrozenBlocks, LastBlock, fine_tune, tower_features
from training.recipes.default.heads import Heads
from training.recipes.default.settings import TrainSettings

WINDOW = round(aisfx.BLOCK_SECONDS * aisfx.SAMPLE_RATE)


def _tower(seed=0):
    torch.manual_seed(seed)
    tower = aisfx.build(width=8).eval()
    with torch.no_grad():  # non-trivial running statistics, so "kept frozen" can be seen
        for module in tower.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    return tower


def test_frozen_blocks_then_the_last_block_equal_the_whole_tower():
    tower = _tower()
    waves = torch.from_numpy(np.random.default_rng(0).normal(0, 0.1, (3, WINDOW)).astype(np.float32))
    with torch.inference_mode():
        maps = FrozenBlocks(tower)(waves)
        split = LastBlock(tower).eval()(maps)
        whole = tower(waves)
    assert maps.shape == (3, 32, 12, 12)  # width 8: 32 channels after block 3, 64 out
    assert torch.allclose(split, whole, atol=1e-5)


def test_the_last_blocks_running_statistics_stay_aisfx_s_in_training():
    last = LastBlock(_tower()).train()
    before = last.block.norm1.running_mean.clone()
    last(torch.randn(8, 32, 12, 12))
    assert not last.block.norm1.training and torch.equal(before, last.block.norm1.running_mean)
    assert last.block.conv1.weight.requires_grad


class _Text:
    """Caption features: one fixed random vector per text."""

    def __init__(self, dim=16):
        self.dim, self.vectors = dim, {}

    def __call__(self, texts):
        for text in texts:
            if text not in self.vectors:
                seed = sum(map(ord, text))
                self.vectors[text] = np.random.default_rng(seed).normal(size=self.dim).astype(np.float32)
        return np.stack([self.vectors[t] for t in texts])


def _maps(classes, per_class, rng, text):
    """Clips whose frozen-block maps carry their class as a pattern, with the class as caption and label."""
    patterns = np.random.default_rng(99).normal(size=(len(classes), 32, 12, 12)).astype(np.float32)
    windows, labels = [], []
    for c, name in enumerate(classes):
        for _ in range(per_class):
            windows.append((patterns[c] + rng.normal(0, 1.0, (1, 32, 12, 12))).astype(np.float16))
            labels.append(name)
    texts = sorted(set(labels))
    return FeatureSet(windows=windows, captions=[[texts.index(n)] for n in labels], labels=[[n] for n in labels],
                      sources=[f"src{i % 2}" for i in range(len(labels))], items=[str(i) for i in range(len(labels))],
                      texts=texts, text_vectors=text(texts))


def test_a_short_fine_tune_learns_and_keeps_its_best_epoch():
    rng, text = np.random.default_rng(1), _Text()
    classes = [f"sound {i}" for i in range(6)]
    maps = {"train": _maps(classes, 20, rng, text), "pool": _maps(classes, 4, rng, text)}
    torch.manual_seed(0)
    heads = Heads(64, 16, 32, dropout=0.0)
    last = LastBlock(_tower())
    settings = TrainSettings(batch_size=24, weight_decay=0.0)
    training = fine_tune(maps, text, heads, last, settings, epochs=4)
    scores = [h["val_score"] for h in training["history"]]
    assert [h["epoch"] for h in training["history"]] == [0, 1, 2, 3, 4]
    assert max(scores[1:]) > scores[0]  # it learned something the untrained start did not know
    # The kept epoch is the best fine-tuned one (the start is its own row of the study already).
    assert training["best_epoch"] >= 1 and scores[training["best_epoch"]] == max(scores[1:]) == training["best_val_score"]
    kept = tower_features(last, maps["pool"])  # the kept epoch's block is the one loaded
    assert kept.windows[0].shape == (1, 64)
