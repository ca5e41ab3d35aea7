"""A tiny random-initialised CLAP for tests only (never registered outside the test suite).

It runs the real code path (Clap module, projection heads, a transformers BERT text tower with
a hand-made WordPiece vocabulary, the inference wrapper) at a size that embeds in milliseconds.
Weights come from a fixed seed, so its vectors are the same on every run.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from clapsearch.models import towers
from clapsearch.models.clap import Clap
from clapsearch.models.config import AudioTowerConfig, ClapConfig, TextTowerConfig
from clapsearch.models.wrapper import ClapAudioTextModel

SAMPLE_RATE = 16000
WINDOW_SECONDS = 1.0
WORDS = (
    "this is a sound of dog cat siren bark barking meow rain noise tone chirp low high "
    "piano drum kick snare speech music water engine bird wind bell beep silence loud quiet"
).split()


class TinyAudioTower(nn.Module):
    """log-mel (torchaudio) -> two small convs -> mean + max over time -> (B, 32)."""

    def __init__(self, sample_rate: int = SAMPLE_RATE, n_mels: int = 32):
        super().__init__()
        import torchaudio

        self.mel = torchaudio.transforms.MelSpectrogram(sample_rate, n_fft=512, hop_length=256, n_mels=n_mels)
        self.conv = nn.Sequential(nn.Conv1d(n_mels, 32, 3, padding=1), nn.ReLU(), nn.Conv1d(32, 32, 3, padding=1))
        self.output_dim = 32

    def forward(self, waves: torch.Tensor) -> torch.Tensor:
        x = torch.log(self.mel(waves) + 1e-6)  # (B, n_mels, frames)
        x = self.conv(x)
        return x.mean(-1) + x.amax(-1)


def build_tiny_audio_tower(**params) -> TinyAudioTower:
    return TinyAudioTower(**params)


def write_tiny_text_model(directory: Path) -> Path:
    """A 2-layer, 32-wide BERT and its WordPiece vocabulary, saved with save_pretrained."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    directory = Path(directory)
    if (directory / "config.json").exists():
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, ".", ",", "{", "}"]
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(directory / "vocab.txt"), do_lower_case=True)
    tokenizer.save_pretrained(str(directory))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64)
    BertModel(config).save_pretrained(str(directory))
    return directory


def tiny_config(text_dir: Path) -> ClapConfig:
    return ClapConfig(
        audio=AudioTowerConfig(kind="tiny-test"),
        text=TextTowerConfig(kind="hf", name_or_path=str(text_dir), pooling="cls", max_length=32),
        embed_dim=16,
        sample_rate=SAMPLE_RATE,
        window_seconds=WINDOW_SECONDS,
        projection_dropout=0.0,
        name="tiny-test",
    )


def build_tiny_module(text_dir: Path, seed: int = 0) -> Clap:
    towers.AUDIO_TOWERS["tiny-test"] = build_tiny_audio_tower
    write_tiny_text_model(text_dir)
    torch.manual_seed(seed)
    return Clap(tiny_config(text_dir))


def load_tiny(text_dir: Path, name: str = "tiny", seed: int = 0) -> ClapAudioTextModel:
    return ClapAudioTextModel(build_tiny_module(text_dir, seed), name=name, device="cpu")
