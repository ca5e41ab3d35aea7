"""Metrics on constructed vectors with known answers; protocols end to end on generated audio."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from training import embed_cache
from training.benchmark import main as benchmark_main
from training.benchmarks.registry import get_task
from training.evaluate import EvalOptions, evaluate_task, retrieval_metrics, zero_shot_accuracy, zero_shot_map
from training.metrics import average_precision, mean_average_precision, zero_shot_probabilities
from training.probe import CannotFineTuneError, ProbeSettings, fine_tune, head_scores, train_probe

# ---- metrics with known answers ---------------------------------------------------------------


def unit(*rows):
    array = np.asarray(rows, dtype=np.float64)
    return array / np.linalg.norm(array, axis=1, keepdims=True)


def test_zero_shot_accuracy_counts_the_nearest_prompt():
    classes = np.eye(3)
    audio = unit([1, 0.1, 0], [0.2, 1, 0], [0.9, 0, 0.1], [0, 0.1, 1])
    assert zero_shot_accuracy(audio, classes, [0, 1, 0, 2]) == 1.0
    assert zero_shot_accuracy(audio, classes, [0, 1, 2, 2]) == 0.75
    assert zero_shot_accuracy(audio, classes, [1, 0, 1, 0]) == 0.0


def test_probabilities_softmax_and_sigmoid():
    audio, classes = unit([1, 0], [0, 1]), np.eye(2)
    soft = zero_shot_probabilities(audio, classes, logit_scale=10.0, multi_label=False)
    np.testing.assert_allclose(soft.sum(axis=1), 1.0)
    np.testing.assert_allclose(soft[0, 0], 1 / (1 + np.exp(-10)))
    sig = zero_shot_probabilities(audio, classes, logit_scale=10.0, multi_label=True)
    np.testing.assert_allclose(sig, [[1 / (1 + np.exp(-10)), 0.5], [0.5, 1 / (1 + np.exp(-10))]])


def test_average_precision_by_hand():
    # Ranking: hit, miss, hit, miss -> precisions 1/1 and 2/3 at the hits.
    assert average_precision([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0]) == pytest.approx((1 + 2 / 3) / 2)
    assert average_precision([0.1, 0.9], [1, 0]) == pytest.approx(0.5)
    assert np.isnan(average_precision([0.1, 0.2], [0, 0]))


def test_zero_shot_map_averages_classes_with_positives():
    classes = np.eye(2)
    audio = unit([1, 0.2], [0.3, 1], [0.8, 0.6])
    targets = np.array([[1, 0], [0, 1], [1, 1]])
    # Class 0 scores 1.0/0.29/0.8 -> clips 0, 2 ranked 1st and 2nd: AP 1. Class 1: clip 1 first, clip 2 second: AP 1.
    assert zero_shot_map(audio, classes, targets) == pytest.approx(1.0)
    targets = np.array([[0, 0], [1, 0], [0, 1]])  # class 0 positive ranked 3rd (AP 1/3), class 1 positive 2nd (AP 1/2)
    assert zero_shot_map(audio, classes, targets) == pytest.approx((1 / 3 + 1 / 2) / 2)
    assert mean_average_precision(np.array([[0.2, 0.1]]), np.array([[1, 0]])) == 1.0  # class without positive skipped


def test_retrieval_metrics_by_hand():
    audio = np.eye(3)
    # Captions 0, 1 describe clip 0, caption 2 clip 1, caption 3 clip 2.
    text = unit([1, 0.1, 0], [0.1, 0.5, 0.2], [0, 1, 0], [0.5, 0, 0.4])
    owner = [0, 0, 1, 2]
    m = retrieval_metrics(audio, text, owner)
    # text->audio rank of the right clip: caption0 1; caption1 3 (clip1 .91 > clip2 .37 > clip0 .18);
    # caption2 1; caption3 2 (clip0 .78 > clip2 .62).
    assert m["t2a_R@1"] == pytest.approx(0.5) and m["t2a_R@5"] == 1.0 and m["t2a_R@10"] == 1.0
    assert m["t2a_mAP@10"] == pytest.approx((1 + 1 / 3 + 1 + 1 / 2) / 4)
    # audio->text: clip0 ranks captions 0 (.99), 3 (.78), 1 (.18), 2 -> its captions 0, 1 at ranks 1 and 3:
    # AP (1/1 + 2/3) / 2. clip1 ranks caption2 first, clip2 ranks caption3 first: AP 1 each.
    assert m["a2t_R@1"] == 1.0
    assert m["a2t_mAP@10"] == pytest.approx(((1 + 2 / 3) / 2 + 1 + 1) / 3)
    assert m["a2t_MRR@10"] == 1.0
    with pytest.raises(ValueError, match="at least one caption"):
        retrieval_metrics(audio, text, [0, 0, 1, 1])


def test_retrieval_of_identical_vectors_is_perfect_and_shuffled_is_not():
    rng = np.random.default_rng(0)
    audio = unit(*rng.standard_normal((40, 16)))
    m = retrieval_metrics(audio, np.repeat(audio, 5, axis=0), np.repeat(np.arange(40), 5))
    assert all(value == 1.0 for value in m.values())
    m = retrieval_metrics(audio, np.repeat(audio[::-1], 5, axis=0), np.repeat(np.arange(40), 5))
    assert m["t2a_R@1"] < 0.1 and m["a2t_R@1"] < 0.1


# ---- probes -------------------------------------------------------------------------------------


def separable(n_per_class=150, classes=4, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((classes, dim)) * 3
    x = np.concatenate([centres[c] + rng.standard_normal((n_per_class, dim)) for c in range(classes)])
    y = np.repeat(np.arange(classes), n_per_class)
    return unit(*x).astype(np.float32), y


@pytest.mark.parametrize("layers", [1, 3])
def test_linear_probe_separates_separable_embeddings(layers):
    x, y = separable(seed=1)
    test_x, test_y = separable(n_per_class=20, seed=1)  # same centres (same seed), fresh noise below
    rng = np.random.default_rng(5)
    test_x = unit(*(test_x + 0.05 * rng.standard_normal(test_x.shape))).astype(np.float32)
    head = train_probe(x, y, classes=4, layers=layers, settings=ProbeSettings(epochs=30))
    assert np.mean(head_scores(head, test_x).argmax(axis=1) == test_y) >= 0.95
    untrained = train_probe(x, y, classes=4, layers=layers, settings=ProbeSettings(epochs=0))
    assert np.mean(head_scores(untrained, test_x).argmax(axis=1) == test_y) < 0.6


def test_multi_label_probe_reaches_high_map():
    x, y = separable(classes=3, seed=2)
    targets = np.eye(3)[y]
    targets[y == 2, 0] = 1  # class 2 clips also carry label 0
    head = train_probe(x, targets, classes=3, layers=1, multi_label=True)
    assert mean_average_precision(head_scores(head, x), targets) > 0.95


def test_probe_is_deterministic():
    x, y = separable(n_per_class=20, seed=3)
    a = head_scores(train_probe(x, y, 4, 3, settings=ProbeSettings(epochs=3)), x)
    b = head_scores(train_probe(x, y, 4, 3, settings=ProbeSettings(epochs=3)), x)
    np.testing.assert_array_equal(a, b)


# ---- a model with known behaviour, for the protocols ------------------------------------------

TONE_RATE, BANDS = 8000, 8
ESC_CLASSES = {"dog": 0, "chirping_birds": 1, "rain": 2}  # class -> frequency band of its tone


class ToneModel:
    """Test-only: the audio vector is the energy in 8 frequency bands, a class prompt's vector is
    its band's unit vector. Zero-shot and probes on tones must therefore be (nearly) perfect."""

    name, dim, sample_rate, window_seconds, fingerprint, logit_scale = "tone", BANDS, TONE_RATE, 0.5, "tone-test-1", 10.0

    def embed_audio(self, waves):
        spectrum = torch.fft.rfft(torch.as_tensor(waves, dtype=torch.float32)).abs()[:, :-1]
        bands = spectrum.reshape(len(spectrum), BANDS, -1).pow(2).sum(-1)
        return torch.nn.functional.normalize(bands, dim=-1)

    def embed_text(self, texts):
        rows = []
        for text in texts:
            band = next((b for c, b in ESC_CLASSES.items() if text.endswith(c.replace("_", " "))), None)
            rows.append(torch.eye(BANDS)[band] if band is not None else torch.full((BANDS,), BANDS ** -0.5))
        return torch.stack(rows)


