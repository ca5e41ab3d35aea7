"""bf16 matrix products for a torch tower: its Linear layers in bf16, everything else in float32.

Why not bf16 autocast: autocast runs every matrix product in bf16, the attention products and the
convolutions included, and carries part of the residual stream in bf16. On the full-size HTSAT over
282 held-out real clips (benchmarks/laion_runtime.py --manifest) that moved the mean-removed cosine
to fp32 to 0.99867 median, under the 0.999 bar, and 2.4 % of each clip's ten nearest clips.
The Linear layers hold nearly all of the matrix work. With only those in bf16 (weights stored in
bf16, inputs rounded to bf16, products summed in float32 by oneDNN and rounded to bf16 on the way
out, then widened again), and norms, GELU, softmax, attention products, convolutions and residual
sums all in float32, the same clips give 0.99955 median and 1.2 % of the ten nearest clips move;
indexing runs 1.28-1.34x faster end to end than with ONNX Runtime float32 (benchmarks/README.md).
The same rounding on a trained transformer, the default model's text tower, moved no validation
figure by more than 0.24 points (benchmarks/bf16_trained_tower.py). (A float32 output straight
from the bf16 product, `mm(..., out_dtype=float32)`, exists in torch only for CUDA.)
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


class Bf16Linear(torch.nn.Module):
    """A Linear layer whose product runs in bf16 on float32 (or bf16) input; float32 output unless told."""

    def __init__(self, linear: torch.nn.Linear, out_dtype: torch.dtype = torch.float32):
        super().__init__()
        self.in_features, self.out_features, self.out_dtype = linear.in_features, linear.out_features, out_dtype
        self.weight = torch.nn.Parameter(linear.weight.detach().to(torch.bfloat16), requires_grad=False)
        bias = linear.bias
        self.bias = None if bias is None else torch.nn.Parameter(bias.detach().to(torch.bfloat16), requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x.to(torch.bfloat16), self.weight, self.bias).to(self.out_dtype)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}, "
                f"bf16, out={self.out_dtype}")


def bf16_linears(module: torch.nn.Module) -> int:
    """Replace every Linear layer inside `module` by its Bf16Linear, in place; how many were replaced.

    transformers' feed-forward halves (`XxxIntermediate`: `dense`, then `intermediate_act_fn`) feed
    only the next Linear layer, which rounds its input to bf16 anyway. Their `dense` keeps its bf16
    output, so the activation reads and writes half the bytes and nothing is cast twice: the same
    values within 5e-8 on the full-size HTSAT, about 8 % faster.
    """
    replaced = 0
    for parent in list(module.modules()):
        feeds_a_linear = hasattr(parent, "intermediate_act_fn")
        for name, child in list(parent.named_children()):
            if type(child) is torch.nn.Linear:
                out = torch.bfloat16 if feeds_a_linear and name == "dense" else torch.float32
                setattr(parent, name, Bf16Linear(child, out_dtype=out))
                replaced += 1
    return replaced
