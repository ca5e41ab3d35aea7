"""runtime/window_blocks.py: the same numbers as transformers' HTSAT blocks, in float32 and in bf16."""

import pytest
import torch

from clapsearch.models.runtime.bf16_linear import Bf16Linear, bf16_linears
from clapsearch.models.runtime.window_blocks import WindowBlock, window_blocks
from tests.laion_model import tiny_config


def _audio_model(fusion=False, window=8, depths=(1, 1, 1, 1), seed=0):
    from transformers import ClapModel

    config = tiny_config(fusion)
    config.audio_config.window_size, config.audio_config.depths = window, list(depths)
    torch.manual_seed(seed)
    return ClapModel(config).eval().audio_model


def _features(fusion=False, rows=2):
    torch.manual_seed(1)
    return dict(input_features=torch.randn(rows, 4 if fusion else 1, 1001, 64),
                is_longer=torch.zeros(rows, 1, dtype=torch.bool))


def _run(model, features):
    with torch.inference_mode():
        return model(**features).pooler_output


def _blocks(model):
    return [type(block).__name__ for stage in model.audio_encoder.layers for block in stage.blocks]


@pytest.mark.parametrize("fusion", [False, True])
def test_float32_blocks_equal_transformers_within_float_rounding(fusion):
    reference, fast = _audio_model(fusion), _audio_model(fusion)
    assert window_blocks(fast) == 4 and set(_blocks(fast)) == {"WindowBlock"}  # shifted and unshifted alike
    features = _features(fusion)
    want, got = _run(reference, features), _run(fast, features)
    assert got.dtype == torch.float32
    assert torch.allclose(got, want, atol=1e-5, rtol=1e-5)
    assert torch.equal(_run(fast, features), got)  # the same input, the same vector


def test_a_deep_stage_alternates_shifted_and_unshifted_blocks_as_transformers_does():
    reference, fast = _audio_model(depths=(2, 2, 2, 2), seed=3), _audio_model(depths=(2, 2, 2, 2), seed=3)
    assert window_blocks(fast) == 8
    shifted = [bool((block.bias < -50).any()) for block in fast.audio_encoder.layers[0].blocks]
    assert shifted == [False, True]  # the region mask rides only on the shifted block
    features = _features()
    assert torch.allclose(_run(fast, features), _run(reference, features), atol=1e-5, rtol=1e-5)


def test_bf16_blocks_stack_the_rounded_weights_and_stay_next_to_bf16_linears():
    linears_only, fast = _audio_model(), _audio_model()
    bf16_linears(linears_only), bf16_linears(fast)
    first = linears_only.audio_encoder.layers[0].blocks[0].attention.self
    assert window_blocks(fast) == 4
    stacked = fast.audio_encoder.layers[0].blocks[0].qkv
    assert isinstance(stacked, Bf16Linear) and stacked.weight.dtype == torch.bfloat16
    assert torch.equal(stacked.weight, torch.cat([first.query.weight, first.key.weight, first.value.weight]))
    features = _features()
    got, want = _run(fast, features), _run(linears_only, features)
    assert float(torch.nn.functional.cosine_similarity(got, want).min()) > 0.99999


def test_a_grid_that_transformers_pads_keeps_transformers_blocks():
    reference, model = _audio_model(window=6), _audio_model(window=6)
    assert window_blocks(model) == 0 and set(_blocks(model)) == {"ClapAudioLayer"}
    features = _features(rows=1)
    assert torch.equal(_run(model, features), _run(reference, features))


def test_a_block_refuses_a_grid_it_was_not_built_for():
    block = _audio_model().audio_encoder.layers[1].blocks[0]
    assert isinstance(block, torch.nn.Module)
    fast = WindowBlock(block, block.input_resolution)
    tokens = torch.randn(1, 16 * 16, fast.norm_before.normalized_shape[0])
    with pytest.raises(ValueError, match=r"runs a \(32, 32\) grid .* called with \(16, 16\)"):
        fast(tokens, (16, 16))
    with pytest.raises(ValueError, match=r"always_partition=True"):
        fast(tokens, (32, 32), always_partition=True)
