"""The aisfx tower: front end against librosa, architecture and weight conversion against an
independent functional computation that uses aisfx's own parameter names."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from clapsearch.models import aisfx

SR = aisfx.SAMPLE_RATE


def _test_signal(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    tone = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 3100 * t)
    return ((tone + 0.05 * rng.standard_normal(t.size)) * np.exp(-t)).astype(np.float32)


def _librosa_features(wave: np.ndarray) -> np.ndarray:
    """aisfx's librosa feature path, transposed to (frames, mels) as its network expects."""
    import librosa  # a test extra: missing it must fail, not skip
    wave = wave / np.abs(wave).max()
    mel = librosa.feature.melspectrogram(
        y=wave, sr=SR, n_fft=2048, win_length=2048, hop_length=1024, n_mels=96, norm=1.0,
        fmin=0.0, fmax=22050.0, htk=True, power=2.0,
    )
    return (np.log10(mel * 10000.0 + 1) / aisfx.LOG_MAX).T


def test_filterbank_matches_librosa_htk_norm1():
    import librosa  # a test extra: missing it must fail, not skip
    ours = aisfx.htk_mel_filterbank().numpy()
    ref = librosa.filters.mel(sr=SR, n_fft=2048, n_mels=96, fmin=0.0, fmax=22050.0, htk=True, norm=1.0).T
    np.testing.assert_allclose(ours, ref, atol=1e-5)
    np.testing.assert_allclose(ours.sum(axis=0), 1.0, rtol=1e-5)


def test_front_end_matches_librosa():
    wave = _test_signal(3.0)
    ours = aisfx.LogMelFrontEnd()(torch.from_numpy(wave)[None])[0].numpy()
    ref = _librosa_features(wave)
    assert ours.shape == ref.shape == (1 + len(wave) // 1024, 96)
    np.testing.assert_allclose(ours, ref, atol=1e-5)


def test_front_end_is_peak_normalised_and_keeps_silence_silent():
    frontend = aisfx.LogMelFrontEnd()
    wave = torch.from_numpy(_test_signal(1.0))[None]
    torch.testing.assert_close(frontend(wave), frontend(wave * 0.01), atol=1e-5, rtol=1e-4)
    assert frontend(torch.zeros(1, SR)).abs().max() == 0


def test_one_model_window_is_exactly_one_block():
    samples = round(aisfx.BLOCK_SECONDS * SR)
    assert 1 + samples // aisfx.HOP == aisfx.BLOCK_FRAMES


@pytest.mark.parametrize("frames, expected", [(40, 1), (100, 1), (149, 1), (150, 2), (251, 4)])
def test_block_count_follows_aisfx_rule(frames, expected):
    # aisfx: ceil((T - 100) / 50 + 1), minus the partial last block; at least one (zero-padded).
    blocks = aisfx.cut_blocks(torch.randn(2, frames, 96))
    assert blocks.shape == (2, expected, 100, 96)
    if frames < 100:
        assert blocks[:, 0, frames:].abs().max() == 0


def _fake_original_checkpoint(seed: int = 0) -> dict[str, torch.Tensor]:
    """A state dict named and shaped like aisfx's checkpoint, with random values."""
    gen = torch.Generator().manual_seed(seed)
    state, channels = {}, [1, 64, 128, 256, 512]
    for k in range(1, 5):
        c_in, c_out = channels[k - 1], channels[k]
        prefix = f"embedding_net.conv_block{k}."
        state[prefix + "conv1.weight"] = torch.randn(c_out, c_in, 3, 3, generator=gen) * (2 / (9 * c_in)) ** 0.5
        state[prefix + "conv2.weight"] = torch.randn(c_out, c_out, 3, 3, generator=gen) * (2 / (9 * c_out)) ** 0.5
        for bn in ("bn1", "bn2"):
            state[prefix + bn + ".weight"] = 1 + 0.1 * torch.randn(c_out, generator=gen)
            state[prefix + bn + ".bias"] = 0.1 * torch.randn(c_out, generator=gen)
            state[prefix + bn + ".running_mean"] = 0.1 * torch.randn(c_out, generator=gen)
            state[prefix + bn + ".running_var"] = 0.5 + torch.rand(c_out, generator=gen)
            state[prefix + bn + ".num_batches_tracked"] = torch.tensor(7)
    state["fc.0.0.weight"] = torch.randn(256, 512, generator=gen)  # a classifier head: dropped
    return state


def _reference_embedding(state: dict, features: torch.Tensor) -> torch.Tensor:
    """The aisfx embedding network written out functionally over its original names."""
    x = features.unsqueeze(1)
    for k in range(1, 5):
        p = f"embedding_net.conv_block{k}."
        for conv, bn in (("conv1", "bn1"), ("conv2", "bn2")):
            x = F.conv2d(x, state[p + conv + ".weight"], padding=1)
            x = F.batch_norm(x, state[p + bn + ".running_mean"], state[p + bn + ".running_var"],
                             state[p + bn + ".weight"], state[p + bn + ".bias"], training=False, eps=1e-5)
            x = F.relu(x)
        if k < 4:
            x = F.max_pool2d(x, 2)
    return x.mean(dim=3).max(dim=2).values


def test_converted_weights_reproduce_the_original_network():
    original = _fake_original_checkpoint()
    tower = aisfx.build().eval()
    tower.load_state_dict(aisfx.convert_state_dict(original), strict=True)
    wave = _test_signal(4.0, seed=1)
    features = torch.from_numpy(_librosa_features(wave)).float()
    blocks = aisfx.cut_blocks(features[None])[0]
    with torch.no_grad():
        expected = _reference_embedding(original, blocks).max(dim=0).values
        ours = tower(torch.from_numpy(wave)[None])[0]
    assert ours.shape == (512,)
    torch.testing.assert_close(ours, expected, atol=1e-4, rtol=1e-4)


def test_conversion_drops_classifier_heads_and_keeps_every_embedding_tensor():
    original = _fake_original_checkpoint()
    converted = aisfx.convert_state_dict(original)
    assert not any("fc" in name for name in converted)
    assert len(converted) == sum(name.startswith("embedding_net.") for name in original)
    assert set(converted) == set(aisfx.build().state_dict())
