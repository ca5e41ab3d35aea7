"""The contrastive objective: the paper's formula on one process, and exact gradients across ranks."""

import math

import pytest
import torch
from torch.nn import functional as F

from training.losses import contrastive_loss, gather_features


def features(rows=6, dim=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(rows, dim, generator=g), dim=-1), F.normalize(torch.randn(rows, dim, generator=g), dim=-1)


def reference_loss(audio, text, scale):
    """Written out term by term: mean over rows and over columns of -log softmax at the diagonal."""
    n = audio.shape[0]
    sim = [[scale * float(audio[i] @ text[j]) for j in range(n)] for i in range(n)]
    rows = [-(sim[i][i] - math.log(sum(math.exp(v) for v in sim[i]))) for i in range(n)]
    cols = [-(sim[j][j] - math.log(sum(math.exp(sim[i][j]) for i in range(n)))) for j in range(n)]
    return (sum(rows) / n + sum(cols) / n) / 2


def test_matches_the_formula_and_is_symmetric_in_roles():
    audio, text = features()
    loss = contrastive_loss(audio, text, torch.tensor(14.3))
    assert loss.item() == pytest.approx(reference_loss(audio, text, 14.3), rel=1e-5)
    assert contrastive_loss(text, audio, torch.tensor(14.3)).item() == pytest.approx(loss.item(), rel=1e-6)


def test_matched_pairs_give_a_lower_loss_than_shuffled_ones():
    audio, _ = features()
    scale = torch.tensor(20.0)
    assert contrastive_loss(audio, audio, scale) < contrastive_loss(audio, audio.roll(1, 0), scale)
    # Chance level: identical features everywhere -> log(batch size).
    same = F.normalize(torch.ones(6, 5), dim=-1)
    assert contrastive_loss(same, same, scale).item() == pytest.approx(math.log(6), rel=1e-5)


def test_temperature_is_clamped_at_100(tiny_text_dir):
    from tests.tiny_model import build_tiny_module

    model = build_tiny_module(tiny_text_dir)
    with torch.no_grad():
        model.logit_scale.fill_(math.log(1000.0))
    assert model.scale().item() == pytest.approx(100.0)
    with torch.no_grad():
        model.logit_scale.fill_(math.log(1 / 0.07))
    assert model.scale().item() == pytest.approx(1 / 0.07, rel=1e-5)


def test_gather_is_the_identity_on_one_process():
    audio, text = features()
    a, t = gather_features(audio, text, rank=0, world_size=1)
    assert a is audio and t is text


# --- two real processes (gloo) ----------------------------------------------------------------

def _encoders(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Linear(4, 3), torch.nn.Linear(7, 3), torch.nn.Parameter(torch.tensor(math.log(10.0)))


def _batch(rows=8):
    g = torch.Generator().manual_seed(1)
    return torch.randn(rows, 4, generator=g), torch.randn(rows, 7, generator=g)


def _loss_and_grads(audio_in, text_in, rank, world_size):
    audio_net, text_net, log_scale = _encoders()
    audio = F.normalize(audio_net(audio_in), dim=-1)
    text = F.normalize(text_net(text_in), dim=-1)
    loss = contrastive_loss(audio, text, log_scale.exp().clamp(max=100), rank, world_size)
    loss.backward()
    grads = [p.grad for p in (*audio_net.parameters(), *text_net.parameters(), log_scale)]
    return loss.detach(), grads


def _rank_main(rank, world_size, init_file, out_dir):
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world_size)
    audio_in, text_in = _batch()
    rows = audio_in.shape[0] // world_size
    mine = slice(rank * rows, (rank + 1) * rows)
    loss, grads = _loss_and_grads(audio_in[mine], text_in[mine], rank, world_size)
    for grad in [loss, *grads]:  # what DDP does to gradients: the mean over ranks
        dist.all_reduce(grad)
        grad /= world_size
    torch.save({"loss": loss, "grads": grads}, f"{out_dir}/rank{rank}.pt")
    dist.destroy_process_group()


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_two_ranks_give_the_loss_and_gradients_of_the_whole_batch(tmp_path):
    import torch.multiprocessing as mp

    mp.spawn(_rank_main, args=(2, str(tmp_path / "init"), str(tmp_path)), nprocs=2, join=True)
    audio_in, text_in = _batch()
    loss, grads = _loss_and_grads(audio_in, text_in, 0, 1)
    for rank in range(2):
        got = torch.load(tmp_path / f"rank{rank}.pt", weights_only=True)
        assert got["loss"].item() == pytest.approx(loss.item(), rel=1e-6)
        for expected, actual in zip(grads, got["grads"]):
            assert torch.allclose(actual, expected, atol=1e-6), (expected, actual)
