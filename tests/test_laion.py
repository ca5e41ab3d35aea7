"""hf:MODEL: a tiny transformers ClapModel saved to disk; our embeddings equal direct ClapModel calls."""

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from clapsearch.errors import CheckpointError
from clapsearch.models import load_model
from clapsearch.models.laion import features_of
from tests.laion_model import tiny_config, write_laion


def write_tiny_laion(directory, fusion: bool, seed: int = 0):
    """A 2-layer RoBERTa + a narrow HTSAT, a byte-level BPE vocabulary of letters, save_pretrained."""
    return write_laion(directory, tiny_config(fusion), seed=seed)


@pytest.fixture(scope="module", params=[False, True], ids=["unfused", "fused"])
def tiny_laion(request, tmp_path_factory):
    from transformers import AutoFeatureExtractor, AutoTokenizer, ClapModel

    directory = write_tiny_laion(tmp_path_factory.mktemp("laion"), fusion=request.param)
    model = load_model(f"hf:{directory}", device="cpu")
    direct = ClapModel.from_pretrained(str(directory)).eval()
    return model, direct, AutoFeatureExtractor.from_pretrained(str(directory)), AutoTokenizer.from_pretrained(str(directory)), directory


def _windows(n: int) -> torch.Tensor:
    rng = np.random.default_rng(5)
    return torch.from_numpy((0.1 * rng.standard_normal((n, 480000))).astype(np.float32))


@pytest.mark.slow
def test_embeddings_equal_direct_clapmodel_calls(tiny_laion):
    model, direct, extractor, tokenizer, _ = tiny_laion
    assert (model.dim, model.sample_rate, model.window_seconds) == (16, 48000, 10.0)
    assert model.logit_scale == pytest.approx(float(direct.logit_scale_a.detach().exp()))
    waves = _windows(2)
    truncation = "fusion" if direct.config.audio_config.enable_fusion else "rand_trunc"
    inputs = extractor(list(waves.numpy()), sampling_rate=48000, truncation=truncation, return_tensors="pt")
    texts = ["a dog barks", "rain on a roof"]
    tokens = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        audio = features_of(direct.get_audio_features(input_features=inputs["input_features"],
                                                      is_longer=torch.zeros(2, 1, dtype=torch.bool)))
        text = features_of(direct.get_text_features(**tokens))
    for runtime in ("onnx", "torch"):  # onnx: the default on a CPU; torch: the reference
        tested = model if runtime == model.runtime else load_model(f"hf:{tiny_laion[4]}", device="cpu", runtime=runtime)
        assert torch.allclose(tested.embed_audio(waves), F.normalize(audio, dim=-1), atol=1e-5)
        assert torch.allclose(tested.embed_text(texts), F.normalize(text, dim=-1), atol=1e-5)


@pytest.mark.slow
def test_deterministic_and_batch_independent(tiny_laion):
    """With fusion the reference extractor flags a random short clip as `is_longer`; we never do."""
    model = tiny_laion[0]
    waves = _windows(2)
    batch = model.embed_audio(waves)
    assert torch.equal(batch, model.embed_audio(waves))
    alone = torch.cat([model.embed_audio(waves[i:i + 1]) for i in range(2)])
    assert torch.allclose(batch, alone, atol=1e-5)
    assert torch.allclose(batch.norm(dim=-1), torch.ones(2))


def test_transformers_4_tensor_returns_are_accepted(tiny_laion, monkeypatch):
    model = tiny_laion[0]
    texts = ["a dog", "a cat"]
    expected = model.embed_text(texts)
    original = model.model.get_text_features
    monkeypatch.setattr(model.model, "get_text_features", lambda **kw: original(**kw).pooler_output)  # 4.x style
    assert torch.allclose(model.embed_text(texts), expected)


def test_long_texts_are_truncated_and_long_windows_refused(tiny_laion):
    model = tiny_laion[0]
    assert model.embed_text(["dog " * 200]).shape == (1, 16)  # 32 usable positions in the tiny model
    with pytest.raises(ValueError, match="at most 480000"):
        model.embed_audio(torch.zeros(1, 480001))


@pytest.mark.slow
def test_fingerprint_follows_the_weights(tiny_laion, tmp_path):
    model, directory = tiny_laion[0], tiny_laion[4]
    assert load_model(f"hf:{directory}", device="cpu").fingerprint == model.fingerprint
    fusion = bool(model.model.config.audio_config.enable_fusion)
    other = write_tiny_laion(tmp_path / "other", fusion=fusion, seed=1)
    assert load_model(f"hf:{other}", device="cpu").fingerprint != model.fingerprint


def test_unreachable_hub_id_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))
    with pytest.raises(CheckpointError, match="hf:laion/clap-htsat-unfused"):
        load_model("hf:laion/clap-htsat-unfused")


def test_indexing_pads_nothing_and_gives_a_file_the_same_bits_in_any_company(tiny_laion, tmp_path):
    from clapsearch.audio.pipeline import embed_files
    from tests.audio_gen import chirp, noise, write_audio

    model = tiny_laion[0]
    assert model.call_rows == 1  # one window per call on a CPU: nothing to pad
    paths = [str(write_audio(tmp_path / "a.wav", chirp(100, 6000, 14.0, 16000), 16000)),
             str(write_audio(tmp_path / "b.flac", noise(3.0, 22050, seed=2), 22050))]
    together = {r.path: r for r in embed_files(model, paths, batch_size=4, threads=2, workers=2)}
    assert [len(together[p].starts) for p in paths] == [2, 1]  # 0-10 s and 4-14 s; one repeat-padded window
    for path in paths:
        [alone] = embed_files(model, [path], batch_size=32, threads=1, workers=1)
        np.testing.assert_array_equal(alone.vectors, together[path].vectors)


