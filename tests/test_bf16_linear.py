import torch

from clapsearch.models.runtime.bf16_linear import Bf16Linear, bf16_linears

def _tower():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.GELU(), torch.nn.LayerNorm(32),
                               torch.nn.Sequential(torch.nn.Linear(32, 8, bias=False)), torch.nn.Conv1d(1, 1, 3))


def test_a_bf16_linear_takes_and_gives_float32_within_bf16_rounding():
    linear = _tower()[0]
    x = torch.randn(5, 7, 16)
    got = Bf16Linear(linear)(x)
    want = linear(x)
    assert got.dtype == torch.float32 and got.shape == want.shape
    assert torch.allclose(got, want, rtol=2e-2, atol=2e-2) and not torch.equal(got, want)


def test_only_linear_layers_are_replaced_and_the_weights_keep_their_names():
    tower = _tower()
    keys = set(tower.state_dict())
    assert bf16_linears(tower) == 2
    assert isinstance(tower[0], Bf16Linear) and isinstance(tower[3][0], Bf16Linear) and tower[3][0].bias is None
    assert isinstance(tower[2], torch.nn.LayerNorm) and isinstance(tower[4], torch.nn.Conv1d)
    assert tower[2].weight.dtype == torch.float32 and tower[4].weight.dtype == torch.float32
    assert set(tower.state_dict()) == keys
    assert not any(p.requires_grad for p in tower[0].parameters())


def test_the_replaced_tower_is_deterministic_and_close_to_float32():
    reference, tower = _tower(), _tower()
    bf16_linears(tower)
    x = torch.randn(4, 16)
    with torch.inference_mode():
        first, second, want = tower[:4](x), tower[:4](x), reference[:4](x)
    assert torch.equal(first, second)
    assert float(torch.nn.functional.cosine_similarity(first, want).min()) > 0.999


class _Intermediate(torch.nn.Module):
    """transformers' feed-forward half: dense, then intermediate_act_fn."""

    def __init__(self):
        super().__init__()
        self.dense, self.intermediate_act_fn = torch.nn.Linear(8, 32), torch.nn.GELU()

    def forward(self, x):
        return self.intermediate_act_fn(self.dense(x))


def test_a_feed_forward_half_stays_in_bf16_into_the_next_linear_and_the_block_returns_float32():
    torch.manual_seed(1)
    reference = torch.nn.Sequential(_Intermediate(), torch.nn.Linear(32, 8))
    block = torch.nn.Sequential(_Intermediate(), torch.nn.Linear(32, 8))
    block.load_state_dict(reference.state_dict())
    assert bf16_linears(block) == 2
    x = torch.randn(6, 8)
    with torch.inference_mode():
        hidden, out = block[0](x), block(x)
    assert hidden.dtype == torch.bfloat16 and out.dtype == torch.float32
    with torch.inference_mode():
        want = reference(x)
    assert float(torch.nn.functional.cosine_similarity(out, want).min()) > 0.999
