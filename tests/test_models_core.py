import torch

from clapsearch.models.exported import build_from_dir, save_dir
from clapsearch.models.registry import load_model, parse_model_name
from tests.tiny_model import build_tiny_module


def test_parse_model_name():
    assert parse_model_name("default") == ("default", "")
    assert parse_model_name("hf:laion/clap-htsat-unfused") == ("hf", "laion/clap-htsat-unfused")
    assert parse_model_name("msclap-2022:/x/CLAP_weights_2022.pth") == ("msclap-2022", "/x/CLAP_weights_2022.pth")
    assert parse_model_name("/some/dir") == ("path", "/some/dir")
    assert parse_model_name("C:\\models\\x") == ("path", "C:\\models\\x")


def test_tiny_model_is_normalised_and_deterministic(tiny_model):
    waves = torch.randn(3, 16000, generator=torch.Generator().manual_seed(1))
    a1, a2 = tiny_model.embed_audio(waves), tiny_model.embed_audio(waves)
    assert a1.shape == (3, 16) and torch.equal(a1, a2)
    assert torch.allclose(a1.norm(dim=-1), torch.ones(3), atol=1e-5)
    t = tiny_model.embed_text(["a dog barking", "rain"])
    assert t.shape == (2, 16)
    assert torch.allclose(t.norm(dim=-1), torch.ones(2), atol=1e-5)


def test_export_roundtrip_keeps_outputs_and_fingerprint(tmp_path, tiny_text_dir, tiny_model):
    module = build_tiny_module(tiny_text_dir)
    save_dir(module, tmp_path / "export")
    loaded = load_model(str(tmp_path / "export"), device="cpu")
    waves = torch.randn(2, 16000, generator=torch.Generator().manual_seed(2))
    assert torch.allclose(loaded.embed_audio(waves), tiny_model.embed_audio(waves), atol=1e-6)
    assert torch.allclose(loaded.embed_text(["dog"]), tiny_model.embed_text(["dog"]), atol=1e-6)
    assert loaded.fingerprint == tiny_model.fingerprint
    # The forward pass gives audio-by-text logits.
    logits = build_from_dir(tmp_path / "export")(waves, loaded.module.tokenize(["dog", "cat", "rain"]))
    assert logits.shape == (2, 3)
