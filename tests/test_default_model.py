"""The bundled default model: loads offline, embeds deterministically, and ranks real recordings
(the held-out examples/ recordings) under the walk-through's queries."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from clapsearch.models import load_model
from clapsearch.models.default import ASSET_DIR

from training.recipes.default.walkthrough import WALK_THROUGH, example_vectors, rankings


@pytest.fixture(scope="module")
def model():
    return load_model("default")  # HF_HUB_OFFLINE=1 is set for every test (conftest)


def test_bundled_files_are_small_and_hold_no_text_tower_weights():
    from safetensors import safe_open

    config = json.loads((ASSET_DIR / "config.json").read_text())
    assert config["text_weights_external"] is True
    assert config["audio"]["kind"] == "aisfx"
    assert (ASSET_DIR / "model.safetensors").stat().st_size < 50e6
    with safe_open(str(ASSET_DIR / "model.safetensors"), "pt") as weights:
        names = list(weights.keys())
    assert not any(n.startswith("caption_encoder.base.") for n in names)
    assert any(n.startswith("audio_encoder.base.net.blocks.3.") for n in names)
    assert (ASSET_DIR / "MODEL_CARD.md").is_file()


def test_loads_offline_with_its_declared_shape(model):
    assert model.name == "default"
    assert (model.dim, model.sample_rate, model.window_seconds) == (512, 44100, 2.3)
    assert 1.0 < model.logit_scale <= 100.0


def test_embeddings_are_deterministic_and_normalised(model):
    window = round(model.window_seconds * model.sample_rate)
    waves = torch.from_numpy(np.random.default_rng(0).uniform(-0.3, 0.3, (3, window)).astype(np.float32))
    first, second = model.embed_audio(waves), model.embed_audio(waves.clone())
    assert first.shape == (3, 512) and first.dtype == torch.float32
    assert torch.equal(first, second)
    torch.testing.assert_close(first.norm(dim=1), torch.ones(3))
    texts = np.asarray(model.embed_text(["a dog barking", "rain"]))  # numpy from the ONNX text tower
    assert np.array_equal(texts, np.asarray(model.embed_text(["a dog barking", "rain"])))
    np.testing.assert_allclose(np.linalg.norm(texts, axis=1), np.ones(2), rtol=1e-6)


@pytest.fixture(scope="module")
def walk_through():
    # The card's walk-through is torch fp32's, the reference; the int8 default differs by a hair
    # (on these seven it ranks the same firsts).
    reference = load_model("default", runtime="torch")
    return rankings(reference, example_vectors(reference))


# The shipped model (chosen on the cross-source pool only; the examples choose nothing) ranks the
# car engine first for "a horse" and the horse fifth; the model card reports it. strict: the test
# fails if a new model fixes it.
KNOWN_MISSES = {"a horse"}


@pytest.mark.slow
@pytest.mark.parametrize("query", [
    pytest.param(q, marks=pytest.mark.xfail(strict=True, reason="known miss of the shipped model"))
    if q in KNOWN_MISSES else q for q in WALK_THROUGH
])
def test_walk_through_query_ranks_its_example_first(walk_through, query):
    assert walk_through[query][0] == WALK_THROUGH[query], walk_through[query]


@pytest.mark.slow
def test_cli_indexes_and_queries_the_examples_offline_with_the_default_model(no_network, tmp_path):
    from click.testing import CliRunner

    from clapsearch.cli import cli
    from training.recipes.default.walkthrough import EXAMPLES

    db = str(tmp_path / "examples.db")
    runner = CliRunner()
    indexed = runner.invoke(cli, ["index", str(EXAMPLES), "--db", db], catch_exceptions=False)
    assert indexed.exit_code == 0, indexed.output
    result = runner.invoke(cli, ["query", "dog barking", "--db", db, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert Path(hits[0]["path"]).name == "dog_bark.ogg", [h["path"] for h in hits]


@pytest.mark.slow
def test_the_python_api_prints_no_third_party_progress_bars(tmp_path):
    import subprocess
    import sys

    code = ("from clapsearch import Library\n"
            "from clapsearch.models import load_model\n"
            "load_model('default').embed_text(['a dog barking'])\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and done.stdout == ""
