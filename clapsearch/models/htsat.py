"""HTSAT audio tower for MS CLAP 2023: our log-mel front end + the HTSAT that transformers ships.

transformers' ClapAudioEncoder (LAION's HTSAT port) computes the same thing as the HTSAT of the
msclap package for inputs up to 1024 frames (bn0 over mel bins, bicubic stretch to a 256x256
image, Swin stages, final norm, token-semantic grouping, mean = the 768-d `latent_output`);
only parameter names differ, and the MS checkpoint fuses q, k, v into one `qkv` matrix.
`remap_ms_htsat` translates the names, so the MS 2023 weights load into this module.

Front-end defaults are the reference's: its HTSAT builds the mel matrix from its own module
config (32 kHz, 50-14000 Hz) although the audio it sees is 44.1 kHz; the checkpoint's `melW`
overwrites it anyway.
"""

from __future__ import annotations

import re

import torch
from torch import nn

from .frontend import LogMel, Spectrogram

HTSAT_TINY = dict(patch_embeds_hidden_size=96, depths=[2, 2, 6, 2], num_attention_heads=[4, 8, 16, 32],
                  hidden_size=768, window_size=8, spec_size=256, patch_size=4, patch_stride=[4, 4], num_mel_bins=64,
                  enable_fusion=False)


class Htsat(nn.Module):
    """(B, T) waves -> (B, 768) HTSAT latent output. At most spec_size * 4 frames (1024: ~7.4 s at 44.1 kHz)."""

    def __init__(self, n_fft: int = 1024, hop: int = 320, n_mels: int = 64, mel_sample_rate: int = 32000,
                 fmin: float = 50.0, fmax: float = 14000.0, encoder: dict | None = None):
        super().__init__()
        from transformers import ClapAudioConfig, ClapAudioModel

        self.spectrogram_extractor = Spectrogram(n_fft, hop)
        self.logmel_extractor = LogMel(mel_sample_rate, n_fft, n_mels, fmin, fmax)
        config = ClapAudioConfig(**{**HTSAT_TINY, "num_mel_bins": n_mels, **(encoder or {})})
        self.encoder = ClapAudioModel(config).audio_encoder  # built through the model so weights get its init
        self.output_dim = int(config.hidden_size)
        self.max_frames = int(config.spec_size) * (int(config.spec_size) // n_mels)

    def forward(self, waves: torch.Tensor) -> torch.Tensor:
        mel = self.logmel_extractor(self.spectrogram_extractor(waves))  # (B, 1, frames, mels)
        if mel.shape[2] > self.max_frames:
            raise ValueError(f"HTSAT takes at most {self.max_frames} frames; cut the audio into shorter windows.")
        out = self.encoder(mel)  # batch norm over mel bins happens inside
        return out.pooler_output if hasattr(out, "pooler_output") else out[1]


def build(**params) -> Htsat:
    """AUDIO_TOWERS['htsat'] builder."""
    return Htsat(**params)


# MS name (under audio_encoder.base.htsat.) -> ours (under audio_encoder.base.), by pattern.
_BLOCK_RENAMES = {
    "norm1": "layernorm_before",
    "norm2": "layernorm_after",
    "attn.proj": "attention.output.dense",
    "attn.relative_position_bias_table": "attention.self.relative_position_bias_table",
    "attn.relative_position_index": "attention.self.relative_position_index",
    "mlp.fc1": "intermediate.dense",
    "mlp.fc2": "output.dense",
}
# Attention masks (transformers builds them on the fly) and the AudioSet head CLAP does not use.
_DROPPED = re.compile(r"attn_mask$|^(tscam_conv|head)\.")
_BLOCK = re.compile(r"^(layers\.\d+\.blocks\.\d+\.)(.+)$")


def _rename_htsat_key(name: str, value: torch.Tensor) -> dict[str, torch.Tensor]:
    """One MS HTSAT entry (name relative to `htsat.`) -> our entries (relative to the tower)."""
    if name.startswith(("spectrogram_extractor.", "logmel_extractor.")):
        return {name: value}
    if name.startswith("bn0."):
        return {"encoder.batch_norm." + name[4:]: value}
    block = _BLOCK.match(name)
    if block:
        prefix, rest = block.groups()
        if rest.startswith("attn.qkv."):  # fused (3C, ...) -> query, key, value
            kind = rest.rsplit(".", 1)[1]
            q, k, v = value.chunk(3, dim=0)
            base = f"encoder.{prefix}attention.self."
            return {f"{base}query.{kind}": q, f"{base}key.{kind}": k, f"{base}value.{kind}": v}
        for old, new in _BLOCK_RENAMES.items():
            if rest.startswith(old + "."):
                return {f"encoder.{prefix}{new}{rest[len(old):]}": value}
        if rest in _BLOCK_RENAMES:  # parameters named without a trailing ".weight"
            return {f"encoder.{prefix}{_BLOCK_RENAMES[rest]}": value}
    return {"encoder." + name: value}  # patch_embed.*, layers.N.downsample.*, norm.*


def remap_ms_htsat(state: dict, ms_prefix: str = "audio_encoder.base.htsat.",
                   our_prefix: str = "audio_encoder.base.") -> dict:
    """Rewrite the HTSAT entries of an MS CLAP 2023 state dict into this module's names."""
    out = {}
    for name, value in state.items():
        if not name.startswith(ms_prefix):
            out[name] = value
            continue
        rest = name[len(ms_prefix):]
        if _DROPPED.search(rest):
            continue
        out.update({our_prefix + k: v for k, v in _rename_htsat_key(rest, value).items()})
    return out
