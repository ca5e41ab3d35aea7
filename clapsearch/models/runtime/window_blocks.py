"""HTSAT's shifted-window blocks for inference: the same arithmetic as transformers', less data moved.

transformers' `ClapAudioLayer` rolls the token grid, copies it into windows, runs three separate
query/key/value products, rebuilds the relative-position bias from its table, scales the scores in a
pass of their own, and reverses the windows and the roll with two more copies, in every block of every
call. On the full-size HTSAT in torch-bf16 that movement cost about as much as the products it
served. `WindowBlock` does the same arithmetic with the constant parts made once, at build time:

- the roll and the window partition are one gather of the tokens, made once as an index, and the
  way back is one gather as well, taken after the output projection (a per-token product commutes
  with any reordering of the tokens), so it lands in the residual sum directly;
- one product for query, key and value, of the three weights stacked (bf16 weights, when the
  Linear layers were made bf16 first, are the same values stacked);
- the relative-position bias, and the shifted blocks' region mask, summed once into one tensor;
- the 1/sqrt(head size) scale applied to the queries, the bias added and the softmax taken in place.

The attention products, the softmax, the norms and the residual sums stay in float32; a block built
from float32 Linear layers matches transformers' within float rounding (tests/test_window_blocks.py).
For inference only: dropout and drop-path are left out, as eval mode leaves them, and the bias is
frozen at build time. A block whose grid is not a whole number of windows (transformers pads it)
is left as transformers wrote it.
"""

from __future__ import annotations

import torch

from .bf16_linear import Bf16Linear


def _stacked_qkv(attention) -> torch.nn.Module:
    """One Linear layer of query, key and value stacked, of the same kind as they are (float32 or bf16)."""
    parts = (attention.query, attention.key, attention.value)
    stacked = torch.nn.Linear(parts[0].in_features, 3 * parts[0].out_features, bias=parts[0].bias is not None)
    with torch.no_grad():
        stacked.weight.copy_(torch.cat([part.weight.float() for part in parts]))
        if stacked.bias is not None:
            stacked.bias.copy_(torch.cat([part.bias.float() for part in parts]))
    # bf16 weights widened to float32 and narrowed again are the same values.
    return Bf16Linear(stacked) if isinstance(parts[0], Bf16Linear) else stacked.requires_grad_(False)


def _position_bias(attention) -> torch.Tensor:
    """(heads, L, L) relative-position bias of a window of L tokens, as transformers indexes its table."""
    tokens = attention.window_size[0] * attention.window_size[1]
    table = attention.relative_position_bias_table.detach()
    bias = table[attention.relative_position_index.view(-1)].view(tokens, tokens, -1)
    return bias.permute(2, 0, 1).float()


def _window_order(height: int, width: int, window: int, shift: int) -> torch.Tensor:
    """For each token in window order (window by window, row-major inside), its place in the grid."""
    grid = torch.arange(height * width).view(height, width)
    if shift:
        grid = torch.roll(grid, shifts=(-shift, -shift), dims=(0, 1))
    windows = grid.view(height // window, window, width // window, window).permute(0, 2, 1, 3)
    return windows.reshape(-1).contiguous()


def window_and_shift(layer, resolution) -> tuple[int, int]:
    """The window and shift transformers' layer uses at this grid: a grid no larger than one window is one."""
    if min(resolution) <= layer.window_size:
        return min(resolution), 0
    return int(layer.window_size), int(layer.shift_size)


class WindowBlock(torch.nn.Module):
    """One shifted-window transformer block of a fixed grid: transformers' ClapAudioLayer in eval mode."""

    def __init__(self, layer, resolution: tuple[int, int]):
        super().__init__()
        height, width = self.resolution = tuple(int(r) for r in resolution)
        window, shift = window_and_shift(layer, self.resolution)
        attention = layer.attention.self
        self.heads, self.head_size = attention.num_attention_heads, attention.attention_head_size
        self.windows, self.tokens = (height // window) * (width // window), window * window
        self.norm_before, self.norm_after = layer.layernorm_before, layer.layernorm_after
        self.qkv = _stacked_qkv(attention)
        self.projection = layer.attention.output.dense
        self.intermediate, self.output = layer.intermediate, layer.output.dense
        order = _window_order(height, width, window, shift)
        self.register_buffer("order", order, persistent=False)
        self.register_buffer("back", torch.argsort(order), persistent=False)
        bias = _position_bias(attention).unsqueeze(0)
        if shift:  # -100 between tokens the roll brought together from different regions
            mask = layer.get_attn_mask(height, width, dtype=torch.float32, device=bias.device)
            bias = bias + mask.unsqueeze(1)
        self.register_buffer("bias", bias.contiguous(), persistent=False)  # (windows or 1, heads, L, L)
        self.input_dtype = torch.bfloat16 if isinstance(self.qkv, Bf16Linear) else torch.float32
        self.to(attention.query.weight.device)  # the stacked product and the index were made on the CPU

    def forward(self, hidden_states, input_dimensions, output_attentions=False, always_partition=False):
        if tuple(input_dimensions) != self.resolution or output_attentions or always_partition:
            raise ValueError(f"This inference block runs a {self.resolution} grid as transformers does by "
                             f"default; it was called with {tuple(input_dimensions)}, output_attentions="
                             f"{output_attentions}, always_partition={always_partition}.")
        batch, length, channels = hidden_states.shape
        tokens = self.norm_before(hidden_states).to(self.input_dtype)
        tokens = tokens.index_select(1, self.order)
        context = self._attend(self.qkv(tokens).view(batch, self.windows, self.tokens, 3, self.heads, -1))
        context = context.permute(0, 1, 3, 2, 4).reshape(batch, length, channels)
        hidden_states = hidden_states + self.projection(context).index_select(1, self.back)
        return (hidden_states + self.output(self.intermediate(self.norm_after(hidden_states))),)

    def _attend(self, qkv):
        """(batch, windows, L, 3, heads, d) -> (batch, windows, heads, L, d) of float32 attention."""
        query, key, value = qkv.permute(3, 0, 1, 4, 2, 5).unbind(0)
        scores = torch.matmul(query * self.head_size ** -0.5, key.transpose(-1, -2))
        scores += self.bias
        torch.softmax(scores, dim=-1, out=scores)
        return torch.matmul(scores, value)


def runs_whole_windows(layer, resolution) -> bool:
    """Whether transformers runs this block on whole windows: no padding, its own window size throughout."""
    window, _ = window_and_shift(layer, resolution)
    whole = resolution[0] % window == 0 and resolution[1] % window == 0
    return whole and tuple(layer.attention.self.window_size) == (window, window)


def window_blocks(audio_model) -> int:
    """Replace the HTSAT's shifted-window blocks by WindowBlocks, in place; how many were replaced."""
    replaced = 0
    for stage in audio_model.audio_encoder.layers:
        for i, layer in enumerate(stage.blocks):
            if runs_whole_windows(layer, layer.input_resolution):
                stage.blocks[i] = WindowBlock(layer, layer.input_resolution)
                replaced += 1
    return replaced
