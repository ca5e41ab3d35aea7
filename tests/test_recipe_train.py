"""The default-model recipe's training, validation and export steps on small synthetic features."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from training.recipes.default import evaluate
from training.recipes.default.dataset import FeatureSet, split_of
from training.recipes.default.features import clip_windows
from training.recipes.default.heads import epoch_batches, train_heads, untrained_heads
from training.recipes.default.settings import TrainSettings

CLASSES = ["dog", "bell", "engine", "rain"]


def _synthetic_set(clips_per_class: int, seed: int, windows: int = 2) -> FeatureSet:
    """Clips whose 512-d 'tower features' depend on their class (fixed random directions) and
    whose captions' 384-d 'text features' do too, with noise: a mapping the heads can learn."""
    rng = np.random.default_rng(seed)
    audio_dirs = np.random.default_rng(100).random((len(CLASSES), 512)).astype(np.float32)
    text_dirs = np.random.default_rng(200).standard_normal((len(CLASSES), 384)).astype(np.float32)
    texts = [f"a {c}" for c in CLASSES] + [f"the sound of a {c}" for c in CLASSES]
    text_vectors = np.concatenate([text_dirs, text_dirs]) + 0.1 * rng.standard_normal((8, 384)).astype(np.float32)
    data = FeatureSet(windows=[], captions=[], labels=[], sources=[], items=[], texts=texts,
                      text_vectors=text_vectors.astype(np.float32))
    for c, name in enumerate(CLASSES):
        for i in range(clips_per_class):
            noise = 0.3 * rng.random((windows, 512)).astype(np.float32)
            data.windows.append(audio_dirs[c] + noise)
            data.captions.append([c, c + len(CLASSES)])
            data.labels.append([name])
            data.sources.append("synthetic")
            data.items.append(f"{name}/{i}")
    return data


class _Texts:
    """Stands in for the MiniLM cache: the synthetic text vectors, and prompts mapped by label."""

    def __init__(self, data: FeatureSet):
        self.table = dict(zip(data.texts, data.text_vectors))
        for c, name in enumerate(CLASSES):
            self.table[f"This is a sound of {name}."] = data.text_vectors[c]

    def __call__(self, texts):
        return np.stack([self.table[t] for t in texts])


