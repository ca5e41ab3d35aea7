"""Parity with the reference implementation (the msclap wheel, fetched into a cache, never committed).

Same random weights in the reference CLAP class and in ours -> the same outputs, and the
committed key list is exactly what the reference class holds.
"""

import json

import pytest
import torch
from torch.nn import functional as F

from clapsearch.models.clap import Clap
from clapsearch.models.msclap import config_2022
from tests.msclap_reference import KEYS_FILE, reference_2022, state_shapes, write_bert_base_config

pytestmark = pytest.mark.slow


def test_committed_key_list_is_the_reference_models(tmp_path):
    reference = reference_2022(str(write_bert_base_config(tmp_path)))  # torchlibrosa cannot use "meta"
    shapes = {k: v for k, v in state_shapes(reference).items() if not k.endswith(("position_ids", "token_type_ids"))}
    assert shapes == json.loads(KEYS_FILE.read_text())


def _randomise(module: torch.nn.Module) -> None:
    """Random weights and batch-norm statistics everywhere (the front end's fixed kernels too)."""
    torch.manual_seed(11)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            if name.endswith("running_var"):
                tensor.uniform_(0.5, 2.0)
            elif "melW" in name or "stft" in name:
                tensor.mul_(1.0 + 0.01 * torch.randn_like(tensor))  # perturbed: proves they are loaded
            else:
                tensor.copy_(torch.randn_like(tensor) * 0.05)


@pytest.fixture(scope="module")
def pair(tiny_text_dir):
    """(reference CLAP, our Clap) holding identical random weights, both in eval mode."""
    # The BERT architecture comes from the tiny test config (32 wide) to keep this fast.
    reference = reference_2022(str(tiny_text_dir), transformer_embed_dim=32)
    _randomise(reference)
    ours = Clap(config_2022(str(tiny_text_dir)), load_pretrained_text=False)
    result = ours.load_state_dict(reference.state_dict(), strict=False)
    assert not result.missing_keys and not result.unexpected_keys
    return reference.eval(), ours.eval()


def _waves() -> torch.Tensor:
    t = torch.arange(44100) / 44100
    tone = 0.5 * torch.sin(2 * torch.pi * 440 * t)
    return torch.stack([tone, 0.1 * torch.randn(44100, generator=torch.Generator().manual_seed(0))])


def test_front_end_cnn14_and_projection_match_the_reference(pair):
    reference, ours = pair
    waves = _waves()
    with torch.no_grad():
        ref_base = reference.audio_encoder.base
        ref_mel = ref_base.logmel_extractor(ref_base.spectrogram_extractor(waves))
        ref_projected, _ = reference.audio_encoder(waves)
        ref_embedding = ref_base(waves)["embedding"]
        assert (ours.audio_encoder.base.log_mel(waves) - ref_mel).abs().max() < 1e-4
        assert (ours.audio_encoder.base(waves) - ref_embedding).abs().max() < 1e-4
        assert (ours.audio_encoder(waves) - ref_projected).abs().max() < 1e-4


def test_text_side_and_logits_match_the_reference(pair):
    reference, ours = pair
    texts = ["this is a sound of dog barking", "rain"]
    # The reference wrapper pads every text to a fixed length and passes token_type_ids.
    ref_tokens = ours.caption_encoder.tokenizer(texts, padding="max_length", max_length=32, return_tensors="pt")
    waves = _waves()
    with torch.no_grad():
        ref_text, ref_audio, ref_scale = reference(waves, dict(ref_tokens))
        our_text = ours.encode_text(ours.tokenize(texts), normalize=False)
        assert (our_text - ref_text).abs().max() < 1e-4
        expected = ref_scale * F.normalize(ref_audio, dim=-1) @ F.normalize(ref_text, dim=-1).T
        assert (ours(waves, ours.tokenize(texts)) - expected).abs().max() < 1e-3  # logits are ~14x cosines