@pytest.mark.slow
def test_onnx_runtime_matches_torch_and_shares_the_fingerprint(tiny_laion):
    """ONNX Runtime (the CPU default without bf16) must match torch, the reference (bar: cosine >= 0.999)."""
    directory = tiny_laion[4]
    model = load_model(f"hf:{directory}", device="cpu", runtime="onnx")
    reference = load_model(f"hf:{directory}", device="cpu", runtime="torch")
    assert (model.runtime, reference.runtime) == ("onnx", "torch")
    assert model.fingerprint == reference.fingerprint and model.call_rows == 1
    rng = np.random.default_rng(7)
    t = np.arange(480000) / 48000
    waves = torch.from_numpy(np.stack([0.1 * rng.standard_normal(480000), 0.5 * np.sin(2 * np.pi * 440 * t),
                                       np.sign(np.sin(2 * np.pi * 3 * t)) * 0.3]).astype(np.float32))
    for batch in (waves, waves[:1], waves[:, :100000]):  # 3 rows, 1 row, short windows (repeat-padded)
        got, expected = model.embed_audio(batch), reference.embed_audio(batch)
        assert got.shape == expected.shape and got.dtype == torch.float32
        assert float((got * expected).sum(-1).min()) >= 0.999
        assert torch.allclose(got, expected, atol=1e-4)


@pytest.mark.slow
def test_onnx_export_is_written_once_per_fingerprint_and_reused(tiny_laion, tmp_path, monkeypatch):
    from clapsearch.models.runtime import laion_onnx

    directory = tiny_laion[4]
    monkeypatch.setenv("CLAPSEARCH_CACHE_DIR", str(tmp_path / "cache"))
    first = load_model(f"hf:{directory}", device="cpu", runtime="onnx")
    expected = first.embed_audio(_windows(1))
    path = laion_onnx.onnx_path(first.fingerprint)
    assert path.is_file() and path.parent == tmp_path / "cache" / "onnx"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind

    def no_second_export(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(laion_onnx, "export_audio", no_second_export)
    again = load_model(f"hf:{directory}", device="cpu", runtime="onnx")
    assert torch.equal(again.embed_audio(_windows(1)), expected)


def test_the_default_runtime_is_torch_bf16_on_cpus_with_bf16_else_onnx_and_torch_on_a_gpu(tiny_laion, monkeypatch):
    from clapsearch.models import laion

    directory = tiny_laion[4]
    monkeypatch.delenv("CLAPSEARCH_RUNTIME", raising=False)
    native = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    assert load_model(f"hf:{directory}", device="cpu").runtime == ("torch-bf16" if native else "onnx")
    monkeypatch.setattr(laion, "has_bf16", lambda device: False)
    assert load_model(f"hf:{directory}", device="cpu").runtime == "onnx"
    monkeypatch.setattr(laion, "has_bf16", lambda device: True)
    assert laion.default_runtime(torch.device("cpu")) == "torch-bf16"
    assert laion.default_runtime(torch.device("cuda")) == "torch"
    assert load_model(f"hf:{directory}", device="cpu", runtime="onnx").runtime == "onnx"  # asked for: kept


def test_int8_is_refused_for_hf_models_with_what_to_use(tiny_laion, monkeypatch):
    from clapsearch.errors import RuntimeChoiceError

    directory = tiny_laion[4]
    refusal = r"has no onnx-int8 audio tower \(only the default model has one\); use --runtime torch, onnx or torch-bf16"
    with pytest.raises(RuntimeChoiceError, match=refusal):
        load_model(f"hf:{directory}", device="cpu", runtime="onnx-int8")
    monkeypatch.setenv("CLAPSEARCH_RUNTIME", "onnx-int8")
    with pytest.raises(RuntimeChoiceError, match=refusal):
        load_model(f"hf:{directory}", device="cpu")
    monkeypatch.setenv("CLAPSEARCH_RUNTIME", "torch")
    assert load_model(f"hf:{directory}", device="cpu").runtime == "torch"


@pytest.mark.slow
def test_bf16_runtime_holds_the_cosine_bar_or_is_refused_on_cpus_without_bf16(tiny_laion):
    from clapsearch.errors import RuntimeChoiceError

    directory = tiny_laion[4]
    if not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        with pytest.raises(RuntimeChoiceError, match="no bf16 instructions.*--runtime onnx or torch"):
            load_model(f"hf:{directory}", device="cpu", runtime="torch-bf16")
        return
    model = load_model(f"hf:{directory}", device="cpu", runtime="torch-bf16")
    reference = load_model(f"hf:{directory}", device="cpu", runtime="torch")
    assert model.fingerprint == reference.fingerprint and model.call_rows == 1
    waves = _windows(3)
    got = model.embed_audio(waves)
    assert got.dtype == torch.float32 and torch.allclose(got.norm(dim=-1), torch.ones(3))
    assert float(torch.median((got * reference.embed_audio(waves)).sum(-1))) >= 0.999
    assert torch.equal(model.embed_text(["a dog"]), reference.embed_text(["a dog"]))  # text stays float32
    assert torch.equal(model.embed_audio(waves), got)  # the same window, the same vector
    linears = [type(m).__name__ for m in model.model.audio_model.modules() if "Linear" in type(m).__name__]
    assert linears and set(linears) == {"Bf16Linear"}
    blocks = {type(m).__name__ for m in model.model.audio_model.audio_encoder.modules()}
    assert "WindowBlock" in blocks and "ClapAudioLayer" not in blocks
    assert all(p.dtype == torch.float32 for p in model.model.text_model.parameters())
