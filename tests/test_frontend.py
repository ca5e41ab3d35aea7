"""The log-mel front end against librosa (Slaney mel, periodic Hann, centre reflect padding)."""

import numpy as np
import pytest
import torch

from clapsearch.models.frontend import LogMelFrontEnd, dft_kernels, periodic_hann, slaney_mel_matrix

import librosa  # a test extra (never imported by the product): missing it must fail, not skip

SETTINGS = [  # (sample_rate, n_fft, hop, n_mels, fmin, fmax)
    (44100, 1024, 320, 64, 50.0, 14000.0),  # MS CLAP 2022
    (48000, 1024, 480, 64, 50.0, 14000.0),  # LAION
    (16000, 512, 160, 32, 0.0, 8000.0),  # a small CPU model
]


@pytest.mark.parametrize("sr,n_fft,hop,n_mels,fmin,fmax", SETTINGS)
def test_mel_matrix_matches_librosa(sr, n_fft, hop, n_mels, fmin, fmax):
    ours = slaney_mel_matrix(sr, n_fft, n_mels, fmin, fmax)
    ref = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=False, norm="slaney").T
    assert ours.shape == (n_fft // 2 + 1, n_mels)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-12)


def test_window_and_dft_are_librosa_periodic_hann():
    np.testing.assert_allclose(periodic_hann(1024), librosa.filters.get_window("hann", 1024, fftbins=True), atol=1e-12)
    real, imag = dft_kernels(8)
    frame = np.random.default_rng(0).standard_normal(8)
    spectrum = np.fft.rfft(frame * periodic_hann(8))
    np.testing.assert_allclose(real[:, 0] @ frame, spectrum.real, atol=1e-12)
    np.testing.assert_allclose(imag[:, 0] @ frame, spectrum.imag, atol=1e-12)


def _librosa_log_mel(y, sr, n_fft, hop, n_mels, fmin, fmax):
    power = librosa.feature.melspectrogram(
        y=y, sr=sr, n_fft=n_fft, hop_length=hop, window="hann", center=True, pad_mode="reflect", power=2.0,
        n_mels=n_mels, fmin=fmin, fmax=fmax, htk=False, norm="slaney")
    return power.T  # (frames, n_mels)


@pytest.mark.parametrize("sr,n_fft,hop,n_mels,fmin,fmax", SETTINGS)
def test_log_mel_matches_librosa(sr, n_fft, hop, n_mels, fmin, fmax):
    rng = np.random.default_rng(1)
    t = np.arange(sr // 2) / sr
    y = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)
    front = LogMelFrontEnd(sr, n_fft, hop, n_mels, fmin, fmax).double()
    ours = front(torch.from_numpy(y)[None])[0, 0].numpy()
    ref_power = _librosa_log_mel(y, sr, n_fft, hop, n_mels, fmin, fmax)
    assert ours.shape == ref_power.shape == (y.size // hop + 1, n_mels)
    # In float64 the mel power agrees to 1e-5 relative, i.e. the dB values to ~4e-5 dB.
    np.testing.assert_allclose(10 ** (ours / 10), np.maximum(ref_power, 1e-10), rtol=1e-5)
    # The float32 module (what runs in practice) stays within a hundredth of a dB.
    ours32 = LogMelFrontEnd(sr, n_fft, hop, n_mels, fmin, fmax)(torch.from_numpy(y).float()[None])[0, 0].numpy()
    np.testing.assert_allclose(ours32, 10 * np.log10(np.maximum(ref_power, 1e-10)), atol=1e-2)


def test_front_end_names_and_shapes_match_the_ms_checkpoint():
    state = LogMelFrontEnd().state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()} == {
        "spectrogram_extractor.stft.conv_real.weight": (513, 1, 1024),
        "spectrogram_extractor.stft.conv_imag.weight": (513, 1, 1024),
        "logmel_extractor.melW": (513, 64),
    }
    assert not any(p.requires_grad for p in LogMelFrontEnd().parameters())


def test_silence_is_floored_at_minus_100_db():
    out = LogMelFrontEnd()(torch.zeros(1, 44100))
    assert out.shape == (1, 1, 44100 // 320 + 1, 64)
    assert torch.all(out == -100.0)
