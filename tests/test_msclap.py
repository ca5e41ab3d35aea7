"""msclap-2022:PATH: the checkpoint layout, safe loading, text sources, clear errors."""

import argparse
import json

import pytest
import torch

from clapsearch.errors import CheckpointError
from clapsearch.models import load_model
from clapsearch.models.clap import Clap
from clapsearch.models.msclap import TEXT_ENV, config_2022, split_text_source
from tests.msclap_reference import KEYS_FILE, write_bert_base_config

IGNORED_BUFFERS = ("position_ids", "token_type_ids")  # never loaded; persistence varies by version


def test_our_2022_model_has_the_reference_keys_and_shapes(tmp_path):
    reference = json.loads(KEYS_FILE.read_text())
    with torch.device("meta"):  # shapes only: no memory, no random init cost
        module = Clap(config_2022(str(write_bert_base_config(tmp_path))), load_pretrained_text=False)
    ours = {k: list(v.shape) for k, v in module.state_dict().items() if not k.endswith(IGNORED_BUFFERS)}
    assert len(reference) == 292
    assert sorted(set(reference) - set(ours)) == []  # nothing the checkpoint holds is missing here
    assert sorted(set(ours) - set(reference)) == []
    assert ours == reference


@pytest.fixture(scope="module")
def fake_ms_checkpoint(tmp_path_factory, tiny_text_dir):
    """Our own random 2022 module saved in the MS layout: {'model': ..., 'optimizer': ..., 'epoch': ...}.

    The text tower is the tiny test BERT (its architecture comes from the text directory, as
    bert-base-uncased's would); the audio side is the full-size CNN14 + projection.
    """
    torch.manual_seed(3)
    module = Clap(config_2022(str(tiny_text_dir)), load_pretrained_text=False).eval()
    with torch.no_grad():
        for name, buffer in module.named_buffers():  # non-trivial BN statistics
            if name.endswith("running_var"):
                buffer.uniform_(0.5, 2.0)
            elif name.endswith("running_mean"):
                buffer.normal_(0, 0.1)
    state = {"module." + k: v for k, v in module.state_dict().items()}  # as saved from DDP
    state["module.caption_encoder.base.embeddings.position_ids"] = torch.arange(64)[None]
    path = tmp_path_factory.mktemp("ms") / "CLAP_weights_2022.pth"
    optimizer = {"state": {0: {"step": torch.tensor(7.0), "exp_avg": torch.zeros(3)}}, "param_groups": [{"lr": 1e-4}]}
    torch.save({"model": state, "optimizer": optimizer, "epoch": 12}, path)
    return path, module


@pytest.mark.slow
def test_fake_ms_checkpoint_loads_and_embeds_like_the_saved_module(fake_ms_checkpoint, tiny_text_dir):
    path, module = fake_ms_checkpoint
    model = load_model(f"msclap-2022:{path}?text={tiny_text_dir}", device="cpu")
    assert (model.dim, model.sample_rate, model.window_seconds) == (1024, 44100, 5.0)
    assert model.load_report.missing == []
    assert set(model.load_report.unexpected) <= {"caption_encoder.base.embeddings.position_ids"}
    assert model.logit_scale == pytest.approx(1 / 0.07, rel=1e-5)
    torch.manual_seed(0)
    waves = torch.randn(2, 44100) * 0.1  # 1 s keeps the test fast; CNN14 takes any length
    audio = model.embed_audio(waves)
    with torch.no_grad():
        expected = torch.nn.functional.normalize(module.audio_encoder(waves), dim=-1)
    assert audio.shape == (2, 1024) and audio.dtype == torch.float32
    assert torch.allclose(audio, expected, atol=1e-5)
    assert torch.equal(audio, model.embed_audio(waves))  # deterministic
    texts = ["a dog barking", "rain " * 300]  # the long one is truncated to 100 tokens, not an error
    text = model.embed_text(texts)
    with torch.no_grad():
        expected_text = module.encode_text(module.tokenize(texts))
    assert torch.allclose(text, expected_text, atol=1e-5)
    assert torch.allclose(text.norm(dim=-1), torch.ones(2))


@pytest.mark.slow
def test_text_source_from_env_gives_the_same_fingerprint(fake_ms_checkpoint, tiny_text_dir, monkeypatch):
    path, _ = fake_ms_checkpoint
    by_suffix = load_model(f"msclap-2022:{path}?text={tiny_text_dir}", device="cpu")
    monkeypatch.setenv(TEXT_ENV, str(tiny_text_dir))
    by_env = load_model(f"msclap-2022:{path}", device="cpu")
    assert by_env.fingerprint == by_suffix.fingerprint


def test_split_text_source(monkeypatch):
    monkeypatch.delenv(TEXT_ENV, raising=False)
    assert split_text_source("/c.pth?text=/bert", "bert-base-uncased") == ("/c.pth", "/bert")
    assert split_text_source("/c.pth", "bert-base-uncased") == ("/c.pth", "bert-base-uncased")
    monkeypatch.setenv(TEXT_ENV, "/local/bert")
    assert split_text_source("/c.pth", "bert-base-uncased") == ("/c.pth", "/local/bert")


def test_a_pickle_that_needs_arbitrary_unpickling_is_refused(tmp_path):
    path = tmp_path / "unsafe.pth"
    torch.save({"model": {"logit_scale": torch.tensor(1.0)}, "args": argparse.Namespace(lr=1e-4)}, path)
    with pytest.raises(CheckpointError, match="Refusing to load"):
        load_model(f"msclap-2022:{path}")


def test_missing_file_and_wrong_architecture_are_clear_errors(tmp_path, tiny_text_dir):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model(f"msclap-2022:{tmp_path / 'nope.pth'}")
    path = tmp_path / "other.pth"
    torch.save({"model": {"encoder.weight": torch.zeros(2, 2)}}, path)
    with pytest.raises(CheckpointError, match="does not fit"):
        load_model(f"msclap-2022:{path}?text={tiny_text_dir}", device="cpu")


def test_offline_without_a_local_text_model_says_how_to_fix_it(tmp_path, monkeypatch):
    monkeypatch.delenv(TEXT_ENV, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))  # no cached bert-base-uncased
    path = tmp_path / "w.pth"
    torch.save({"model": {}}, path)
    with pytest.raises(CheckpointError, match=r"\?text=DIR"):
        load_model(f"msclap-2022:{path}")


def test_msclap_2023_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="CLAP_weights_2023.pth"):
        load_model(f"msclap-2023:{tmp_path / 'w.pth'}")
