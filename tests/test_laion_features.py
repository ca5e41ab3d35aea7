"""The torch log-mel front end of hf: models equals transformers' ClapFeatureExtractor within 1e-4 dB."""

import numpy as np
import pytest
import torch

from clapsearch.models.laion_features import ClapLogMel

RATE, WINDOW = 48000, 480000


def _signals(length: int) -> np.ndarray:
    """Loud noise, a pure tone that stops halfway (far bands at the floor), and very quiet noise."""
    rng = np.random.default_rng(3)
    t = np.arange(length) / RATE
    tone = np.where(t < t[-1] / 2, 0.8 * np.sin(2 * np.pi * 3000 * t), 0.0)
    return np.stack([0.3 * rng.standard_normal(length), tone, 1e-4 * rng.standard_normal(length)]).astype(np.float32)


@pytest.mark.parametrize("truncation", ["rand_trunc", "fusion"])
@pytest.mark.parametrize("length", [WINDOW, 70001], ids=["full", "short"])
def test_features_match_the_feature_extractor(truncation, length):
    from transformers import ClapFeatureExtractor

    extractor = ClapFeatureExtractor()
    waves = _signals(length)
    expected = extractor(list(waves), sampling_rate=RATE, truncation=truncation, return_tensors="pt")
    ours = ClapLogMel(extractor, fusion=truncation == "fusion")(torch.from_numpy(waves))
    assert ours.shape == expected["input_features"].shape == (3, 4 if truncation == "fusion" else 1, 1001, 64)
    assert ours.dtype == torch.float32
    assert (ours - expected["input_features"]).abs().max().item() <= 1e-4
    assert ours[1].min().item() == pytest.approx(-100.0)  # the tone's far bands reach the floor in both


@pytest.mark.parametrize("padding", ["pad", "repeat"])
def test_other_paddings_match_too(padding):
    from transformers import ClapFeatureExtractor

    extractor = ClapFeatureExtractor(padding=padding)
    waves = _signals(130000)[:1]
    expected = extractor(list(waves), sampling_rate=RATE, truncation="rand_trunc", return_tensors="pt")
    ours = ClapLogMel(extractor, fusion=False)(torch.from_numpy(waves))
    assert (ours - expected["input_features"]).abs().max().item() <= 1e-4
