"""Recipes: YAML/JSON <-> dataclasses, overrides, typos refused, shipped recipes load."""

from pathlib import Path

import pytest

from training.config import TrainConfig, expand, load_config, save_config

CONFIGS = Path(__file__).resolve().parents[1] / "training" / "configs"


def test_paper_recipe_holds_the_paper_architecture():
    config = load_config(CONFIGS / "paper_2022.yaml")
    assert config.model.embed_dim == 1024 and config.model.sample_rate == 44100
    assert config.model.window_seconds == 5.0 and config.model.text.max_length == 100
    assert config.model.audio.kind == "cnn14" and config.model.audio.params["widths"][-1] == 2048
    assert config.model.text.name_or_path == "bert-base-uncased" and config.model.text.pooling == "cls"
    assert config.batch_size == 128 and config.optim.name == "adam" and config.epochs == 40
    assert len(config.data.train) == 4


def test_round_trip_through_json(tmp_path):
    config = load_config(CONFIGS / "tiny_synthetic.yaml")
    save_config(config, tmp_path / "config.json")
    assert load_config(tmp_path / "config.json") == config
    assert TrainConfig.from_dict(config.to_dict()) == config


def test_overrides_and_unknown_keys(tmp_path):
    config = load_config(CONFIGS / "tiny_synthetic.yaml", ["optim.lr=3e-4", "freeze.audio_tower=true",
                                                           "data.augment.gain_db=0", "max_steps=5"])
    assert config.optim.lr == 3e-4 and config.freeze.audio_tower is True
    assert config.data.augment.gain_db == 0 and config.max_steps == 5
    with pytest.raises(ValueError, match="Unknown OptimConfig option.*'lrr'"):
        load_config(CONFIGS / "tiny_synthetic.yaml", ["optim.lrr=1"])


def test_environment_variables_in_paths(monkeypatch):
    monkeypatch.setenv("CLAP_DATA", "/data")
    assert expand("${CLAP_DATA}/manifests/clotho.jsonl") == "/data/manifests/clotho.jsonl"
    monkeypatch.delenv("CLAP_DATA")
    with pytest.raises(ValueError, match="environment variable"):
        expand("${CLAP_DATA}/manifests/clotho.jsonl")