def tone(band: int, seconds: float, rng) -> np.ndarray:
    t = np.arange(int(seconds * TONE_RATE)) / TONE_RATE
    freq = (band + 0.5) * TONE_RATE / 2 / BANDS + rng.uniform(-40, 40)
    return (0.5 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(len(t))).astype(np.float32)


def make_esc50_tones(root: Path, per_fold=2, folds=5, seconds=1.2) -> Path:
    rng = np.random.default_rng(0)
    (root / "audio").mkdir(parents=True)
    (root / "meta").mkdir()
    rows = ["filename,fold,target,category,esc10,src_file,take"]
    targets = {"dog": 0, "chirping_birds": 14, "rain": 10}
    for fold in range(1, folds + 1):
        for category, band in ESC_CLASSES.items():
            for take in "ABCDEFGH"[:per_fold]:
                name = f"{fold}-{band}{fold}-{take}-{targets[category]}.wav"
                sf.write(root / "audio" / name, tone(band, seconds, rng), TONE_RATE)
                rows.append(f"{name},{fold},{targets[category]},{category},False,{band}{fold},{take}")
    (root / "meta" / "esc50.csv").write_text("\n".join(rows) + "\n")
    return root


@pytest.mark.slow
def test_protocols_on_tones_give_the_known_answer(tmp_path):
    root = make_esc50_tones(tmp_path / "ESC-50")
    options = EvalOptions(cache_dir=tmp_path / "cache", epochs=60, batch_size=4)  # 24 clips: more steps
    run = evaluate_task(ToneModel(), get_task("esc50"), root, ("zero-shot", "probe-l1", "probe-l3"), options)
    zero = run["results"]["zero-shot"]
    assert zero == {"metric": "accuracy", "value": 1.0, "clips": 30, "failed": 0}
    for protocol in ("probe-l1", "probe-l3"):
        result = run["results"][protocol]
        assert list(result["folds"]) == ["1", "2", "3", "4", "5"]  # ESC-50's own 5 folds, each tested once
        assert result["clips"] == 30 and result["value"] >= 0.9


