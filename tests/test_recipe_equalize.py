"""Channel equalisation before int8 (training/recipes/default/equalize.py) must not change the function."""

import torch

from clapsearch.models.default import _build_audio_encoder
from clapsearch.models.runtime.audio_onnx import _feature_graph
from training.recipes.default.equalize import activation_ranges, equalised_encoder


def _conv_list(encoder):
    return [c for block in encoder.base.net.blocks for c in (block.conv1, block.conv2)]


def test_equalised_encoder_is_the_same_function_with_even_channel_ranges():
    encoder = _build_audio_encoder("cpu")[0]
    features = torch.rand(12, 100, 96, generator=torch.Generator().manual_seed(0))
    calibration, held_out = features[:8], features[8:]
    for alpha, outputs in ((1.0, None), (0.5, None), (1.0, [0])):
        equalised = equalised_encoder(encoder, calibration, alpha, outputs)
        with torch.inference_mode():
            before, after = _feature_graph(encoder)(held_out), _feature_graph(equalised)(held_out)
        assert (before - after).abs().max() < 1e-5, (alpha, outputs)
    # alpha 1 on every output: each convolution's channels reach the same largest value
    equalised = equalised_encoder(encoder, calibration, 1.0)
    for ranges in activation_ranges(_conv_list(equalised), equalised.base.net, calibration):
        alive = ranges[ranges > 0]
        assert alive.max() / alive.min() < 1.001
    # the original encoder is left as it was (batch norm still there)
    assert isinstance(encoder.base.net.blocks[0].norm1, torch.nn.BatchNorm2d)
