"""msclap-2023:PATH: the reference's HTSAT + GPT-2 model, random weights saved in the MS layout,
loaded through our remapping into transformers' HTSAT; outputs equal the reference modules'."""

import json

import pytest
import torch
from torch.nn import functional as F

from clapsearch.models import load_model
from clapsearch.models.htsat import remap_ms_htsat
from tests.msclap_reference import REFERENCE_2023, reference_2022

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def write_tiny_gpt2(directory):
    """A 2-layer, 32-wide GPT-2 config and a byte-level BPE vocabulary where '!' is id 0, as in GPT-2."""
    from transformers import GPT2Config, GPT2Tokenizer

    directory.mkdir(parents=True, exist_ok=True)
    vocab = ["!", "Ġ", *LETTERS, *("Ġ" + c for c in LETTERS), "<|endoftext|>"]
    (directory / "vocab.json").write_text(json.dumps({token: i for i, token in enumerate(vocab)}))
    (directory / "merges.txt").write_text("#version: 0.2\n" + "\n".join(f"Ġ {c}" for c in LETTERS) + "\n")
    GPT2Tokenizer.from_pretrained(str(directory)).save_pretrained(str(directory))
    eos = len(vocab) - 1
    GPT2Config(vocab_size=len(vocab), n_embd=32, n_layer=2, n_head=2, n_positions=64, bos_token_id=eos,
               eos_token_id=eos).save_pretrained(str(directory))
    return directory


def _randomise(module):
    torch.manual_seed(23)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if not tensor.dtype.is_floating_point or name.endswith("attn_mask") or "stft" in name:
                continue
            if name.endswith("running_var"):
                tensor.uniform_(0.5, 2.0)
            else:
                tensor.add_(0.02 * torch.randn_like(tensor))


@pytest.fixture(scope="module")
def reference_and_checkpoint(tmp_path_factory):
    root = tmp_path_factory.mktemp("ms2023")
    text_dir = write_tiny_gpt2(root / "tiny-gpt2")  # the reference picks its GPT-2 branch by 'gpt' in the name
    reference = reference_2022(str(text_dir), **{**REFERENCE_2023, "transformer_embed_dim": 32})
    _randomise(reference)
    path = root / "CLAP_weights_2023.pth"
    torch.save({"model": reference.state_dict(), "epoch": 1}, path)
    return reference.eval(), path, text_dir


@pytest.mark.slow
def test_ms_2023_checkpoint_loads_and_matches_the_reference(reference_and_checkpoint):
    reference, path, text_dir = reference_and_checkpoint
    model = load_model(f"msclap-2023:{path}?text={text_dir}", device="cpu")
    assert (model.dim, model.sample_rate, model.window_seconds) == (1024, 44100, 7.0)
    assert model.load_report.missing == [] and model.load_report.unexpected == []
    waves = 0.1 * torch.randn(1, 44100 * 7, generator=torch.Generator().manual_seed(1))
    texts = ["a dog barks", "rain on the roof"]
    # The reference wrapper: pad token '!', text + " <|endoftext|>", padded to a fixed length.
    tokenizer = model.module.caption_encoder.tokenizer._tok  # GPT-2 tokenizer with pad "!"
    ref_tokens = tokenizer([t + " <|endoftext|>" for t in texts], padding="max_length", max_length=24,
                           return_tensors="pt")
    with torch.no_grad():
        ref_audio = F.normalize(reference.audio_encoder(waves)[0], dim=-1)
        ref_text = F.normalize(reference.caption_encoder(dict(ref_tokens)), dim=-1)
    assert (model.embed_audio(waves) - ref_audio).abs().max() < 1e-4
    assert (model.embed_text(texts) - ref_text).abs().max() < 1e-4


def test_remap_splits_fused_qkv_and_drops_the_audioset_head():
    qkv = torch.arange(12.0).reshape(6, 2)
    state = {
        "audio_encoder.base.htsat.layers.0.blocks.1.attn.qkv.weight": qkv,
        "audio_encoder.base.htsat.layers.0.blocks.1.norm1.bias": torch.ones(2),
        "audio_encoder.base.htsat.layers.0.blocks.1.attn_mask": torch.zeros(1),
        "audio_encoder.base.htsat.bn0.running_mean": torch.zeros(64),
        "audio_encoder.base.htsat.head.weight": torch.zeros(1),
        "audio_encoder.base.htsat.tscam_conv.bias": torch.zeros(1),
        "audio_encoder.base.htsat.logmel_extractor.melW": torch.zeros(1),
        "logit_scale": torch.zeros(()),
    }
    out = remap_ms_htsat(state)
    block = "audio_encoder.base.encoder.layers.0.blocks.1."
    assert torch.equal(out[block + "attention.self.query.weight"], qkv[:2])
    assert torch.equal(out[block + "attention.self.value.weight"], qkv[4:])
    assert sorted(out) == sorted([
        block + "attention.self.query.weight", block + "attention.self.key.weight",
        block + "attention.self.value.weight", block + "layernorm_before.bias",
        "audio_encoder.base.encoder.batch_norm.running_mean", "audio_encoder.base.logmel_extractor.melW",
        "logit_scale"])