def test_embeddings_are_cached_per_model_and_file(tmp_path, monkeypatch):
    root = make_esc50_tones(tmp_path / "ESC-50", per_fold=1, folds=1)
    paths = [str(p) for p in sorted((root / "audio").iterdir())]
    first = embed_cache.embed_clips(ToneModel(), paths, tmp_path / "cache")
    assert len(list((tmp_path / "cache" / "tone-test-1").glob("*.npy"))) == 3

    def no_embedding(*args, **kwargs):
        raise AssertionError("cached clips must not be embedded again")

    monkeypatch.setattr("clapsearch.audio.pipeline.embed_files", no_embedding)
    again = embed_cache.embed_clips(ToneModel(), paths, tmp_path / "cache")
    np.testing.assert_array_equal(first.matrix(paths), again.matrix(paths))
    sf.write(paths[0], np.zeros(TONE_RATE, np.float32), TONE_RATE)  # an edited file is embedded afresh
    with pytest.raises(AssertionError, match="must not be embedded"):
        embed_cache.embed_clips(ToneModel(), paths, tmp_path / "cache")


def test_undecodable_clips_are_left_out_and_counted(tmp_path):
    root = make_esc50_tones(tmp_path / "ESC-50", per_fold=1, folds=2)
    broken = sorted((root / "audio").iterdir())[0]
    broken.write_bytes(b"not audio at all")
    result = evaluate_task(ToneModel(), get_task("esc50"), root, ("zero-shot",), EvalOptions(cache_dir=tmp_path / "c"))
    assert result["results"]["zero-shot"]["clips"] == 5 and result["results"]["zero-shot"]["failed"] == 1


def test_retrieval_protocol_on_clotho_layout(tmp_path):
    root = tmp_path / "clotho"
    (root / "evaluation").mkdir(parents=True)
    rng = np.random.default_rng(1)
    lines = ["file_name," + ",".join(f"caption_{i}" for i in range(1, 6))]
    for category, band in ESC_CLASSES.items():
        sf.write(root / "evaluation" / f"{category}.wav", tone(band, 1.0, rng), TONE_RATE)
        lines.append(f"{category}.wav," + ",".join([f"a sound of {category.replace('_', ' ')}"] * 5))
    (root / "clotho_captions_evaluation.csv").write_text("\n".join(lines) + "\n")
    run = evaluate_task(ToneModel(), get_task("clotho"), root, ("zero-shot",), EvalOptions(cache_dir=tmp_path / "c"))
    result = run["results"]["zero-shot"]
    assert result["clips"] == 3 and result["captions"] == 15
    assert result["metrics"]["t2a_R@1"] == 1.0 and result["metrics"]["a2t_R@1"] == 1.0


# ---- fine-tuning ------------------------------------------------------------------------------


def test_fine_tune_refuses_a_backend_without_a_module():
    with pytest.raises(CannotFineTuneError, match="cannot be fine-tuned.*probe-l1"):
        fine_tune(ToneModel(), [], np.zeros(0, np.int64), classes=2)


def test_protocols_that_cannot_run_are_reported_and_the_others_still_run(tmp_path):
    root = make_esc50_tones(tmp_path / "ESC-50", per_fold=1, folds=2)
    run = evaluate_task(ToneModel(), get_task("esc50"), root, ("zero-shot", "finetune"), EvalOptions(cache_dir=tmp_path))
    assert run["results"]["zero-shot"]["value"] == 1.0
    assert "cannot be fine-tuned" in run["results"]["finetune"]["error"]
    clotho = tmp_path / "clotho"
    (clotho / "evaluation").mkdir(parents=True)
    sf.write(clotho / "evaluation" / "a.wav", tone(0, 1.0, np.random.default_rng(0)), TONE_RATE)
    (clotho / "clotho_captions_evaluation.csv").write_text("file_name,caption_1,caption_2,caption_3,caption_4,caption_5\n"
                                                          "a.wav,dog,dog,dog,dog,dog\n")
    run = evaluate_task(ToneModel(), get_task("clotho"), clotho, ("zero-shot", "probe-l1"), EvalOptions(cache_dir=tmp_path))
    assert run["results"]["zero-shot"]["metrics"]["t2a_R@1"] == 1.0
    assert "only the zero-shot protocol" in run["results"]["probe-l1"]["error"]