@pytest.fixture
def one_thread():
    """Small matrices: one thread avoids OpenMP spin-waiting on a shared 2-core machine."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def test_batches_never_hold_one_caption_twice_nor_one_clip_twice():
    data = _synthetic_set(30, seed=0)
    data.captions = [[0] if i % 3 else [1, 2] for i in range(len(data))]  # heavy duplication
    rng = np.random.default_rng(0)
    seen = []
    for batch in epoch_batches(data, 16, rng):
        captions = [c for _, _, c in batch]
        assert len(captions) == len(set(captions))
        assert all(w < len(data.windows[i]) for i, w, _ in batch)
        seen += [i for i, _, _ in batch]
    assert len(seen) == len(set(seen))


def test_trained_heads_beat_untrained_heads_on_held_out_clips(one_thread):
    train, val = _synthetic_set(40, seed=1), _synthetic_set(10, seed=2)
    texts = _Texts(val)
    settings = TrainSettings(epochs=15, batch_size=32, embed_dim=64, lr=3e-3)
    torch.manual_seed(0)
    heads, info = train_heads(train, settings, lambda h: evaluate.selection_score(evaluate.evaluate_heads(h, val, texts)))
    trained = evaluate.evaluate_heads(heads, val, texts)
    untrained = evaluate.evaluate_heads(untrained_heads(settings), val, texts)
    assert trained["zero_shot"]["accuracy"] == 1.0
    assert trained["text_to_audio"]["R@1"] == 1.0
    assert untrained["zero_shot"]["accuracy"] < 0.75
    assert 1 <= info["best_epoch"] <= 15 and len(info["history"]) == 15


def test_chance_recall_is_the_hypergeometric_hit_rate():
    assert evaluate._chance_hit(10, 1, 1) == pytest.approx(0.1)
    assert evaluate._chance_hit(10, 2, 1) == pytest.approx(0.2)
    assert evaluate._chance_hit(10, 1, 10) == pytest.approx(1.0)
    assert evaluate._chance_hit(4, 2, 2) == pytest.approx(1 - (2 / 4) * (1 / 3))


def test_text_to_audio_counts_every_clip_with_the_query_caption_as_relevant():
    data = FeatureSet(windows=[np.zeros((1, 2))] * 3, captions=[[0], [0], [1]], labels=[[], [], []],
                      sources=["s"] * 3, items=["a", "b", "c"], texts=["x", "y"])
    clips = np.array([[0.0, 1.0], [1.0, 0.0], [0.6, 0.8]])
    embed = lambda texts: np.array([[1.0, 0.0] if t == "x" else [1.0, 0.0] for t in texts])
    result = evaluate.text_to_audio(clips, data, embed)
    # "x": best clip is 1 (relevant) -> hit; "y": best clip is 1, its clip 2 ranks second -> miss at 1.
    assert result["R@1"] == 0.5 and result["R@10"] == 1.0 and result["queries"] == 2


def test_zero_shot_is_right_when_the_top_class_is_any_of_the_clip_labels():
    data = FeatureSet(windows=[np.zeros((1, 2))] * 2, captions=[[0], [0]], labels=[["a", "b"], ["a"]],
                      sources=["s", "t"], items=["1", "2"], texts=["x"])
    clips = np.array([[0.0, 1.0], [0.0, 1.0]])
    embed = lambda prompts: np.array([[1.0, 0.0] if " a." in p else [0.0, 1.0] for p in prompts])
    result = evaluate.zero_shot(clips, data, embed)
    assert result["accuracy"] == 0.5 and result["classes"] == 2
    assert result["chance"] == pytest.approx((2 / 2 + 1 / 2) / 2)
    assert result["by_source"]["s"]["accuracy"] == 1.0 and result["by_source"]["t"]["accuracy"] == 0.0


def test_split_keeps_the_manifest_split_and_hashes_items_stably():
    assert split_of(SimpleNamespace(split="val", item="x"), 0.1) == "val"
    items = [f"pkg/item{i}" for i in range(2000)]
    first = [split_of(SimpleNamespace(split=None, item=i), 0.1) for i in items]
    assert first == [split_of(SimpleNamespace(split=None, item=i), 0.1) for i in items]
    assert 0.07 < first.count("val") / len(items) < 0.13


def test_clip_windows_pad_short_clips_and_spread_long_ones():
    short = np.arange(30, dtype=np.float32)
    windows = clip_windows(short, 100, 4)
    assert windows.shape == (1, 100) and windows[0, 30] == 0 and windows[0, 99] == short[99 % 30]
    long = np.arange(1000, dtype=np.float32)
    windows = clip_windows(long, 100, 4)
    assert windows.shape == (4, 100)
    assert windows[0, 0] == 0 and windows[-1, -1] == 999  # first window and the tail window


def test_embedding_order_puts_validation_first_caps_sources_and_takes_turns():
    from training.recipes.default.pipeline import balanced_order

    entries = [SimpleNamespace(source=src, item=f"{src}/{i}", audio=f"{src}{i}.wav", start=None,
                               labels=[f"{src} sound {i % 4}"], captions=["x"])
               for src, n in (("big", 50), ("small", 3)) for i in range(n)]
    splits = ["val" if i % 10 == 0 else "train" for i in range(len(entries))]
    order = balanced_order(entries, splits, max_train=5, max_val=2)
    assert all(splits[i] == "val" for i in order[:3]) and len(order) == 3 + 5 + 2
    train_sources = [entries[i].source for i in order[3:]]
    assert train_sources[:4] == ["big", "small", "big", "small"]
    assert order == balanced_order(entries, splits, max_train=5, max_val=2)
    assert len(balanced_order(entries, splits, None, None)) == len(entries)
    # Within a source, every label's first clip comes before any label's second clip.
    big_train = [entries[i].labels[0] for i in balanced_order(entries, splits, None, 0) if entries[i].source == "big"]
    assert len(set(big_train[:4])) == 4
