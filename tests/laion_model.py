"""Write a random-weight transformers ClapModel with its processor to a folder, as save_pretrained does.

The tokenizer is a byte-level BPE vocabulary of the 26 letters, so no hub download is needed; the
tests use tiny configurations, benchmarks/make_random_laion.py the full-size ClapConfig().
"""

from __future__ import annotations

import json
from pathlib import Path

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def letter_vocabulary() -> list[str]:
    return ["<s>", "<pad>", "</s>", "<unk>", "<mask>", "Ġ", *LETTERS, *("Ġ" + c for c in LETTERS)]


def tiny_config(fusion: bool):
    """A 2-layer RoBERTa and a narrow HTSAT: seconds to build, milliseconds to run."""
    from transformers import ClapConfig

    return ClapConfig(
        text_config=dict(vocab_size=len(letter_vocabulary()), hidden_size=32, num_hidden_layers=2,
                         num_attention_heads=2, intermediate_size=64, max_position_embeddings=34),
        audio_config=dict(patch_embeds_hidden_size=16, depths=[1, 1, 1, 1], num_attention_heads=[1, 1, 2, 2],
                          hidden_size=128, enable_fusion=fusion),
        projection_dim=16)


def write_laion(directory, config, seed: int = 0) -> Path:
    """ClapModel(config) with weights drawn from `seed`, and a ClapProcessor, saved to `directory`."""
    import torch
    from transformers import ClapFeatureExtractor, ClapModel, ClapProcessor, RobertaTokenizer

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    vocab = letter_vocabulary()
    (directory / "vocab.json").write_text(json.dumps({token: i for i, token in enumerate(vocab)}))
    (directory / "merges.txt").write_text("#version: 0.2\n" + "\n".join(f"Ġ {c}" for c in LETTERS) + "\n")
    tokenizer = RobertaTokenizer.from_pretrained(str(directory))
    torch.manual_seed(seed)
    ClapModel(config).save_pretrained(str(directory))
    # As the published checkpoints' processors say: unfused models crop (rand_trunc), fused ones fuse.
    extractor = ClapFeatureExtractor(truncation="fusion" if config.audio_config.enable_fusion else "rand_trunc")
    ClapProcessor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(str(directory))
    extractor.save_pretrained(str(directory))  # preprocessor_config.json too, which transformers 4.x reads
    return directory
