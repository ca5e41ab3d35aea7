"""The default model's audio runtimes (torch, onnx, onnx-int8) against the torch reference, on the
real recordings in examples/, and how a runtime is chosen (--runtime, CLAPSEARCH_RUNTIME, errors)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from clapsearch.cli import cli
from clapsearch.errors import RuntimeChoiceError
from clapsearch.models import load_model
from clapsearch.models.default import ASSET_DIR, INT8_FILE, INT8_INFO, DefaultModel
from clapsearch.models.runtime.choice import RUNTIMES, check_runtime
from clapsearch.models.runtime.clips import clip_windows

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def example_windows() -> np.ndarray:
    """Up to four 2.3 s windows of each example recording (real, held out of training and calibration)."""
    paths = sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".ogg", ".aiff"))
    return np.concatenate(clip_windows(paths, 44100, 101430, 50715, 4))


@pytest.fixture(scope="module")
def torch_vectors(example_windows) -> np.ndarray:
    return DefaultModel(runtime="torch").embed_audio(example_windows).numpy()


def cosines(model, windows, reference) -> np.ndarray:
    return (model.embed_audio(windows).numpy() * reference).sum(axis=1)


@pytest.mark.slow
def test_onnx_fp32_matches_torch_on_real_clips(example_windows, torch_vectors):
    model = DefaultModel(runtime="onnx")
    assert cosines(model, example_windows, torch_vectors).min() >= 0.99999
    assert model.fingerprint == DefaultModel(runtime="torch").fingerprint  # one model, whichever engine


@pytest.mark.slow
def test_onnx_int8_holds_the_quality_bar_on_real_clips(example_windows, torch_vectors):
    # The bar (issue 11) is a median window cosine of 0.999 to torch fp32; on these 12 windows the
    # shipped int8 tower measured median 0.9995 and min 0.9986 (`python benchmarks/runtime_quality.py`).
    found = cosines(DefaultModel(runtime="onnx-int8"), example_windows, torch_vectors)
    assert np.median(found) >= 0.999 and found.min() >= 0.998, (np.median(found), found.min())


def test_the_shipped_int8_tower_was_made_from_the_shipped_weights():
    info = json.loads((ASSET_DIR / INT8_INFO).read_text())
    assert info["fingerprint"] == DefaultModel().fingerprint
    assert (ASSET_DIR / INT8_FILE).stat().st_size < 8e6  # a few MB in the package


def test_a_stale_int8_tower_is_refused_with_how_to_fix(monkeypatch, tmp_path):
    for name in ("config.json", "model.safetensors", INT8_FILE):
        (tmp_path / name).symlink_to(ASSET_DIR / name)
    (tmp_path / INT8_INFO).write_text(json.dumps({"fingerprint": "0" * 24}))
    monkeypatch.setattr("clapsearch.models.default.ASSET_DIR", tmp_path)
    with pytest.raises(RuntimeChoiceError, match="quantised from other weights.*--runtime onnx"):
        DefaultModel(runtime="onnx-int8").embed_audio(np.zeros((1, 101430), np.float32))


def test_int8_is_the_default_on_a_cpu_and_an_explicit_choice_wins(monkeypatch):
    monkeypatch.delenv("CLAPSEARCH_RUNTIME", raising=False)
    assert DefaultModel(device="cpu").runtime == "onnx-int8"
    assert DefaultModel(device="cpu", runtime="onnx").runtime == "onnx"


def test_runtime_choice_errors_say_what_to_choose(monkeypatch):
    assert [check_runtime(r) for r in RUNTIMES] == list(RUNTIMES)
    with pytest.raises(RuntimeChoiceError, match="Unknown runtime 'fast'; choose one of torch, onnx, onnx-int8, torch-bf16"):
        load_model("default", runtime="fast")
    monkeypatch.setenv("CLAPSEARCH_RUNTIME", "onnx-fp16")
    with pytest.raises(RuntimeChoiceError, match="Unknown runtime 'onnx-fp16'.*CLAPSEARCH_RUNTIME"):
        load_model("default")
    monkeypatch.setenv("CLAPSEARCH_RUNTIME", "onnx")
    assert load_model("default").runtime == "onnx"
    with pytest.raises(RuntimeChoiceError, match="Model tiny has no onnx audio tower.*--runtime torch"):
        load_model("tiny")
    assert load_model("tiny", runtime="torch").name == "tiny"
    bf16 = r"Model default has no torch-bf16 audio tower \(only hf: models have one\); use --runtime torch, onnx or onnx-int8"
    with pytest.raises(RuntimeChoiceError, match=bf16):
        load_model("default", runtime="torch-bf16")
    with pytest.raises(RuntimeChoiceError, match=bf16):
        DefaultModel(runtime="torch-bf16")  # built directly, not through the registry


def test_cli_rejects_a_bad_runtime_value():
    result = CliRunner().invoke(cli, ["index", "--runtime", "fast", str(EXAMPLES)])
    assert result.exit_code == 2
    assert "'fast' is not one of 'torch', 'onnx', 'onnx-int8', 'torch-bf16'" in result.output


@pytest.mark.slow
def test_switching_runtime_reindexes_without_error_and_info_names_both(tmp_path):
    library = tmp_path / "lib"
    library.mkdir()
    shutil.copy(EXAMPLES / "dog_bark.ogg", library)
    db = str(tmp_path / "index.db")
    run = lambda *args: CliRunner().invoke(cli, [*args, "--db", db], catch_exceptions=False)  # noqa: E731
    assert run("index", str(library), "--runtime", "torch").exit_code == 0
    shutil.copy(EXAMPLES / "horse.ogg", library)
    second = run("index", str(library), "--runtime", "onnx-int8", "--json")
    assert second.exit_code == 0, second.output
    assert json.loads(second.output)["indexed"] == 1  # only the new file: the model is the same
    info = json.loads(run("info", "--json").output)
    assert info["audio_runtimes"] == ["torch", "onnx-int8"] and info["files_indexed"] == 2
    assert "audio embedded with torch + onnx-int8" in run("info").output
    hits = json.loads(run("similar", str(library / "horse.ogg"), "--runtime", "onnx", "--json").output)
    assert hits and all("horse" not in h["path"] for h in hits)  # itself excluded; the other file found
