"""Presets and `clapsearch models pull / rm` against a local hub (tests/local_hub.py) on 127.0.0.1.

The hub serves tiny models the tests build, under the real preset repository names, selected with
HF_ENDPOINT; HF_HOME is in tmp_path and downloads are switched on (HF_HUB_OFFLINE=0) only inside
the tests that pull. After a pull, indexing and querying run with every network connection refused.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket

import pytest
import torch
from click.testing import CliRunner

from clapsearch import hub
from clapsearch.cli import cli
from clapsearch.errors import ChecksumError, ModelNotDownloadedError, UnknownModelError
from clapsearch.models import load_model
from tests.local_hub import LocalHub
from tests.network import refuse_network
from tests.sound_library import make_library
from tests.test_laion import write_tiny_laion

UNFUSED = "laion/clap-htsat-unfused"


@pytest.fixture(scope="module")
def tiny_laion_dir(tmp_path_factory):
    return write_tiny_laion(tmp_path_factory.mktemp("tiny-laion") / "model", fusion=False)


@pytest.fixture
def local_hub(tmp_path, monkeypatch, tiny_laion_dir):
    """A running local hub serving the tiny LAION model as laion/clap-htsat-unfused, with downloads on."""
    from huggingface_hub import constants

    served = LocalHub()
    # A pickle beside the safetensors, as on the real repos: pull must prefer the safetensors.
    shutil.copy(tiny_laion_dir / "model.safetensors", tmp_path / "pytorch_model.bin")
    (tmp_path / "README.md").write_text("a tiny model\n")
    served.add_repo(UNFUSED, tiny_laion_dir, extra={"pytorch_model.bin": tmp_path / "pytorch_model.bin",
                                                      "README.md": tmp_path / "README.md"})
    served.start()
    monkeypatch.setenv("HF_ENDPOINT", served.url)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # huggingface_hub read the env at import
    yield served
    served.stop()


def run(*args, code=0):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


@pytest.mark.slow
def test_pull_then_index_and_query_with_the_network_refused(local_hub, tmp_path, monkeypatch):
    pulled = json.loads(run("models", "pull", "laion-unfused", "--json").stdout)
    files = pulled["repos"][0]["files"]
    assert "model.safetensors" in files and "pytorch_model.bin" not in files and "README.md" not in files
    assert local_hub.gets_of("pytorch_model.bin") == []
    rows = {r["name"]: r for r in json.loads(run("models", "--json").stdout)}
    assert rows["laion-unfused"]["downloaded"] is True and rows["laion-general"]["downloaded"] is False
    assert rows["laion-unfused"]["disk_bytes"] > 1_000_000

    refuse_network(monkeypatch)  # as with no network at all
    make_library(tmp_path / "lib", names=["tones/a440.wav", "sweeps/up.wav"])
    db = tmp_path / "laion.db"
    run("index", tmp_path / "lib", "--db", db, "--model", "laion-unfused")
    hits = json.loads(run("query", "a rising tone", "--db", db, "--json").stdout)
    assert {h["path"].rsplit("/", 1)[1] for h in hits} == {"a440.wav", "up.wav"}
    assert json.loads(run("info", "--db", db, "--json").stdout)["model"] == "laion-unfused"


def test_preset_and_hub_id_load_the_same_weights(local_hub):
    hub.pull("laion-unfused", progress=False)
    by_preset = load_model("laion-unfused", device="cpu")
    by_id = load_model(f"hf:{UNFUSED}", device="cpu")
    assert by_preset.name == "laion-unfused" and by_id.name == f"hf:{UNFUSED}"
    assert by_preset.fingerprint == by_id.fingerprint
    assert torch.equal(by_preset.embed_text(["a dog"]), by_id.embed_text(["a dog"]))


def test_a_dropped_connection_resumes_with_a_range_request(local_hub, tiny_laion_dir, monkeypatch):
    from huggingface_hub import constants

    # The hub client keeps what it received in whole chunks (10 MB); a 1.5 MB file needs small ones.
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", 64 * 1024)
    size = (tiny_laion_dir / "model.safetensors").stat().st_size
    local_hub.drop_once["model.safetensors"] = size // 2
    hub.pull(f"hf:{UNFUSED}", progress=False)  # verifies the sha256 of the joined file
    gets = local_hub.gets_of("model.safetensors")
    assert gets[0] is None and len(gets) == 2 and gets[1].startswith("bytes=") and int(gets[1][6:-1]) > 0
    assert hub.is_downloaded(f"hf:{UNFUSED}")


def test_a_corrupted_download_is_detected_deleted_and_fetched_again(local_hub):
    local_hub.corrupt.add("model.safetensors")
    with pytest.raises(ChecksumError, match=r"model.safetensors of laion/clap-htsat-unfused is damaged \(its sha256"):
        hub.pull("laion-unfused", progress=False)
    assert not hub.is_downloaded("laion-unfused")
    with pytest.raises(ModelNotDownloadedError, match="models pull laion-unfused"):
        load_model("laion-unfused")
    local_hub.corrupt.clear()
    hub.pull("laion-unfused", progress=False)
    assert hub.is_downloaded("laion-unfused")


def test_a_missing_repo_or_an_unreachable_hub_is_one_sentence(local_hub, monkeypatch):
    result = run("models", "pull", "hf:nobody/nothing", code=1)
    assert result.stderr.strip() == (f"Error: There is no model repository nobody/nothing on the hub at {local_hub.url}; "
                                     "check the name (`clapsearch models` lists the presets).")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    message = run("models", "pull", "laion-unfused", code=1).stderr.strip()
    assert message.startswith("Error: Cannot download laion/clap-htsat-unfused from the hub at") and "\n" not in message


def test_malformed_hub_names_are_one_sentence(local_hub):
    from clapsearch.errors import CheckpointError

    assert run("models", "pull", "hf:a/b/c", code=1).stderr.strip() == (
        "Error: 'a/b/c' is not a hub repository id; give it as hf:ORG/NAME.")
    with pytest.raises(CheckpointError, match=r"hf:\./nope is neither a directory nor a hub id"):
        load_model("hf:./nope")


def test_rm_frees_the_files(local_hub):
    hub.pull("laion-unfused", progress=False)
    result = json.loads(run("models", "rm", "laion-unfused", "--json").stdout)
    assert "laion/clap-htsat-unfused/model.safetensors" in result["removed"] and result["bytes"] > 1_000_000
    assert not hub.is_downloaded("laion-unfused")
    assert not os.path.exists(hub._storage_folder(UNFUSED))
    assert "nothing to remove" in run("models", "rm", "laion-unfused").stdout


def test_rm_keeps_the_files_another_downloaded_preset_shares(local_hub, tmp_path, tiny_text_dir):
    from tests.test_msclap2023 import write_tiny_gpt2

    weights = tmp_path / "msclap"
    weights.mkdir()
    for year in (2022, 2023):  # pull does not load them: any bytes serve here
        (weights / f"CLAP_weights_{year}.pth").write_bytes(bytes([year % 256]) * 4096)
    local_hub.add_repo("microsoft/msclap", weights)
    local_hub.add_repo("bert-base-uncased", tiny_text_dir)
    local_hub.add_repo("gpt2", write_tiny_gpt2(tmp_path / "gpt2"))
    for name in ("msclap-2022", "msclap-2023"):
        hub.pull(name, progress=False)
    removed = hub.remove("msclap-2022")["removed"]
    assert "microsoft/msclap/CLAP_weights_2022.pth" in removed and "bert-base-uncased/vocab.txt" in removed
    assert not any(path.startswith("gpt2/") or path.endswith("2023.pth") for path in removed)
    assert hub.is_downloaded("msclap-2023") and not hub.is_downloaded("msclap-2022")
    assert "ships with clapsearch" in run("models", "pull", "default").stdout


def test_not_downloaded_fails_at_once_with_one_sentence_and_no_hub_output(no_network, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty"))
    caplog.set_level(logging.DEBUG, logger="huggingface_hub")
    for name in ("laion-general", "msclap-2023", f"hf:{UNFUSED}"):
        with pytest.raises(ModelNotDownloadedError) as caught:
            load_model(name)
        assert str(caught.value) == f"The model {name} is not downloaded; run `clapsearch models pull {name}` once with network."
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.parametrize("typo, suggestion", [("defualt", "default"), ("laion-generl", "laion-general"),
                                              ("msclap2023", "msclap-2023"), ("laion-unfussed", "laion-unfused")])
def test_unknown_names_get_did_you_mean(typo, suggestion):
    with pytest.raises(UnknownModelError, match=f"did you mean {suggestion}\\?"):
        load_model(typo)
    with pytest.raises(UnknownModelError, match="did you mean laion-general"):
        hub.pull("laion-genral")


def test_models_lists_presets_and_forms_apart():
    out = run("models").stdout
    names_block, forms_block = out.split("Forms (--model FORM):")
    for preset in hub.PRESETS:
        assert f"  {preset} " in names_block
    for form in ("hf:ID_OR_DIR", "msclap-2022:PATH", "msclap-2023:PATH", "DIR"):
        assert f"  {form} " in forms_block and f"  {form} " not in names_block
    assert "PATH" not in names_block


@pytest.fixture(scope="module")
def ms_2022_checkpoint(tmp_path_factory, tiny_text_dir):
    """A random 2022 module (full CNN14, the tiny test BERT) saved in the MS layout, as test_msclap does."""
    from clapsearch.models.clap import Clap
    from clapsearch.models.msclap import config_2022

    torch.manual_seed(3)
    module = Clap(config_2022(str(tiny_text_dir)), load_pretrained_text=False).eval()
    folder = tmp_path_factory.mktemp("msclap")
    torch.save({"model": {"module." + k: v for k, v in module.state_dict().items()}, "epoch": 3},
               folder / "CLAP_weights_2022.pth")
    return folder, module


@pytest.mark.slow
def test_msclap_2022_pulls_checkpoint_and_text_tokenizer_then_runs_offline(local_hub, ms_2022_checkpoint,
                                                                           tiny_text_dir, monkeypatch):
    folder, module = ms_2022_checkpoint
    local_hub.add_repo("microsoft/msclap", folder)
    local_hub.add_repo("bert-base-uncased", tiny_text_dir)  # config + vocab + weights; the weights stay there
    pulled = hub.pull("msclap-2022", progress=False)
    assert pulled["repos"][0]["files"] == ["CLAP_weights_2022.pth"]
    assert "config.json" in pulled["repos"][1]["files"] and "model.safetensors" not in pulled["repos"][1]["files"]
    refuse_network(monkeypatch)
    model = load_model("msclap-2022", device="cpu")
    assert (model.name, model.dim, model.window_seconds) == ("msclap-2022", 1024, 5.0)
    texts = ["a dog barking", "rain"]
    with torch.no_grad():
        expected = module.encode_text(module.tokenize(texts))
    assert torch.allclose(model.embed_text(texts), expected, atol=1e-5)
    assert hub.remove("msclap-2022")["bytes"] > 300_000_000
