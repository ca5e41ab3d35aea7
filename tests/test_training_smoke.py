"""The training loop end to end on generated tones: logs, checkpoints, exact resume, export."""

import json

import pytest
import torch

from clapsearch.models.registry import load_model
from tests.training_helpers import read_log, recipe, write_recipe
from training import train
from training.checkpoints import latest_checkpoint
from training.export import export_run, trained_module

pytestmark = pytest.mark.slow  # each test trains a model (2-10 s on a busy 2-core machine)


def run(tmp_path, text_dir, run_name, *extra, **top):
    config = write_recipe(tmp_path / f"{run_name}.json", recipe(text_dir, **top))
    return train.main(["--config", str(config), "--run-dir", str(tmp_path / run_name), "--threads", "1", *extra])


def test_one_epoch_writes_log_config_and_checkpoint(tmp_path, tiny_text_dir):
    run_dir = run(tmp_path, tiny_text_dir, "smoke")
    steps = read_log(run_dir)
    assert [s["step"] for s in steps] == list(range(1, 7))  # 24 clips / batch 4
    assert all(s["loss"] > 0 and 1 / 100 <= s["temperature"] <= 1 for s in steps)
    val = read_log(run_dir, "val")
    assert [v["step"] for v in val] == [0, 6]  # untrained baseline, then the end of the epoch
    assert {"t2a_R@1", "t2a_R@10", "a2t_R@1", "a2t_R@10", "zero_shot_accuracy"} <= set(val[1])
    assert json.loads((run_dir / "config.json").read_text())["batch_size"] == 4
    assert latest_checkpoint(run_dir).name == "step_00000006"


def test_refuses_to_overwrite_a_run_without_resume(tmp_path, tiny_text_dir):
    run(tmp_path, tiny_text_dir, "again", "--set", "max_steps=1")
    with pytest.raises(SystemExit, match="--resume"):
        run(tmp_path, tiny_text_dir, "again", "--set", "max_steps=1")


def test_resume_gives_the_same_next_losses(tmp_path, tiny_text_dir):
    # Dropout, random crops, caption sampling and augmentation all on: every RNG must be restored.
    extra = {"data": {**recipe(tiny_text_dir)["data"],
                      "augment": {"gain_db": 6, "noise_snr_db": [10, 30], "time_shift": 0.2}}}
    whole = run(tmp_path, tiny_text_dir, "whole", "--set", "max_steps=4", **extra)
    run(tmp_path, tiny_text_dir, "parts", "--set", "max_steps=2", **extra)
    resumed = run(tmp_path, tiny_text_dir, "parts", "--resume", "--set", "max_steps=4", **extra)
    expected, got = read_log(whole), read_log(resumed)
    assert [s["step"] for s in got] == [1, 2, 3, 4]
    for a, b in zip(expected, got):
        assert b["loss"] == pytest.approx(a["loss"], abs=1e-6)
        assert b["logit_scale"] == pytest.approx(a["logit_scale"], abs=1e-7)
    final_a, final_b = trained_module(whole), trained_module(resumed)
    for (name, a), b in zip(final_a.state_dict().items(), final_b.state_dict().values()):
        assert torch.allclose(a.float(), b.float(), atol=1e-6), name


def test_gradient_accumulation_and_frozen_parts(tmp_path, tiny_text_dir):
    freeze = {"audio_tower": False, "text_tower": True, "text_projection": True, "logit_scale": True}
    run_dir = run(tmp_path, tiny_text_dir, "accum", grad_accum=2, freeze=freeze)
    assert [s["step"] for s in read_log(run_dir)] == [1, 2, 3]  # 6 micro-batches / 2
    start = train.build_model(train.load_config(tmp_path / "accum.json"))
    trained = trained_module(run_dir)
    before, after = start.state_dict(), trained.state_dict()
    assert torch.equal(before["caption_encoder.projection.linear1.weight"], after["caption_encoder.projection.linear1.weight"])
    assert torch.equal(before["caption_encoder.base.embeddings.word_embeddings.weight"],
                       after["caption_encoder.base.embeddings.word_embeddings.weight"])
    assert torch.equal(before["logit_scale"], after["logit_scale"])
    assert not torch.equal(before["audio_encoder.projection.linear1.weight"], after["audio_encoder.projection.linear1.weight"])


def test_bf16_autocast_runs(tmp_path, tiny_text_dir):
    run_dir = run(tmp_path, tiny_text_dir, "bf16", "--set", "max_steps=2", precision="bf16")
    assert all(torch.isfinite(torch.tensor(s["loss"])) for s in read_log(run_dir))


def test_export_loads_in_clapsearch_with_the_same_embeddings(tmp_path, tiny_text_dir):
    run_dir = run(tmp_path, tiny_text_dir, "export", "--set", "max_steps=2")
    out = export_run(run_dir, tmp_path / "model")
    model = load_model(str(out), device="cpu")
    module = trained_module(run_dir)
    waves = torch.randn(3, 16000, generator=torch.Generator().manual_seed(3))
    texts = ["a low square tone", "a high sine beep"]
    with torch.no_grad():
        expected_audio = module.encode_audio(waves)
        expected_text = module.encode_text(module.tokenize(texts))
    assert torch.allclose(model.embed_audio(waves), expected_audio, atol=1e-5)
    assert torch.allclose(model.embed_text(texts), expected_text, atol=1e-5)
    assert model.sample_rate == 16000 and model.window_seconds == 1.0 and model.dim == 16


def test_decoding_in_workers_gives_the_same_run(tmp_path, tiny_text_dir):
    data = recipe(tiny_text_dir)["data"]
    inline = run(tmp_path, tiny_text_dir, "inline", "--set", "max_steps=3")
    workers = run(tmp_path, tiny_text_dir, "workers", "--set", "max_steps=3", data={**data, "num_workers": 2})
    assert [s["loss"] for s in read_log(workers)] == pytest.approx([s["loss"] for s in read_log(inline)], abs=1e-6)
