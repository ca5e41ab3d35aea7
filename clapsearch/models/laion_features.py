"""LAION-CLAP's log-mel input in torch, batched: what transformers' ClapFeatureExtractor computes.

    waves (B, T), T <= window -> repeat-pad to the window -> |STFT|^2 (Hann, centre reflect pad)
    -> mel filterbank -> 10 log10(max(., 1e-10)) -> (B, 1, frames, mels), or 4 copies for fusion

The extractor runs a Python loop over the ~1000 frames of every window in numpy; here one
`torch.stft` call covers the whole batch. The transform runs in float64 as the extractor's does:
in float32 its rounding noise, relative to the loudest bin, lifts a pure tone's far bands from the
1e-10 floor to about -86 dB. Its output is then rounded to complex64, again as the extractor's
is; power, mel and log in float32 lose nothing that matters at 1e-4 dB. The filterbanks are the extractor's own arrays (HTK-scale unnormalised for fusion
models, Slaney for the others), so nothing about them is re-derived.

Only the cases our windows produce are covered: at most one window long (never cropped, so never
random), `is_longer` false. For a fusion model whose input is no longer than the window, the
extractor stacks the same mel four times; so do we.
"""

from __future__ import annotations

import torch

MEL_FLOOR = 1e-10  # the extractor's floor on the mel power before the log


class ClapLogMel:
    """Callable: (B, T) float waves at the model's rate -> (B, C, frames, mels) float32 features."""

    def __init__(self, extractor, fusion: bool):
        if getattr(extractor, "padding", "repeatpad") not in ("repeatpad", "pad", "repeat"):
            raise ValueError(f"Unsupported ClapFeatureExtractor padding {extractor.padding!r}.")
        self.fusion = fusion
        self.padding = extractor.padding
        self.window_samples = int(extractor.nb_max_samples)
        self.n_fft = int(extractor.fft_window_size)
        self.hop = int(extractor.hop_length)
        filters = extractor.mel_filters if fusion else extractor.mel_filters_slaney
        self.filters = torch.as_tensor(filters, dtype=torch.float32)  # (n_fft//2+1, mels)
        self.hann = torch.hann_window(self.n_fft, periodic=True, dtype=torch.float64)

    def __call__(self, waves: torch.Tensor) -> torch.Tensor:
        waves = self._pad(torch.as_tensor(waves).to(torch.float64))
        spectrum = torch.stft(waves, self.n_fft, hop_length=self.hop, window=self.hann, center=True,
                              pad_mode="reflect", onesided=True, return_complex=True)  # (B, bins, frames)
        parts = torch.view_as_real(spectrum.to(torch.complex64))
        power = torch.addcmul(parts[..., 0].square(), parts[..., 1], parts[..., 1])  # |X|^2, no complex abs
        mel = torch.matmul(power.transpose(1, 2), self.filters).clamp_(min=MEL_FLOOR)  # (B, frames, mels)
        features = (10.0 * torch.log10(mel)).unsqueeze(1)
        return features.expand(-1, 4, -1, -1) if self.fusion else features

    def _pad(self, waves: torch.Tensor) -> torch.Tensor:
        """Shorter windows are tiled whole (repeatpad) or not at all (pad), then zero-padded."""
        length = waves.shape[1]
        if length == self.window_samples:
            return waves
        if length == 0:
            raise ValueError("Cannot embed an empty window.")
        if self.padding == "repeat":
            return waves.repeat(1, self.window_samples // length + 1)[:, : self.window_samples]
        if self.padding == "repeatpad":
            waves = waves.repeat(1, self.window_samples // length)
        return torch.nn.functional.pad(waves, (0, self.window_samples - waves.shape[1]))