def test_fine_tune_trains_the_audio_encoder_only_on_a_copy(tmp_path, tiny_text_dir):
    from tests.tiny_model import load_tiny

    model = load_tiny(tiny_text_dir)
    fixed = "audio_encoder.base.conv.0.weight"  # stands for a fixed front end (requires_grad=False)
    model.module.get_parameter(fixed).requires_grad_(False)
    root = make_esc50_tones(tmp_path / "ESC-50", per_fold=1, folds=1, seconds=1.5)
    paths = [str(p) for p in sorted((root / "audio").iterdir())]
    before = {k: v.clone() for k, v in model.module.state_dict().items()}
    audio_model, head = fine_tune(model, paths, np.array([0, 1, 2]), classes=3,
                                  settings=ProbeSettings(epochs=2, lr=1e-3, batch_size=3))
    after = model.module.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # the loaded model is untouched
    tuned = audio_model._module.state_dict()
    changed = {k for k in before if not torch.equal(before[k], tuned[k])}
    assert {k.split(".")[0] for k in changed} == {"audio_encoder"}  # text tower and temperature stay frozen
    assert "audio_encoder.projection.linear1.weight" in changed and fixed not in changed
    vectors = audio_model.embed_audio(torch.zeros(2, 16000))
    assert vectors.shape == (2, model.dim) and head_scores(head, vectors.numpy()).shape == (2, 3)


# ---- the CLI ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_benchmark_cli_on_esc50_fixture_with_the_tiny_model(tmp_path, capsys):
    root = make_esc50_tones(tmp_path / "ESC-50", per_fold=1, folds=2, seconds=1.0)
    args = ["--model", "tiny", "--task", "esc50", "--data", str(root), "--cache-dir", str(tmp_path / "c"),
            "--protocol", "zero-shot,probe-l1,finetune", "--epochs", "1", "--json"]
    assert benchmark_main(args) == 0
    (run,) = json.loads(capsys.readouterr().out)
    assert run["task"] == "esc50" and run["model"] == "tiny" and len(run["fingerprint"]) == 24
    for protocol in ("zero-shot", "probe-l1", "finetune"):
        result = run["results"][protocol]
        assert result["metric"] == "accuracy" and result["clips"] == 6 and 0.0 <= result["value"] <= 1.0
    assert list(run["results"]["finetune"]["folds"]) == ["1", "2"]

    assert benchmark_main(args[:-1]) == 0  # the table: our figure beside the paper's, with its source
    table = capsys.readouterr().out
    assert "| ESC-50 | zero-shot | accuracy |" in table and "| 82.6 | Elizalde et al. 2022" in table
    assert "| ESC-50 | probe-l1 | accuracy |" in table and "96.7" in table


@pytest.mark.slow
def test_suite_runs_present_tasks_and_writes_markdown(tmp_path, capsys):
    data_root = tmp_path / "data"
    make_esc50_tones(data_root / "ESC-50", per_fold=1, folds=2, seconds=1.0)
    (data_root / "UrbanSound8K").mkdir()  # present but broken: an error row, the rest still runs
    out = tmp_path / "results.md"
    code = benchmark_main(["--model", "tiny", "--suite", "--data-root", str(data_root), "--out", str(out),
                           "--cache-dir", str(tmp_path / "c")])
    assert code == 0
    table = out.read_text()
    assert table == capsys.readouterr().out
    lines = table.splitlines()
    assert lines[0].startswith("| task | protocol | metric | ours (%) |")
    esc = [line for line in lines if line.startswith("| ESC-50 | zero-shot | accuracy |")]
    assert len(esc) == 3  # three published zero-shot figures for ESC-50
    ours = float(esc[0].split("|")[4])
    assert 0.0 <= ours <= 100.0
    assert any(line.startswith("| UrbanSound8K | - | - | error |") and "UrbanSound8K.csv" in line for line in lines)


def test_cli_usage_errors(tmp_path, capsys):
    with pytest.raises(SystemExit):
        benchmark_main(["--task", "esc50"])
    assert benchmark_main(["--model", "tiny", "--task", "nope", "--data", str(tmp_path)]) == 2
    assert "Unknown task 'nope'" in capsys.readouterr().err
    assert benchmark_main(["--list"]) == 0
    listing = capsys.readouterr().out
    assert "| crema-d | CREMA-D | single-label | this person is feeling [class label] |" in listing
