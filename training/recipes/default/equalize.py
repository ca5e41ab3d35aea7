"""Channel equalisation of the aisfx audio encoder before int8 quantisation (the same function in float).

int8 activations get one range per tensor, so a channel that spans a tenth of the tensor's range
is quantised with a tenth of the levels. Between two convolutions there are only batch norm, ReLU
and max pooling, and ReLU(m x) = m ReLU(x), max(m x) = m max(x) for m > 0: scaling output channel
c of one convolution by m_c and the matching input channel of the next by 1 / m_c leaves the
network's output unchanged (up to float rounding). After the last convolution the channels pass
through a mean and a max into the float projection, whose input columns take the 1 / m_c.

The multiplier balances the two quantisation errors, as SmoothQuant (Xiao et al. 2023) does for
transformers: m_c = w_c ** (1 - alpha) / a_c ** alpha, with a_c the channel's activation range on
calibration windows and w_c the largest weight reading channel c in the next layer; alpha = 1
gives every channel the same activation range, alpha = 0.5 is data-free cross-layer equalisation
(Nagel et al. 2019) with activations in place of weights. Batch norm is folded into the
convolutions first (eval mode, so exactly).
"""

from __future__ import annotations

import copy

import torch
from torch import nn


def fold_norm(conv: nn.Conv2d, norm: nn.BatchNorm2d) -> nn.Conv2d:
    """conv followed by eval-mode batch norm, as one convolution with a bias."""
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
    folded = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                       bias=True)
    folded.weight.data = conv.weight.detach() * scale[:, None, None, None]
    bias = conv.bias.detach() if conv.bias is not None else torch.zeros_like(norm.running_mean)
    folded.bias.data = (bias - norm.running_mean) * scale + norm.bias
    return folded.to(memory_format=torch.channels_last)


def folded_convolutions(net) -> list[nn.Conv2d]:
    """Fold every block's two batch norms into its convolutions in place; the convolutions in order."""
    convolutions = []
    for block in net.blocks:
        block.conv1, block.norm1 = fold_norm(block.conv1, block.norm1), nn.Identity()
        block.conv2, block.norm2 = fold_norm(block.conv2, block.norm2), nn.Identity()
        convolutions += [block.conv1, block.conv2]
    return convolutions


def activation_ranges(convolutions, net, features: torch.Tensor, batch: int = 16) -> list[torch.Tensor]:
    """Per output channel, the largest value after ReLU of each convolution over `features`."""
    ranges = [torch.zeros(c.out_channels) for c in convolutions]

    def keep(index):
        def hook(_module, _inputs, output):
            ranges[index] = torch.maximum(ranges[index], output.clamp_min(0).amax(dim=(0, 2, 3)))
        return hook

    handles = [c.register_forward_hook(keep(i)) for i, c in enumerate(convolutions)]
    try:
        with torch.inference_mode():
            for start in range(0, len(features), batch):
                net(features[start:start + batch])
    finally:
        for handle in handles:
            handle.remove()
    return ranges


def multipliers(activation: torch.Tensor, weight: torch.Tensor, alpha: float) -> torch.Tensor:
    """m_c = w_c^(1-alpha) / a_c^alpha, scaled to geometric mean 1; dead channels keep 1."""
    alive = (activation > 0) & (weight > 0)
    m = torch.ones_like(activation)
    m[alive] = weight[alive] ** (1 - alpha) / activation[alive] ** alpha
    m[alive] /= torch.exp(torch.log(m[alive]).mean())
    return m


def equalised_encoder(encoder, features, alpha: float = 1.0, outputs=None):
    """A copy of models.clap.AudioEncoder (aisfx net + projection) with batch norm folded and
    channels equalised on `features` ((N, 100, 96) front-end output); the same function in float.

    `outputs`: the indices of the convolutions (0-7) whose output channels are equalised; all if None.
    """
    encoder = copy.deepcopy(encoder).eval()
    net, first = encoder.base.net, encoder.projection.linear1
    convolutions = folded_convolutions(net)
    ranges = activation_ranges(convolutions, net, torch.as_tensor(features, dtype=torch.float32))
    with torch.no_grad():
        # Backwards: a layer's input columns must already carry its own output multipliers.
        reader_weights = first.weight.abs().amax(dim=0)
        chosen = set(range(len(convolutions)) if outputs is None else outputs)
        last = len(convolutions) - 1
        scale_out = multipliers(ranges[-1], reader_weights, 1.0)  # the projection stays float
        scale_out = scale_out if last in chosen else torch.ones_like(scale_out)
        _scale_reader_inputs(first, scale_out)
        for k in range(len(convolutions) - 1, -1, -1):
            conv = convolutions[k]
            conv.weight.mul_(scale_out[:, None, None, None])
            conv.bias.mul_(scale_out)
            if k == 0:
                break
            scale_out = multipliers(ranges[k - 1], conv.weight.abs().amax(dim=(0, 2, 3)), alpha)
            scale_out = scale_out if k - 1 in chosen else torch.ones_like(scale_out)
            conv.weight.div_(scale_out[None, :, None, None])
    return encoder


def _scale_reader_inputs(linear: nn.Linear, m: torch.Tensor) -> None:
    linear.weight.div_(m[None, :])
