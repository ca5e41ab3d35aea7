"""CNN14: checkpoint names, sizes, small variants that train on CPU, registration as a tower."""

import pytest
import torch

from clapsearch.models.cnn14 import Cnn14, build
from clapsearch.models.towers import build_audio_tower

TINY = dict(widths=(8, 16, 32, 64, 64, 128), sample_rate=16000, n_fft=512, hop=160, n_mels=32, fmax=8000.0)


def test_paper_cnn14_has_the_checkpoint_layout():
    model = Cnn14()
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert len(shapes) == 84
    assert shapes["bn0.weight"] == (64,)
    assert shapes["conv_block1.conv1.weight"] == (64, 1, 3, 3)
    assert shapes["conv_block6.conv2.weight"] == (2048, 2048, 3, 3)
    assert shapes["conv_block6.bn2.num_batches_tracked"] == ()
    assert shapes["fc1.weight"] == (2048, 2048)
    assert shapes["fc_audioset.weight"] == (527, 2048)
    assert model.output_dim == 2048
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert round(trainable / 1e6, 1) == 80.8  # the paper's CNN14 size (front end excluded: frozen)


def test_tiny_cnn14_embeds_deterministically_in_eval():
    torch.manual_seed(0)
    model = build(**TINY).eval()
    waves = torch.randn(3, 16000)
    out = model(waves)
    assert out.shape == (3, 128) and model.output_dim == 128
    assert torch.all(out >= 0)  # ReLU embedding
    assert torch.equal(out, model(waves))
    assert torch.allclose(model(waves[:1]), out[:1], atol=1e-5)  # batch-independent in eval


def test_tiny_cnn14_trains_on_cpu():
    torch.manual_seed(0)
    model = build(**TINY, classes_num=0).train()
    assert model.fc_audioset is None
    waves, target = torch.randn(4, 16000), torch.randn(4, 128)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(5):
        optimiser.zero_grad()
        loss = torch.nn.functional.mse_loss(model(waves), target)
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    assert model.spectrogram_extractor.stft.conv_real.weight.grad is None  # the front end stays frozen


def test_registered_as_audio_tower_and_rejects_bad_widths():
    tower = build_audio_tower("cnn14", {**TINY, "widths": [4, 4, 8, 8, 16, 16], "embed_dim": 24})
    assert isinstance(tower, Cnn14) and tower.output_dim == 24
    with pytest.raises(ValueError, match="6 conv blocks"):
        build(widths=(8, 16))
