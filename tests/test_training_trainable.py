"""What DDP wraps: only trainable parts are registered; frozen parts run in eval mode, cached."""

import torch

from tests.training_helpers import TINY_TOWER, recipe
from training.config import TrainConfig
from training.trainable import TrainableClap, apply_freeze, build_model, make_optimizer


def model_with(tiny_text_dir, **freeze):
    config = TrainConfig.from_dict(recipe(tiny_text_dir, audio=TINY_TOWER, freeze=freeze))
    clap = build_model(config)
    apply_freeze(clap, config.freeze)
    return clap, config


def test_only_trainable_parts_are_registered(tiny_text_dir):
    clap, _ = model_with(tiny_text_dir, text_tower=True, logit_scale=True)
    wrapper = TrainableClap(clap)
    registered = {id(p) for p in wrapper.parameters()}
    text_tower = {id(p) for p in clap.caption_encoder.base.parameters()}
    assert registered and not registered & text_tower
    assert id(clap.logit_scale) not in registered
    assert {id(p) for p in clap.audio_encoder.parameters()} <= registered
    assert set(wrapper.parts) == {"audio_tower", "audio_projection", "text_projection"}


def test_frozen_parts_stay_in_eval_mode_and_get_no_gradient(tiny_text_dir):
    clap, config = model_with(tiny_text_dir, text_tower=True)
    wrapper = TrainableClap(clap, text_cache_size=100).train()
    assert wrapper.training and clap.audio_encoder.training and not clap.caption_encoder.base.training
    audio, text, scale = wrapper(torch.randn(3, 16000), ["dog", "cat", "dog"])
    (audio @ text.T).sum().backward()
    assert all(p.grad is None for p in clap.caption_encoder.base.parameters())
    assert clap.caption_encoder.projection.linear1.weight.grad is not None
    assert set(wrapper.text_cache.table) == {"dog", "cat"}
    # The cached output equals running the frozen tower again.
    again = wrapper._run_text_tower(["cat"], "cpu")
    assert torch.allclose(again[0], wrapper.text_cache.table["cat"], atol=1e-6)
    # The optimiser only holds trainable parameters.
    optimiser = make_optimizer(clap, config.optim)
    held = {id(p) for group in optimiser.param_groups for p in group["params"]}
    assert held == {id(p) for p in clap.parameters() if p.requires_grad}


def test_everything_frozen_is_refused(tiny_text_dir):
    import pytest

    clap, _ = model_with(tiny_text_dir, audio_tower=True, text_tower=True, audio_projection=True,
                         text_projection=True, logit_scale=True)
    with pytest.raises(ValueError, match="unfreeze"):
        TrainableClap(clap)


def test_starting_weights_from_a_tower_file_and_from_an_exported_model(tmp_path, tiny_text_dir):
    from clapsearch.models.exported import save_dir
    from tests.training_helpers import SMALL_CNN14

    donor_config = TrainConfig.from_dict(recipe(tiny_text_dir, audio=SMALL_CNN14, seed=5))
    donor = build_model(donor_config)
    # A PANNs-style file: the tower's weights under "model".
    torch.save({"model": donor.audio_encoder.base.state_dict(), "iteration": 1}, tmp_path / "tower.pth")
    config = TrainConfig.from_dict(recipe(tiny_text_dir, audio=SMALL_CNN14,
                                          init={"audio_tower": str(tmp_path / "tower.pth"), "audio_tower_key": "model"}))
    started = build_model(config)
    for name, value in donor.audio_encoder.base.state_dict().items():
        assert torch.equal(started.audio_encoder.base.state_dict()[name], value), name
    assert not torch.equal(started.audio_encoder.projection.linear1.weight, donor.audio_encoder.projection.linear1.weight)
    # A whole exported model directory.
    save_dir(donor, tmp_path / "exported")
    config = TrainConfig.from_dict(recipe(tiny_text_dir, audio=SMALL_CNN14, init={"model_dir": str(tmp_path / "exported")}))
    started = build_model(config)
    for name, value in donor.state_dict().items():
        assert torch.equal(started.state_dict()[name], value), name
